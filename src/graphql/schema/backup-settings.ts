// GraphQL for the backup settings: the `backupSettings` query and `updateBackupSettings`.
// Thin: SettingsService validates and stores, the Scheduler knows the next and last runs.
import { ValidationError } from '../../core/errors.ts';
import { builder } from '../builder.ts';
import { FREQUENCIES } from '../../modules/schedule/schedule.ts';
import type { LastRun } from '../../modules/schedule/scheduler.ts';
import type { BackupSettings } from '../../modules/schedule/settings-service.ts';

const BackupFrequencyEnum = builder.enumType('BackupFrequency', {
  description: 'How often scheduled backups run. EVERY_6_HOURS and EVERY_12_HOURS count from timeOfDay.',
  values: FREQUENCIES,
});

const RunStatusEnum = builder.enumType('BackupRunStatus', { values: ['RUNNING', 'SUCCEEDED', 'FAILED', 'SKIPPED'] as const });

const LastRunRef = builder.objectRef<LastRun>('BackupRunSummary').implement({
  description: 'The latest scheduled run: when it was due, how it ended, and why it failed or was skipped.',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', resolve: (run) => run.at }),
    status: t.field({ type: RunStatusEnum, resolve: (run) => run.status }),
    error: t.exposeString('error', { nullable: true }),
    fileName: t.exposeString('fileName', { nullable: true, description: 'The archive it wrote, when it succeeded.' }),
  }),
});

const BackupSettingsRef = builder.objectRef<BackupSettings>('BackupSettings').implement({
  fields: (t) => ({
    frequency: t.field({ type: BackupFrequencyEnum, resolve: (s) => s.frequency }),
    cron: t.exposeString('cron', { nullable: true, description: 'For CUSTOM: a cron expression, 5 fields, or 6 with seconds first.' }),
    timeOfDay: t.exposeString('timeOfDay', { description: '"HH:mm", 24-hour clock, in timeZone.' }),
    dayOfWeek: t.exposeInt('dayOfWeek', { description: 'For WEEKLY: 0 = Sunday to 6 = Saturday.' }),
    dayOfMonth: t.exposeInt('dayOfMonth', { description: 'For MONTHLY: 1 to 28.' }),
    timeZone: t.exposeString('timeZone', { description: "IANA time zone; the server's unless set." }),
    keep: t.exposeInt('keep', {
      description: 'How many scheduled backups are kept; manual, uploaded, pre-restore and pre-upgrade backups never expire.',
    }),
    includeMedia: t.exposeBoolean('includeMedia', { description: 'Whether scheduled backups include the media tables.' }),
    backupDir: t.exposeString('backupDir'),
    backupDirFixed: t.exposeBoolean('backupDirFixed', { description: 'BACKUP_DIR is set: it wins and backupDir cannot be changed here.' }),
    passphraseSet: t.exposeBoolean('passphraseSet', { description: 'Whether scheduled backups are encrypted with a saved passphrase.' }),
    nextRunAt: t.field({ type: 'DateTime', nullable: true, resolve: (_s, _args, ctx) => ctx.services.scheduler.nextRunAt() }),
    lastRun: t.field({ type: LastRunRef, nullable: true, resolve: (_s, _args, ctx) => ctx.services.scheduler.lastRun() }),
  }),
});

builder.queryField('backupSettings', (t) =>
  t.field({ type: BackupSettingsRef, resolve: (_root, _args, ctx) => ctx.services.settings.get() }),
);

const BackupSettingsInput = builder.inputType('BackupSettingsInput', {
  description: 'Only the fields given change.',
  fields: (t) => ({
    frequency: t.field({ type: BackupFrequencyEnum, required: false }),
    cron: t.string({ required: false }),
    timeOfDay: t.string({ required: false }),
    dayOfWeek: t.int({ required: false }),
    dayOfMonth: t.int({ required: false }),
    timeZone: t.string({ required: false, description: '"" goes back to the server\'s time zone.' }),
    keep: t.int({ required: false }),
    includeMedia: t.boolean({ required: false }),
    backupDir: t.string({
      required: false,
      description: 'An absolute path; "" goes back to the default. Refused while BACKUP_DIR is set.',
    }),
    passphrase: t.string({
      required: false,
      description: 'Write-only: scheduled backups are encrypted with it (at least 8 characters); "" clears it.',
    }),
  }),
});

const UpdateBackupSettingsPayload = builder.objectRef<{ settings: BackupSettings }>('UpdateBackupSettingsPayload').implement({
  fields: (t) => ({ settings: t.field({ type: BackupSettingsRef, resolve: (p) => p.settings }) }),
});

builder.mutationField('updateBackupSettings', (t) =>
  t.field({
    type: UpdateBackupSettingsPayload,
    description: 'Changes the backup settings; a new schedule takes effect at once.',
    args: { input: t.arg({ type: BackupSettingsInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'UpdateBackupSettingsResult' } },
    resolve: async (_root, { input }, ctx) => ({ settings: await ctx.services.settings.update(input) }),
  }),
);
