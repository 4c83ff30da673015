// Past and running jobs, backups and restores alike, newest first: what `jobs` lists.
import type { ControlClient } from '../../control/control-db.ts';
import { backupJobOf, type BackupJob, type BackupJobs } from '../backups/backup-jobs.ts';
import type { JobStatus } from '../progress-feed.ts';
import { restoreJobOf, type RestoreJob } from '../restores/restore-progress.ts';
import type { RestoreService } from '../restores/service.ts';

export type Job = BackupJob | RestoreJob;
export type JobKind = 'BACKUP' | 'RESTORE';

export function jobKindOf(job: Job): JobKind {
  return 'backupKind' in job ? 'BACKUP' : 'RESTORE';
}

/** Whether the job has ended, one way or the other. */
export function hasEnded(job: Job): boolean {
  return job.status === 'SUCCEEDED' || job.status === 'FAILED';
}

const STARTERS: Record<string, string> = {
  schedule: 'schedule',
  upgrade: 'start-up (TARGET_MIGRATE=deploy)',
  cli: 'the command-line tool',
};

/** Who started it: the account or token (a safety backup: the restore's), the schedule, start-up or the tool. */
export function startedBy(job: Job): string | null {
  if (job.actor) return job.actor;
  if (!('backupKind' in job)) return null;
  return STARTERS[job.trigger] ?? null;
}

/** From start to end, or null while it has not both. */
export function durationMs(job: Job): number | null {
  return job.startedAt && job.finishedAt ? job.finishedAt.getTime() - job.startedAt.getTime() : null;
}

export class JobHistory {
  constructor(
    private readonly deps: {
      control: ControlClient;
      backupJobs: Pick<BackupJobs, 'get'>;
      restores: Pick<RestoreService, 'get'>;
    },
  ) {}

  /**
   * The jobs recorded, newest first (the time it was asked for), of one kind and status if
   * asked; with `limit`, only that many newest, read as such from the database.
   */
  async list(filter: { kind?: JobKind | null; status?: JobStatus | null; limit?: number } = {}): Promise<Job[]> {
    const where = filter.status ? { status: filter.status } : {};
    const take = filter.limit;
    const { control } = this.deps;
    const [runs, restores] = await Promise.all([
      filter.kind === 'RESTORE'
        ? []
        : control.backupRun.findMany({
            where,
            take,
            // A backup was asked for at requestedAt; rows from before jobs have none (and are older), then startedAt.
            orderBy: [{ requestedAt: { sort: 'desc', nulls: 'last' } }, { startedAt: 'desc' }, { id: 'desc' }],
          }),
      filter.kind === 'BACKUP' ? [] : control.restoreJob.findMany({ where, take, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
    ]);
    const jobs: Job[] = [...runs.map(backupJobOf), ...restores.map(restoreJobOf)];
    jobs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1));
    return jobs.slice(0, take);
  }

  /** The job with this id, as it stands now (live when it runs here); null if unknown. */
  async get(id: string): Promise<Job | null> {
    return (await this.deps.backupJobs.get(id)) ?? (await this.deps.restores.get(id));
  }
}
