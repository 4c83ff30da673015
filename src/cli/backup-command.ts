// `backup [--media] [--passphrase-file F] [--note TEXT] [--pre-upgrade]`: a manual backup, as
// createBackup takes it, or one kept before an app upgrade (kind pre-upgrade, never expired).
import type { CommandContext } from './command-context.ts';
import type { CommandOutput } from './command-output.ts';
import { formatBytes, formatCount } from './human-format.ts';
import { summaryOf } from './list-command.ts';
import { readPassphraseFile } from './resolve-passphrase.ts';

export interface BackupOptions {
  media?: boolean;
  passphraseFile?: string;
  note?: string;
  preUpgrade?: boolean;
}

export async function backupCommand(context: CommandContext, out: CommandOutput, options: BackupOptions): Promise<void> {
  const passphrase = options.passphraseFile ? await readPassphraseFile(options.passphraseFile) : null;
  const includeMedia = options.media ?? false;
  const progress = out.progress();
  // The backup service reports no progress of its own until the archive is stored.
  progress.update({ phase: 'BACKING_UP', message: `${includeMedia ? 'every table' : 'the configuration tables'} and the target's files` });
  let written;
  try {
    written = await context.services.backups.createWithManifest({
      kind: options.preUpgrade ? 'pre-upgrade' : 'manual',
      includeMedia,
      note: options.note ?? null,
      passphrase,
      trigger: 'cli',
    });
    const rows = written.manifest.tables.reduce((sum, table) => sum + table.rows, 0);
    const tables = written.manifest.tables.length;
    progress.update({ phase: 'DONE', tablesDone: tables, tablesTotal: tables, done: rows, total: rows, unit: 'rows' });
  } finally {
    progress.end();
  }
  const { backup, manifest } = written;
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  out.result(
    {
      backup: {
        ...summaryOf(backup),
        path: `${context.services.store.location}/${backup.fileName}`,
        tables: manifest.tables.map((table) => ({ name: table.name, rows: table.rows })),
        files: manifest.files.length,
      },
    },
    [
      `${backup.fileName}: ${manifest.tables.length} table(s), ${formatCount(rows)} row(s), ${manifest.files.length} file(s), ${formatBytes(backup.sizeBytes)}${backup.encrypted ? ', encrypted' : ''}`,
      `in ${context.services.store.location}`,
    ],
  );
}
