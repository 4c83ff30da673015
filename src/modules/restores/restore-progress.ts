// A restore job and the progress events it publishes, shared by the service, the event
// bus and the GraphQL subscription.
import type { PubSub } from 'graphql-yoga';
import type { ControlClient } from '../../control/control-db.ts';
import type { JobStatus } from '../progress-feed.ts';

export type RestorePhase = 'QUEUED' | 'VERIFYING' | 'SAFETY_BACKUP' | 'MIGRATING' | 'RESTORING' | 'FINISHING' | 'DONE';

export interface RestoreJob {
  id: string;
  backupId: string;
  preRestoreBackupId: string | null;
  status: JobStatus;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
  /** Who asked for it (actorOf); null when not recorded. */
  actor: string | null;
  /** The size of the archive restored, as listed when the job began. */
  sizeBytes: number | null;
}

export interface RestoreProgress {
  job: RestoreJob;
  phase: RestorePhase;
  table: string | null;
  tablesDone: number;
  tablesTotal: number;
  rowsDone: number;
  rowsTotal: number;
  message: string | null;
}

/** The topics restores publish on: in process, or through Redis to every instance. */
export type RestoreTopics = { restoreProgress: [jobId: string, progress: RestoreProgress] };
export type RestoreEvents = PubSub<RestoreTopics>;

type RestoreJobRow = Awaited<ReturnType<ControlClient['restoreJob']['findUnique']>> & {};

export function restoreJobOf(row: RestoreJobRow): RestoreJob {
  return {
    id: row.id,
    backupId: row.backupId,
    preRestoreBackupId: row.preRestoreBackupId,
    status: row.status as JobStatus,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    error: row.error,
    actor: row.actor,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
  };
}
