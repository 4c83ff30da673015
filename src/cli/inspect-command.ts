// `inspect ARCHIVE`: the manifest. An encrypted archive's is inside the ciphertext: with its
// passphrase it is read there, without it the header's public metadata is shown instead.
import { ManifestReadError, readManifest } from '../archive/archive-reader.ts';
import type { Manifest } from '../archive/manifest.ts';
import { InvalidArchiveError } from '../core/errors.ts';
import type { CommandContext } from './command-context.ts';
import type { CommandOutput } from './command-output.ts';
import { formatBytes, formatCount, formatTable } from './human-format.ts';
import { resolvePassphrase } from './resolve-passphrase.ts';

export async function inspectCommand(context: CommandContext, out: CommandOutput, options: { passphraseFile?: string }): Promise<void> {
  const { backups } = context.services;
  const backup = await backups.require(context.archiveId!);
  let manifest = backup.manifest;
  if (backup.encrypted) {
    const passphrase = await resolvePassphrase(context, backup, { file: options.passphraseFile, optional: true });
    if (passphrase !== null) {
      const plain = await backups.access(backup, passphrase);
      manifest = await readManifest(plain.open()).catch((error: unknown) => {
        throw error instanceof ManifestReadError ? new InvalidArchiveError(error.message) : error;
      });
      const problem = plain.manifestProblem(manifest);
      if (problem) throw new InvalidArchiveError(problem);
    }
  } else if (!manifest) {
    throw new InvalidArchiveError(backup.problem ?? 'the manifest cannot be read');
  }
  const base = { backup: backup.id, sizeBytes: backup.sizeBytes, encrypted: backup.encrypted };
  if (!manifest) {
    out.result({ ...base, manifest: null, metadata: backup.summary }, [
      `${backup.fileName}: encrypted, ${formatBytes(backup.sizeBytes)}; its tables and files are inside the encryption (give --passphrase-file to see them)`,
      ...Object.entries(backup.summary ?? {}).map(([key, value]) => `  ${key}: ${JSON.stringify(value)}`),
    ]);
    return;
  }
  out.result({ ...base, manifest }, humanManifest(backup.fileName, manifest, backup.sizeBytes, backup.encrypted));
}

function humanManifest(fileName: string, manifest: Manifest, sizeBytes: number, encrypted: boolean): string[] {
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  return [
    `${fileName}: ${formatBytes(sizeBytes)}${encrypted ? ', encrypted' : ''}`,
    `  kind            ${manifest.kind}`,
    `  created         ${manifest.createdAt}`,
    `  target          ${manifest.targetName} (${manifest.provider}), made by ${manifest.generator ?? '?'} ${manifest.appVersion}`,
    `  schema version  ${manifest.schemaVersion ?? '-'} (${manifest.migrations.length} migration(s))`,
    `  media           ${manifest.includesMedia ? 'included' : `left out (${manifest.excludedTables.join(', ') || 'none'})`}`,
    ...(manifest.note ? [`  note            ${manifest.note}`] : []),
    `  format          ${manifest.formatVersion}, rows as ${manifest.encoding}`,
    `  tables          ${manifest.tables.length}, ${formatCount(rows)} row(s)`,
    ...formatTable(
      [
        ['    TABLE', 'ROWS', 'MEDIA', 'SHA-256'],
        ...manifest.tables.map((t) => [`    ${t.name}`, formatCount(t.rows), t.media ? 'yes' : 'no', t.sha256]),
      ],
      [1],
    ),
    `  files           ${manifest.files.length}`,
    ...manifest.files.map((file) => `    ${file.path}  ${formatBytes(file.size)}`),
  ];
}
