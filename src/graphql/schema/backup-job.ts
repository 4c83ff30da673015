// GraphQL for backups as jobs: the BackupJob type, startBackup, backupJob and live progress.
import { GraphQLError } from 'graphql';
import { InsufficientSpaceError, RestoreInProgressError, ValidationError } from '../../core/errors.ts';
import { actorOf } from '../../modules/access/principal.ts';
import type { BackupJob, BackupProgress } from '../../modules/backups/backup-jobs.ts';
import { builder } from '../builder.ts';
import { BackupKindEnum } from './backup-kind.ts';
import { JobInterface } from './job.ts';

const BackupPhaseEnum = builder.enumType('BackupPhase', { values: ['QUEUED', 'READING', 'WRITING', 'DONE'] as const });

export const BackupJobRef = builder.objectRef<BackupJob>('BackupJob').implement({
  description: 'A backup, from request to outcome: scheduled, manual (startBackup, createBackup) or a safety backup.',
  interfaces: [JobInterface],
  fields: (t) => ({
    backupKind: t.field({ type: BackupKindEnum, resolve: (job) => job.backupKind }),
    includesMedia: t.exposeBoolean('includesMedia', { nullable: true }),
    encrypted: t.exposeBoolean('encrypted', { nullable: true }),
    fileName: t.exposeString('fileName', { nullable: true, description: 'The archive, once written.' }),
  }),
});

const BackupProgressRef = builder.objectRef<BackupProgress>('BackupProgress').implement({
  fields: (t) => ({
    job: t.field({ type: BackupJobRef, resolve: (p) => p.job }),
    phase: t.field({ type: BackupPhaseEnum, resolve: (p) => p.phase }),
    table: t.exposeString('table', { nullable: true, description: 'The table last read from.' }),
    tablesDone: t.exposeInt('tablesDone'),
    tablesTotal: t.exposeInt('tablesTotal'),
    rowsDone: t.expose('rowsDone', { type: 'SafeInt' }),
    rowsTotal: t.expose('rowsTotal', { type: 'SafeInt', nullable: true, description: 'Known once every table is read.' }),
    bytesRead: t.expose('bytesRead', { type: 'SafeInt', description: 'Row text read so far (before compression).' }),
    bytesWritten: t.expose('bytesWritten', { type: 'SafeInt', description: 'Archive bytes written so far.' }),
    message: t.exposeString('message', { nullable: true }),
  }),
});

builder.queryField('backupJob', (t) =>
  t.field({
    type: BackupJobRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.backupJobs.get(String(args.id)),
  }),
);

const StartBackupInput = builder.inputType('StartBackupInput', {
  fields: (t) => ({
    includeMedia: t.boolean({ required: false, description: 'Also back up the `@backup(media)` tables. Default false.' }),
    passphrase: t.string({ required: false, description: 'Encrypt the archive with this passphrase (at least 8 characters).' }),
    note: t.string({ required: false, description: 'A note kept in the manifest, up to 500 characters.' }),
  }),
});

const StartBackupPayload = builder.objectRef<{ job: BackupJob }>('StartBackupPayload').implement({
  fields: (t) => ({ job: t.field({ type: BackupJobRef, resolve: (p) => p.job }) }),
});

builder.mutationField('startBackup', (t) =>
  t.field({
    type: StartBackupPayload,
    description: 'Starts a manual backup and returns its job at once; follow it with `backupProgress`, stop it with `cancelJob`.',
    args: { input: t.arg({ type: StartBackupInput, required: true }) },
    errors: {
      types: [ValidationError, InsufficientSpaceError, RestoreInProgressError],
      union: { name: 'StartBackupResult' },
    },
    resolve: async (_root, { input }, ctx) => ({
      job: await ctx.services.backups.start({
        kind: 'manual',
        includeMedia: input.includeMedia,
        passphrase: input.passphrase,
        note: input.note,
        trigger: 'api',
        actor: actorOf(ctx.auth.principal),
      }),
    }),
  }),
);

builder.subscriptionField('backupProgress', (t) =>
  t.field({
    type: BackupProgressRef,
    description:
      "The job's current state, then an event at each phase and table and at least every second while rows are read; the last has status SUCCEEDED or FAILED.",
    args: { jobId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const events = await ctx.services.backupJobs.watch(String(args.jobId));
      if (!events) throw new GraphQLError(`no backup job with id ${JSON.stringify(String(args.jobId))}`);
      return events;
    },
    resolve: (event) => event,
  }),
);
