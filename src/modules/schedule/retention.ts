// Retention: only scheduled backups expire, the oldest first, beyond `keep`. Manual, uploaded,
// pre-restore and pre-upgrade backups were made on purpose and are never deleted here.
import { NotFoundError } from '../../core/errors.ts';
import type { BackupService } from '../backups/service.ts';

export async function applyRetention(backups: Pick<BackupService, 'list' | 'delete'>, keep: number): Promise<string[]> {
  const scheduled = await backups.list({ kind: 'scheduled' }); // newest first
  const deleted: string[] = [];
  for (const backup of scheduled.slice(keep)) {
    try {
      deleted.push(await backups.delete(backup.id));
    } catch (error) {
      // Deleted meanwhile (by hand, or by another instance): already what we wanted.
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return deleted;
}
