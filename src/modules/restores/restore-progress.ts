// A restore job and the progress events it publishes, shared by the service, the event
// bus and the GraphQL subscription.
import type { PubSub } from 'graphql-yoga';

export type RestoreStatus = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
export type RestorePhase = 'QUEUED' | 'VERIFYING' | 'SAFETY_BACKUP' | 'MIGRATING' | 'RESTORING' | 'FINISHING' | 'DONE';

export interface RestoreJob {
  id: string;
  backupId: string;
  preRestoreBackupId: string | null;
  status: RestoreStatus;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: string | null;
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

/** Whether the job has ended: the last event a subscriber gets. */
export function isFinal(progress: RestoreProgress): boolean {
  return progress.job.status === 'SUCCEEDED' || progress.job.status === 'FAILED';
}
