// `verify ARCHIVE`: the archive's every hash, then a trial restore into a scratch database,
// as verifyBackup does; the target is not touched. Exits 1 when the report is not ok.
import type { CommandContext } from './command-context.ts';
import type { CommandOutput } from './command-output.ts';
import { EXIT } from './exit-codes.ts';
import { formatCount, formatTable } from './human-format.ts';
import { resolvePassphrase } from './resolve-passphrase.ts';

export async function verifyCommand(context: CommandContext, out: CommandOutput, options: { passphraseFile?: string }): Promise<number> {
  const { backups } = context.services;
  const backup = await backups.require(context.archiveId!);
  const passphrase = await resolvePassphrase(context, backup, { file: options.passphraseFile });
  const progress = out.progress();
  progress.update({ phase: 'VERIFYING', message: 'checking every hash, then restoring into a scratch database' });
  let report;
  try {
    report = await backups.verify(backup.id, passphrase);
    progress.update({ phase: 'DONE', message: report.ok ? 'ok' : 'problems found' });
  } finally {
    progress.end();
  }
  const table = formatTable(
    [
      ['TABLE', 'ROWS', 'RESTORED', 'MATCHES'],
      ...report.tables.map((t) => [
        t.name,
        formatCount(t.expectedRows),
        t.restoredRows === null ? '-' : formatCount(t.restoredRows),
        (t.hashMatches ?? t.valuesMatch) === null ? '-' : (t.hashMatches ?? t.valuesMatch) ? 'yes' : 'NO',
      ]),
    ],
    [1, 2],
  );
  out.result({ backup: backup.id, report }, [
    report.ok ? `${backup.fileName}: ok` : `${backup.fileName}: did not verify`,
    ...report.problems.map((problem) => `  problem: ${problem}`),
    ...report.notes.map((note) => `  note: ${note}`),
    ...(report.tables.length > 0 ? table : []),
  ]);
  return report.ok ? EXIT.ok : EXIT.failed;
}
