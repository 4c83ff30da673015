// `restore ARCHIVE [--yes]`: the server's restore, run here: refused while a restore holds the
// lease (here or on a server), a safety backup first, the archive checked as it loads, progress
// followed to the end. A target database not there yet is created with the backup's migrations.
import { InvalidArchiveError } from '../core/errors.ts';
import type { RestoreProgress } from '../modules/restores/restore-progress.ts';
import { databaseState, describeDatabase } from '../target/database-state.ts';
import type { CommandContext } from './command-context.ts';
import type { CommandOutput } from './command-output.ts';
import { EXIT, NotConfirmedError } from './exit-codes.ts';
import { resolvePassphrase } from './resolve-passphrase.ts';
import { confirm } from './terminal-prompt.ts';

export interface RestoreOptions {
  yes?: boolean;
  passphraseFile?: string;
}

export async function restoreCommand(context: CommandContext, out: CommandOutput, options: RestoreOptions): Promise<number> {
  const { backups, restores, restoreGate } = context.services;
  const backup = await backups.require(context.archiveId!);
  // What the server would refuse is refused before anything is asked.
  if (!backup.summary) throw new InvalidArchiveError(backup.problem ?? 'the archive cannot be read');
  const refusal = backups.schemaRefusal(backup.summary, backup.manifest);
  if (refusal) throw refusal;
  await restoreGate.assertFree();
  const passphrase = await resolvePassphrase(context, backup, { file: options.passphraseFile });
  const location = context.target.location;
  const state = await databaseState(location);
  if (!options.yes) {
    const effect =
      state === 'present'
        ? `replaces every table of ${describeDatabase(location)} (a pre-restore backup of it is taken first)`
        : `creates ${describeDatabase(location)}, which ${state === 'missing' ? 'does not exist' : 'holds no tables'}`;
    const created = backup.createdAt.toISOString().slice(0, 19).replace('T', ' ');
    if (!(await confirm(`Restore ${backup.fileName} (${backup.kind}, ${created} UTC)? This ${effect}.`))) {
      throw new NotConfirmedError('not confirmed: nothing was restored');
    }
  }

  const job = await restores.start({ backupId: backup.id, passphrase });
  out.note(`restore job ${job.id}`);
  const progress = out.progress();
  let last: RestoreProgress | null = null;
  try {
    for await (const event of (await restores.watch(job.id))!) {
      last = event;
      progress.update({
        phase: event.phase,
        message: event.message,
        // The last table stays in the events after the load; the end shows the outcome instead.
        table: event.phase === 'RESTORING' ? event.table : null,
        tablesDone: event.tablesDone,
        tablesTotal: event.tablesTotal,
        done: event.rowsDone,
        total: event.rowsTotal,
        unit: 'rows',
      });
    }
  } finally {
    progress.end();
  }
  const ended = last!.job;
  const ok = ended.status === 'SUCCEEDED';
  out.result({ ok, targetWas: state, job: ended, message: last!.message }, [
    ok ? last!.message! : `the restore failed: ${ended.error}`,
    ...(ok && ended.error ? [`warning: ${ended.error}`] : []),
    ...(ended.preRestoreBackupId ? [`the state before is in ${ended.preRestoreBackupId}`] : []),
  ]);
  return ok ? EXIT.ok : EXIT.failed;
}
