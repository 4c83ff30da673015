// Runs the backup schedule: one croner job built from the settings, rebuilt when they
// change. Each due time ("slot") is claimed by inserting its ScheduledRun row, whose primary
// key lets exactly one instance run it even when several share the control database.
import { Cron } from 'croner';
import type { ControlClient } from '../../control/control-db.ts';
import { RestoreInProgressError } from '../../core/errors.ts';
import { failureText, logUnexpectedError, recordFailure } from '../../core/error-log.ts';
import { childLogger } from '../../core/logger.ts';
import { TargetDatabaseMissingError } from '../../target/database-state.ts';
import { newInstanceId } from '../../util/instance-id.ts';
import type { BackupService } from '../backups/service.ts';
import type { OperationLog } from '../operation-log.ts';
import type { RestoreGate } from '../restore-gate.ts';
import type { BackupSettings, SettingsService } from './settings-service.ts';
import { applyRetention } from './retention.ts';
import { cronPattern, previousRun } from './schedule.ts';

export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED';

export interface LastRun {
  at: Date;
  status: RunStatus;
  error: string | null;
  fileName: string | null;
}

const schedulerLog = childLogger('scheduler');

/** A slot missed while the server was down runs this long after start-up. */
export const CATCH_UP_DELAY_MS = 3000;
/** A running scheduled backup refreshes its row this often... */
const HEARTBEAT_MS = 15_000;
/** ...and one silent for longer belongs to an instance that died. */
const HEARTBEAT_STALE_MS = 4 * HEARTBEAT_MS;
/** ScheduledRun rows older than this are deleted. */
const RUN_HISTORY_MS = 90 * 24 * 60 * 60 * 1000;
/** A backup recorded as running for longer than this was interrupted, not slow. */
const BACKUP_RUN_STALE_MS = 6 * 60 * 60 * 1000;

export interface SchedulerDeps {
  control: ControlClient;
  /** On SQLite this process is the only instance, so runs left RUNNING were interrupted. */
  controlProvider: 'sqlite' | 'postgresql';
  settings: SettingsService;
  backups: Pick<BackupService, 'create' | 'list' | 'delete'>;
  /** Held by a restore here, or (through the restore lease) on another instance. */
  restoreGate: RestoreGate;
  /** The instance's name in ScheduledRun rows; a new one when not given. */
  instance?: string;
  /** Records a scheduled backup that failed before the backup service was asked (BackupService records the rest). */
  operations: Pick<OperationLog, 'failed'>;
  log?: (line: string) => void;
}

export class Scheduler {
  private job: Cron | null = null;
  private catchUp: NodeJS.Timeout | null = null;
  private prune: Promise<unknown> = Promise.resolve();
  private active: Date | null = null;
  private readonly work = new Set<Promise<void>>();
  private stopped = false;
  private unsubscribe: (() => void) | null = null;
  /** Names the instance in ScheduledRun rows: host, pid and a random tag. */
  readonly instance: string;

  constructor(private readonly deps: SchedulerDeps) {
    this.instance = deps.instance ?? newInstanceId();
  }

  async start(): Promise<void> {
    const interrupted = { status: 'FAILED', error: 'interrupted: the server stopped during the backup', finishedAt: new Date() };
    if (this.deps.controlProvider === 'sqlite') {
      await this.deps.control.scheduledRun.updateMany({ where: { status: 'RUNNING' }, data: interrupted });
      await this.deps.control.backupRun.updateMany({ where: { status: { in: ['PENDING', 'RUNNING'] } }, data: interrupted });
    } else {
      // Other instances may be running theirs: only rows whose heartbeat stopped are over.
      const stale = new Date(Date.now() - HEARTBEAT_STALE_MS);
      await this.deps.control.scheduledRun.updateMany({ where: { status: 'RUNNING', heartbeatAt: { lt: stale } }, data: interrupted });
    }
    const settings = await this.deps.settings.get();
    this.apply(settings);
    await this.scheduleCatchUp(settings);
    // Changes made here, and those another instance made, which SettingsService polls for.
    this.unsubscribe = this.deps.settings.onChange((changed) => this.apply(changed));
  }

