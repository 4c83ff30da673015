// `list`: the archives in the backup folder, newest first, with whether this target can take each back.
import type { Backup } from '../modules/backups/catalog.ts';
import { databaseState, describeDatabase } from '../target/database-state.ts';
import type { CommandContext } from './command-context.ts';
import type { CommandOutput } from './command-output.ts';
import { formatBytes, formatTable } from './human-format.ts';

export async function listCommand(context: CommandContext, out: CommandOutput): Promise<void> {
  const { backups, store } = context.services;
  const listed = await backups.list();
  const location = context.target.location;
  const state = await databaseState(location);
  const rows = listed.map((backup) => ({ ...summaryOf(backup), restorable: backups.restorability(backup) }));
  const table = formatTable(
    [
      ['NAME', 'KIND', 'CREATED (UTC)', 'SIZE', 'ENCRYPTED', 'MEDIA', 'SCHEMA VERSION', 'RESTORABLE'],
      ...rows.map((row) => [
        row.id,
        row.kind,
        row.createdAt.slice(0, 19).replace('T', ' '),
        formatBytes(row.sizeBytes),
        row.encrypted ? 'yes' : 'no',
        row.includesMedia === null ? '?' : row.includesMedia ? 'yes' : 'no',
        row.schemaVersion ?? '-',
        row.restorable.ok ? 'yes' : `no: ${row.restorable.reason}`,
      ]),
    ],
    [3],
  );
  const stateNote = state === 'present' ? '' : ` (${state === 'missing' ? 'does not exist yet' : 'holds no tables'}: a restore creates it)`;
  out.result(
    {
      backupDir: store.location,
      target: { provider: location.provider, database: describeDatabase(location), state },
      backups: rows,
    },
    [
      `${listed.length} archive(s) in ${store.location}`,
      ...(listed.length > 0 ? table : []),
      `target: ${location.provider} ${describeDatabase(location)}${stateNote}`,
    ],
  );
}

/** What the listing and `backup` show of an archive, in JSON-friendly form. */
export function summaryOf(backup: Backup) {
  return {
    id: backup.id,
    kind: backup.kind,
    createdAt: backup.createdAt.toISOString(),
    sizeBytes: backup.sizeBytes,
    encrypted: backup.encrypted,
    includesMedia: backup.summary?.includesMedia ?? null,
    provider: backup.summary?.provider ?? null,
    appVersion: backup.summary?.appVersion ?? null,
    schemaVersion: backup.summary?.schemaVersion ?? null,
    problem: backup.problem,
  };
}
