// GraphQL for backups: the Backup type, its queries and the create, delete and upload mutations.
// Thin: every resolver calls BackupService.
import {
  BackupFailedError,
  InsufficientSpaceError,
  InvalidArchiveError,
  NotFoundError,
  RestoreInProgressError,
  ValidationError,
  WrongPassphraseError,
} from '../../core/errors.ts';
import { actorOf } from '../../modules/access/principal.ts';
import { builder } from '../builder.ts';
import { paginate } from '../pagination.ts';
import { downloadPath, type Backup } from '../../modules/backups/catalog.ts';
import { BackupKindEnum } from './backup-kind.ts';

const TableSummary = builder.objectRef<{ name: string; rows: number; media: boolean; sha256: string }>('BackupTable').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    rows: t.expose('rows', { type: 'SafeInt' }),
    media: t.exposeBoolean('media', { description: 'Whether the table holds media data (`@backup(media)`).' }),
    sha256: t.exposeString('sha256'),
  }),
});

const FileSummary = builder.objectRef<{ path: string; size: number; sha256: string }>('BackupFile').implement({
  fields: (t) => ({
    path: t.exposeString('path'),
    size: t.expose('size', { type: 'SafeInt' }),
    sha256: t.exposeString('sha256'),
  }),
});

const Restorability = builder.objectRef<{ ok: boolean; reason: string | null }>('Restorability').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    reason: t.exposeString('reason', {
      nullable: true,
      description: 'Why it cannot be restored, when it cannot; or what only its passphrase lets a restore check.',
    }),
  }),
});

export const BackupRef = builder.objectRef<Backup>('Backup').implement({
  description: 'An archive in the backup folder, described by its manifest.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The archive file name: stable, and the only way to address it.' }),
    fileName: t.exposeString('fileName'),
    kind: t.field({ type: BackupKindEnum, resolve: (b) => b.kind }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.createdAt }),
    sizeBytes: t.expose('sizeBytes', { type: 'SafeInt' }),
    encrypted: t.exposeBoolean('encrypted'),
    includesMedia: t.boolean({ nullable: true, resolve: (b) => b.summary?.includesMedia ?? null }),
    appVersion: t.string({ nullable: true, resolve: (b) => b.summary?.appVersion ?? null }),
    schemaVersion: t.string({ nullable: true, resolve: (b) => b.summary?.schemaVersion ?? null }),
    provider: t.string({ nullable: true, resolve: (b) => b.summary?.provider ?? null }),
    note: t.string({
      nullable: true,
      description: 'Null for an encrypted backup: the note is inside the ciphertext.',
      resolve: (b) => b.manifest?.note ?? null,
    }),
    sha256: t.string({
      description: 'SHA-256 of the whole archive file.',
      resolve: (b, _args, ctx) => ctx.services.backups.sha256(b),
    }),
    tables: t.field({
      type: [TableSummary],
      description: 'Empty for an encrypted backup until it is opened (see verifyBackup).',
      resolve: (b) => b.manifest?.tables ?? [],
    }),
    files: t.field({ type: [FileSummary], description: 'Empty for an encrypted backup.', resolve: (b) => b.manifest?.files ?? [] }),
    downloadUrl: t.string({ resolve: (b) => downloadPath(b.id) }),
    restorable: t.field({ type: Restorability, resolve: (b, _args, ctx) => ctx.services.backups.restorability(b) }),
    problem: t.string({ nullable: true, description: 'Why the manifest could not be read, if it could not.', resolve: (b) => b.problem }),
  }),
});

