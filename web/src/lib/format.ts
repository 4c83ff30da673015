// How the console writes sizes, dates and the API's enum values.
import type { BackupKind, RestorePhase } from '../generated/graphql.ts';

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const KIND_LABELS: Record<BackupKind, string> = {
  SCHEDULED: 'Scheduled',
  MANUAL: 'Manual',
  PRE_RESTORE: 'Pre-restore',
  PRE_UPGRADE: 'Pre-upgrade',
  UPLOADED: 'Uploaded',
};

export const PHASE_LABELS: Record<RestorePhase, string> = {
  QUEUED: 'Waiting to start',
  VERIFYING: 'Checking the archive',
  SAFETY_BACKUP: 'Taking a safety backup of the current data',
  MIGRATING: 'Migrating the data to this schema',
  RESTORING: 'Restoring tables',
  FINISHING: 'Finishing',
  DONE: 'Done',
};