  /** Stops scheduling and waits for a backup that is running. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.catchUp) clearTimeout(this.catchUp);
    this.job?.stop();
    this.job = null;
    await Promise.allSettled([...this.work, this.prune]);
  }

  /** When the next scheduled backup is due (a pending catch-up run first); null when the schedule is off. */
  nextRunAt(): Date | null {
    if (this.catchUp) return new Date(Date.now() + CATCH_UP_DELAY_MS);
    return this.job?.nextRun() ?? null;
  }

  /** The latest slot's outcome, from any instance; null before the first. */
  async lastRun(): Promise<LastRun | null> {
    const row = await this.deps.control.scheduledRun.findFirst({ orderBy: { slot: 'desc' } });
    return row ? { at: row.slot, status: row.status as RunStatus, error: row.error, fileName: row.fileName } : null;
  }

  /**
   * Whether scheduled backups are happening, for /readyz: not when the latest scheduled run
   * failed, nor when none has succeeded within twice the schedule's interval (counted from the
   * last success, or from when the schedule was set). Ready when the schedule is off.
   */
  async readiness(): Promise<{ ready: boolean; reason: string | null }> {
    const settings = await this.deps.settings.get();
    const due = previousRun(settings);
    const before = due && previousRun(settings, due);
    if (!due || !before) return { ready: true, reason: null };
    const latest = await this.deps.control.scheduledRun.findFirst({ orderBy: { slot: 'desc' } });
    if (latest?.status === 'FAILED') {
      return { ready: false, reason: `the scheduled backup due at ${latest.slot.toISOString()} failed` };
    }
    const success = await this.deps.control.scheduledRun.findFirst({ where: { status: 'SUCCEEDED' }, orderBy: { slot: 'desc' } });
    const since = success?.slot ?? settings.updatedAt;
    const allowed = 2 * (due.getTime() - before.getTime());
    if (Date.now() - since.getTime() > allowed) {
      return { ready: false, reason: `no scheduled backup has succeeded since ${since.toISOString()}, twice the schedule's interval ago` };
    }
    return { ready: true, reason: null };
  }

  /** Replaces the croner job with one for these settings; a running backup goes on. */
  private apply(settings: BackupSettings): void {
    this.job?.stop();
    this.job = null;
    if (this.stopped) return;
    const pattern = cronPattern(settings);
    if (!pattern) return;
    this.job = new Cron(pattern, { timezone: settings.timeZone }, (job) => {
      // The slot is the due time itself, the same on every instance whatever their timers' delays.
      const slot = job.previousRuns(1, new Date(Date.now() + 1))[0] ?? new Date(Math.floor(Date.now() / 1000) * 1000);
      this.track(this.runSlot(slot));
    });
  }

  /** Anacron's rule: a due time missed while no instance ran runs once, soon, not once per missed period. */
  private async scheduleCatchUp(settings: BackupSettings): Promise<void> {
    const due = previousRun(settings);
    if (!due || due.getTime() <= settings.updatedAt.getTime()) return;
    const last = await this.deps.control.scheduledRun.findFirst({ orderBy: { slot: 'desc' } });
    if (last && last.slot.getTime() >= due.getTime()) return;
    this.log(`a scheduled backup due at ${due.toISOString()} was missed; it runs in ${CATCH_UP_DELAY_MS / 1000} s`);
    this.catchUp = setTimeout(() => {
      this.catchUp = null;
      if (!this.stopped) this.track(this.runSlot(due));
    }, CATCH_UP_DELAY_MS);
  }

  private track(promise: Promise<void>): void {
    this.work.add(promise);
    void promise.finally(() => this.work.delete(promise));
  }

  /**
   * Claims the slot and backs up. A slot that falls during a restore or another backup is
   * recorded as SKIPPED, a failed one as FAILED, and the next slot runs as usual.
   */
  private async runSlot(slot: Date): Promise<void> {
    try {
      if (!(await this.claim(slot))) return; // another instance has it
      if (this.active) {
        return await this.finish(slot, 'SKIPPED', `skipped: the scheduled backup due at ${this.active.toISOString()} was still running`);
      }
      this.active = slot;
      try {
        const busy = await this.busyReason(slot);
        if (busy) return await this.finish(slot, 'SKIPPED', `skipped: ${busy}`);
        await this.backUp(slot);
      } finally {
        this.active = null;
      }
    } catch (error) {
      logUnexpectedError(`scheduler: the scheduled backup due at ${slot.toISOString()}`, error);
    }
  }