builder.queryFields((t) => ({
  backups: t.connection(
    {
      type: BackupRef,
      description: 'Every archive in the backup folder, newest first.',
      // Also for the setup code: on a fresh install, the first-run restore lists and restores before any account exists.
      skipTypeScopes: true,
      authScopes: { viewer: true, firstRun: true },
      args: { kind: t.arg({ type: BackupKindEnum, required: false }) },
      resolve: async (_root, args, ctx) => paginate(await ctx.services.backups.list({ kind: args.kind }), args),
    },
    {
      name: 'BackupConnection',
      fields: (c) => ({ totalCount: c.int({ resolve: (connection) => connection.totalCount }) }),
    },
    { name: 'BackupEdge' },
  ),
  backup: t.field({
    type: BackupRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.services.backups.get(String(args.id)),
  }),
}));

const CreateBackupInput = builder.inputType('CreateBackupInput', {
  fields: (t) => ({
    includeMedia: t.boolean({ required: false, description: 'Also back up the `@backup(media)` tables. Default false.' }),
    passphrase: t.string({
      required: false,
      description:
        'Encrypt the archive with this passphrase (at least 8 characters); it is needed to restore. Without it, the saved passphrase is not used: manual backups are encrypted only when asked.',
    }),
    note: t.string({ required: false, description: 'A note kept in the manifest, up to 500 characters.' }),
  }),
});

const CreateBackupPayload = builder.objectRef<{ backup: Backup }>('CreateBackupPayload').implement({
  fields: (t) => ({ backup: t.field({ type: BackupRef, resolve: (p) => p.backup }) }),
});

const DeleteBackupInput = builder.inputType('DeleteBackupInput', {
  fields: (t) => ({ backupId: t.id({ required: true }) }),
});

const DeleteBackupPayload = builder.objectRef<{ deletedId: string }>('DeleteBackupPayload').implement({
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});

builder.mutationFields((t) => ({
  createBackup: t.field({
    type: CreateBackupPayload,
    description: 'Takes a manual backup now and returns it once it is complete and listed.',
    args: { input: t.arg({ type: CreateBackupInput, required: false }) },
    errors: {
      types: [ValidationError, InsufficientSpaceError, BackupFailedError, RestoreInProgressError],
      union: { name: 'CreateBackupResult' },
    },
    resolve: async (_root, { input }, ctx) => {
      const backup = await ctx.services.backups.create({
        kind: 'manual',
        includeMedia: input?.includeMedia,
        passphrase: input?.passphrase,
        note: input?.note,
        trigger: 'api',
        actor: actorOf(ctx.auth.principal),
      });
      return { backup };
    },
  }),
  deleteBackup: t.field({
    type: DeleteBackupPayload,
    description: 'Deletes an archive from the backup folder.',
    args: { input: t.arg({ type: DeleteBackupInput, required: true }) },
    errors: { types: [NotFoundError], union: { name: 'DeleteBackupResult' } },
    resolve: async (_root, { input }, ctx) => ({ deletedId: await ctx.services.backups.delete(String(input.backupId)) }),
  }),
}));

const UploadBackupInput = builder.inputType('UploadBackupInput', {
  fields: (t) => ({
    file: t.field({ type: 'File', required: true }),
    passphrase: t.string({
      required: false,
      description:
        'For an encrypted archive: with it, everything inside is checked before the archive is stored; without it, only its header, and the restore checks the rest.',
    }),
  }),
});

const UploadBackupPayload = builder.objectRef<{ backup: Backup }>('UploadBackupPayload').implement({
  fields: (t) => ({ backup: t.field({ type: BackupRef, resolve: (p) => p.backup }) }),
});

builder.mutationField('uploadBackup', (t) =>
  t.field({
    type: UploadBackupPayload,
    description: 'Stores an archive sent as a GraphQL multipart request, as kind UPLOADED, once every check has passed.',
    args: { input: t.arg({ type: UploadBackupInput, required: true }) },
    errors: {
      types: [ValidationError, InvalidArchiveError, WrongPassphraseError, BackupFailedError],
      union: { name: 'UploadBackupResult' },
    },
    resolve: async (_root, { input }, ctx) => ({ backup: await ctx.services.backups.upload(input.file, input.passphrase) }),
  }),
);
