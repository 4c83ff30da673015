// GraphQL for jobs, backups and restores alike: the Job interface, the jobs list and cancelJob.
import { JobFinishedError, NotFoundError, TooLateToCancelError } from '../../core/errors.ts';
import { actorOf } from '../../modules/access/principal.ts';
import { durationMs, jobKindOf, startedBy, type Job } from '../../modules/jobs/job-history.ts';
import { builder } from '../builder.ts';
import { paginate } from '../pagination.ts';
import { BackupRef } from './backup.ts';

export const JobKindEnum = builder.enumType('JobKind', { values: ['BACKUP', 'RESTORE'] as const });
export const JobStatusEnum = builder.enumType('JobStatus', { values: ['PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const });

export const JobInterface = builder.interfaceRef<Job>('Job').implement({
  description: 'A backup or a restore, from request to outcome.',
  resolveType: (job) => (jobKindOf(job) === 'BACKUP' ? 'BackupJob' : 'RestoreJob'),
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.field({ type: JobKindEnum, resolve: (job) => jobKindOf(job) }),
    status: t.field({ type: JobStatusEnum, resolve: (job) => job.status }),
    startedBy: t.string({
      nullable: true,
      description:
        "The account (or `token:<name>`) that asked (for a safety backup, the restore's), `schedule`, `start-up (TARGET_MIGRATE=deploy)` or `the command-line tool`.",
      resolve: startedBy,
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was asked for.', resolve: (job) => job.createdAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.startedAt }),
    finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (job) => job.finishedAt }),
    durationMs: t.field({ type: 'SafeInt', nullable: true, resolve: durationMs }),
    sizeBytes: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'The archive written (a backup) or restored (a restore).',
      resolve: (job) => job.sizeBytes,
    }),
    error: t.exposeString('error', { nullable: true }),
    backup: t.field({
      type: BackupRef,
      nullable: true,
      description: 'The backup written (a backup, once done) or restored (a restore); null once deleted.',
      resolve: (job, _args, ctx) => {
        const id = 'backupKind' in job ? job.fileName : job.backupId;
        return id ? ctx.services.backups.get(id) : null;
      },
    }),
  }),
});

builder.queryField('jobs', (t) =>
  t.connection(
    {
      type: JobInterface,
      description: 'Every backup and restore recorded, scheduled and safety backups too, newest first.',
      args: {
        kind: t.arg({ type: JobKindEnum, required: false }),
        status: t.arg({ type: JobStatusEnum, required: false }),
      },
      resolve: async (_root, args, ctx) => paginate(await ctx.services.jobs.list({ kind: args.kind, status: args.status }), args),
    },
    { name: 'JobConnection', fields: (c) => ({ totalCount: c.int({ resolve: (connection) => connection.totalCount }) }) },
    { name: 'JobEdge' },
  ),
);

const CancelJobInput = builder.inputType('CancelJobInput', { fields: (t) => ({ jobId: t.id({ required: true }) }) });

const CancelJobPayload = builder.objectRef<{ job: Job }>('CancelJobPayload').implement({
  fields: (t) => ({ job: t.field({ type: JobInterface, resolve: (p) => p.job }) }),
});

builder.mutationField('cancelJob', (t) =>
  t.field({
    type: CancelJobPayload,
    description:
      'Stops a backup (no file is kept) or a restore before its commit (rolled back: the data is left as it was). The job ends FAILED, saying who cancelled it.',
    args: { input: t.arg({ type: CancelJobInput, required: true }) },
    errors: { types: [NotFoundError, JobFinishedError, TooLateToCancelError], union: { name: 'CancelJobResult' } },
    resolve: async (_root, { input }, ctx) => ({
      job: await ctx.services.cancellation.cancel(String(input.jobId), actorOf(ctx.auth.principal)),
    }),
  }),
);