  /** True when this instance inserted the slot's row; false when another instance already had it. */
  private async claim(slot: Date): Promise<boolean> {
    try {
      await this.deps.control.scheduledRun.create({
        data: { slot, instance: this.instance, status: 'RUNNING', startedAt: new Date(), heartbeatAt: new Date() },
      });
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') return false;
      throw error;
    }
  }

  /** Why a backup must not start now, or null. Looks at this process and, through the database, at the others. */
  private async busyReason(slot: Date): Promise<string | null> {
    const { control, restoreGate } = this.deps;
    // Here or on another instance: the lease of one that died expires with its heartbeat.
    const restore = await restoreGate.busyWith();
    if (restore) return `a restore was running (job ${restore})`;
    const now = Date.now();
    const backup = await control.backupRun.findFirst({
      where: { status: 'RUNNING', startedAt: { gt: new Date(now - BACKUP_RUN_STALE_MS) } },
    });
    if (backup) return `a ${backup.kind} backup was running`;
    const scheduled = await control.scheduledRun.findFirst({
      where: { status: 'RUNNING', slot: { not: slot }, heartbeatAt: { gt: new Date(now - HEARTBEAT_STALE_MS) } },
    });
    if (scheduled) return `the scheduled backup due at ${scheduled.slot.toISOString()} was still running`;
    return null;
  }

  private async backUp(slot: Date): Promise<void> {
    const heartbeat = setInterval(() => {
      void this.deps.control.scheduledRun.update({ where: { slot }, data: { heartbeatAt: new Date() } }).catch(() => {});
    }, HEARTBEAT_MS);
    const started = performance.now();
    let asked = false;
    try {
      // Read now, not when the job was made: the latest keep, media choice and passphrase apply.
      const settings = await this.deps.settings.get();
      const passphrase = await this.deps.settings.passphrase();
      asked = true;
      const backup = await this.deps.backups.create({
        kind: 'scheduled',
        includeMedia: settings.includeMedia,
        passphrase,
        trigger: 'schedule',
        jobId: slot.toISOString(),
      });
      let note: string | null = null;
      try {
        await applyRetention(this.deps.backups, settings.keep);
      } catch (error) {
        const problem = recordFailure('scheduler: deleting older scheduled backups', error);
        note = `the backup succeeded, but older scheduled backups could not be deleted: ${problem}`;
      }
      await this.finish(slot, 'SUCCEEDED', note, backup.fileName);
    } catch (error) {
      if (error instanceof RestoreInProgressError) return this.finish(slot, 'SKIPPED', `skipped: ${error.message}`);
      // A new machine waiting for its first restore: nothing to back up yet, and nothing broken.
      if (error instanceof TargetDatabaseMissingError) {
        this.log(`the backup due at ${slot.toISOString()} is skipped: ${error.message}`);
        return this.finish(slot, 'SKIPPED', `skipped: ${error.message}`);
      }
      if (!asked) {
        this.deps.operations.failed({ op: 'backup', kind: 'scheduled', trigger: 'schedule', jobId: slot.toISOString() }, error, started);
      }
      await this.finish(slot, 'FAILED', failureText(`scheduler: the scheduled backup due at ${slot.toISOString()}`, error));
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async finish(slot: Date, status: RunStatus, error: string | null, fileName: string | null = null): Promise<void> {
    await this.deps.control.scheduledRun.update({ where: { slot }, data: { status, error, fileName, finishedAt: new Date() } });
    // The history is for lastRun and for reading what happened lately, not an archive.
    this.prune = this.deps.control.scheduledRun
      .deleteMany({ where: { slot: { lt: new Date(Date.now() - RUN_HISTORY_MS) } } })
      .catch(() => {});
  }

  private log(line: string): void {
    (this.deps.log ?? ((text: string) => schedulerLog.info(text)))(`scheduler: ${line}`);
  }
}
