// Backups as jobs: a BackupRun row as a job, the progress events a running backup publishes,
// and a job's progress as one stream for a subscriber (progress-feed.ts).
import type { PubSub } from 'graphql-yoga';
import type { BackupKind } from '../../archive/manifest.ts';
import type { ControlClient } from '../../control/control-db.ts';
import { followProgress, isFinal, type JobStatus } from '../progress-feed.ts';

export type BackupPhase = 'QUEUED' | 'READING' | 'WRITING' | 'DONE';

export interface BackupJob {
  id: string;
  backupKind: BackupKind;
  status: JobStatus;
  /** Who asked for it (actorOf); null for the schedule and a restore's safety backup. */
  actor: string | null;
  /** What asked for it: the API, the scheduler, or a restore taking its safety copy. */
  trigger: string;
  includesMedia: boolean | null;
  encrypted: boolean | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The archive written, once it is. */
  fileName: string | null;
  sizeBytes: number | null;
  error: string | null;
}

export interface BackupProgress {
  job: BackupJob;
  phase: BackupPhase;
  table: string | null;
  tablesDone: number;
  tablesTotal: number;
  rowsDone: number;
  /** Known once every table is read. */
  rowsTotal: number | null;
  /** Row text read so far, about one byte per character. */
  bytesRead: number;
  /** Archive bytes written to the store so far. */
  bytesWritten: number;
  message: string | null;
}

/** The topics backups publish on: in process, or through Redis to every instance. */
export type BackupTopics = { backupProgress: [jobId: string, progress: BackupProgress] };
export type BackupEvents = PubSub<BackupTopics>;

type BackupRunRow = Awaited<ReturnType<ControlClient['backupRun']['findUnique']>> & {};

export function backupJobOf(row: BackupRunRow): BackupJob {
  // The column has no null: until a run starts, it holds requestedAt.
  const started = row.status !== 'PENDING' && !(row.requestedAt && row.startedAt.getTime() <= row.requestedAt.getTime());
  return {
    id: row.id,
    backupKind: row.kind as BackupKind,
    status: row.status as JobStatus,
    actor: row.actor,
    trigger: row.trigger,
    includesMedia: row.includesMedia,
    encrypted: row.encrypted,
    createdAt: row.requestedAt ?? row.startedAt,
    startedAt: started ? row.startedAt : null,
    finishedAt: row.finishedAt,
    fileName: row.fileName,
    sizeBytes: row.sizeBytes === null ? null : Number(row.sizeBytes),
    error: row.error,
  };
}

export class BackupJobs {
  private readonly latest = new Map<string, BackupProgress>();

  constructor(private readonly deps: { control: ControlClient; events: BackupEvents }) {}

  /** The job as this instance last published it, or as the control database has it; null if unknown. */
  async get(id: string): Promise<BackupJob | null> {
    const live = this.latest.get(id);
    if (live) return live.job;
    const row = await this.deps.control.backupRun.findUnique({ where: { id } });
    return row ? backupJobOf(row) : null;
  }

  /** Sends the event to every watcher; the last (a finished job) is kept only until the next read. */
  publish(progress: BackupProgress): void {
    const event = { ...progress, job: { ...progress.job } };
    if (isFinal(event)) this.latest.delete(event.job.id);
    else this.latest.set(event.job.id, event);
    this.deps.events.publish('backupProgress', event.job.id, event);
  }

  /** The job's current state first, then every event until it ends; null for an unknown job. */
  watch(id: string): Promise<AsyncGenerator<BackupProgress> | null> {
    return followProgress({
      events: this.deps.events.subscribe('backupProgress', id),
      current: async () => this.latest.get(id) ?? (await this.stored(id)),
      // A job running on another instance: its end is read from the database too.
      ended: async () => (this.latest.has(id) ? null : this.stored(id)),
    });
  }

  private async stored(id: string): Promise<BackupProgress | null> {
    const row = await this.deps.control.backupRun.findUnique({ where: { id } });
    if (!row) return null;
    const job = backupJobOf(row);
    const done = job.status === 'SUCCEEDED' || job.status === 'FAILED';
    return {
      job,
      phase: done ? 'DONE' : job.status === 'PENDING' ? 'QUEUED' : 'READING',
      table: null,
      tablesDone: 0,
      tablesTotal: 0,
      rowsDone: 0,
      rowsTotal: null,
      bytesRead: 0,
      bytesWritten: job.sizeBytes ?? 0,
      message: job.error,
    };
  }
}
