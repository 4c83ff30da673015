// GraphQL for restores: the job, the restoreBackup mutation, and live progress.
import { GraphQLError } from 'graphql';
import {
  InvalidArchiveError,
  NewerSchemaError,
  NotFoundError,
  RestoreInProgressError,
  ValidationError,
  WrongPassphraseError,
} from '../../core/errors.ts';
import { actorOf } from '../../modules/access/principal.ts';
import { builder } from '../builder.ts';
import { BackupRef } from './backup.ts';
import { JobInterface } from './job.ts';
import type { RestoreJob, RestoreProgress } from '../../modules/restores/restore-progress.ts';

const RestorePhaseEnum = builder.enumType('RestorePhase', {
  values: ['QUEUED', 'VERIFYING', 'SAFETY_BACKUP', 'MIGRATING', 'RESTORING', 'FINISHING', 'DONE'] as const,
});

export const RestoreJobRef = builder.objectRef<RestoreJob>('RestoreJob').implement({
  interfaces: [JobInterface],
  fields: (t) => ({
    preRestoreBackup: t.field({
      type: BackupRef,
      nullable: true,
      description: 'The safety backup of the state before the restore: the way back.',
      resolve: (job, _args, ctx) => (job.preRestoreBackupId ? ctx.services.backups.get(job.preRestoreBackupId) : null),
    }),
  }),
});

const RestoreProgressRef = builder.objectRef<RestoreProgress>('RestoreProgress').implement({
  fields: (t) => ({
    job: t.field({ type: RestoreJobRef, resolve: (p) => p.job }),
    phase: t.field({ type: RestorePhaseEnum, resolve: (p) => p.phase }),
    table: t.exposeString('table', { nullable: true }),
    tablesDone: t.exposeInt('tablesDone'),
    tablesTotal: t.exposeInt('tablesTotal'),
    rowsDone: t.expose('rowsDone', { type: 'SafeInt' }),
    rowsTotal: t.expose('rowsTotal', { type: 'SafeInt' }),
    message: t.exposeString('message', { nullable: true }),
  }),
});

builder.queryField('restoreJob', (t) =>
  t.field({
    type: RestoreJobRef,
    nullable: true,
    // Also for the setup code: on a fresh install, the first-run restore lists and restores before any account exists.
    skipTypeScopes: true,
    authScopes: { viewer: true, firstRun: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.restores.get(String(args.id)),
  }),
);

const RestoreBackupInput = builder.inputType('RestoreBackupInput', {
  fields: (t) => ({
    backupId: t.id({ required: true }),
    passphrase: t.string({ required: false, description: 'Needed for an encrypted backup; checked before the job starts.' }),
  }),
});

const RestoreBackupPayload = builder.objectRef<{ job: RestoreJob }>('RestoreBackupPayload').implement({
  fields: (t) => ({ job: t.field({ type: RestoreJobRef, resolve: (p) => p.job }) }),
});

builder.mutationField('restoreBackup', (t) =>
  t.field({
    type: RestoreBackupPayload,
    description: 'Starts a restore and returns its job at once; follow it with `restoreProgress`.',
    // Also for the setup code: on a fresh install, the first-run restore lists and restores before any account exists.
    skipTypeScopes: true,
    authScopes: { admin: true, firstRun: true },
    args: { input: t.arg({ type: RestoreBackupInput, required: true }) },
    errors: {
      types: [NotFoundError, ValidationError, WrongPassphraseError, NewerSchemaError, RestoreInProgressError, InvalidArchiveError],
      union: { name: 'RestoreBackupResult' },
    },
    resolve: async (_root, { input }, ctx) => ({
      job: await ctx.services.restores.start({
        backupId: String(input.backupId),
        passphrase: input.passphrase,
        actor: actorOf(ctx.auth.principal),
      }),
    }),
  }),
);

builder.subscriptionField('restoreProgress', (t) =>
  t.field({
    type: RestoreProgressRef,
    description:
      "The job's current state, then an event at each phase and table and at least every second while rows are written; the last has status SUCCEEDED or FAILED.",
    skipTypeScopes: true,
    authScopes: { viewer: true, firstRun: true },
    args: { jobId: t.arg.id({ required: true }) },
    subscribe: async (_root, args, ctx) => {
      const events = await ctx.services.restores.watch(String(args.jobId));
      if (!events) throw new GraphQLError(`no restore job with id ${JSON.stringify(String(args.jobId))}`);
      return events;
    },
    resolve: (event) => event,
  }),
);
