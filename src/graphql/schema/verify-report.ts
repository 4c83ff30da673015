// GraphQL for verifyBackup: the archive check and the trial restore into a scratch database, as a report.
import type { VerifyReport, TableVerification } from '../../engine/verify-backup.ts';
import { InvalidArchiveError, NotFoundError, ValidationError, WrongPassphraseError } from '../../core/errors.ts';
import { builder } from '../builder.ts';

const TableVerificationRef = builder.objectRef<TableVerification>('TableVerification').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    expectedRows: t.expose('expectedRows', { type: 'SafeInt' }),
    restoredRows: t.expose('restoredRows', { type: 'SafeInt', nullable: true }),
    hashMatches: t.exposeBoolean('hashMatches', { nullable: true }),
    valuesMatch: t.exposeBoolean('valuesMatch', {
      nullable: true,
      description:
        'For a backup from the other kind of database: whether the restored values are the archived ones, as this target holds them.',
    }),
  }),
});

const VerifyReportRef = builder.objectRef<VerifyReport>('VerifyReport').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    problems: t.exposeStringList('problems'),
    restored: t.exposeBoolean('restored', { description: 'Whether the rows were restored into a scratch database, not only hashed.' }),
    tables: t.field({ type: [TableVerificationRef], resolve: (r) => r.tables }),
    notes: t.exposeStringList('notes', { description: 'How the restored rows were compared, where not by their hashes.' }),
  }),
});

const VerifyBackupInput = builder.inputType('VerifyBackupInput', {
  fields: (t) => ({
    backupId: t.id({ required: true }),
    passphrase: t.string({ required: false, description: 'Needed for an encrypted backup.' }),
  }),
});

const VerifyBackupPayload = builder.objectRef<{ report: VerifyReport }>('VerifyBackupPayload').implement({
  fields: (t) => ({ report: t.field({ type: VerifyReportRef, resolve: (p) => p.report }) }),
});

builder.mutationField('verifyBackup', (t) =>
  t.field({
    type: VerifyBackupPayload,
    description:
      'Checks every hash, then restores into a scratch database and compares each table with the manifest. The target is not touched.',
    args: { input: t.arg({ type: VerifyBackupInput, required: true }) },
    errors: {
      types: [NotFoundError, ValidationError, WrongPassphraseError, InvalidArchiveError],
      union: { name: 'VerifyBackupResult' },
    },
    resolve: async (_root, { input }, ctx) => ({
      report: await ctx.services.backups.verify(String(input.backupId), input.passphrase),
    }),
  }),
);
