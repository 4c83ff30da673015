// Who holds the target: while a restore runs, here or on any instance sharing the control
// database (the restore lease), nothing else may back it up or restore it.
import { setTimeout as delay } from 'node:timers/promises';
import type { ControlWrite } from '../control/control-db.ts';
import { AppError, RestoreInProgressError } from '../core/errors.ts';
import { LEASE_HEARTBEAT_MS, type LeaseHolder, type RestoreLease } from './restore-lease.ts';

/** How long work waits for a settlement on another instance before it is refused after all... */
const SETTLEMENT_WAIT_MS = LEASE_HEARTBEAT_MS;
/** ...looking at the lease this often. */
const SETTLEMENT_POLL_MS = 100;

/** This instance's heartbeat had stopped for so long that another took the lease: the restore must not commit. */
export class RestoreLeaseLostError extends AppError {
  constructor(jobId: string) {
    super(`restore job ${jobId} lost its lease (the control database did not hear from this server in time); nothing was committed`);
  }
}

export class RestoreGate {
  private job: string | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  /** Set while the gate is held only to settle a dead instance's job: brief, so others wait rather than be refused. */
  private settlement: { done: Promise<void>; end: () => void } | null = null;

  constructor(private readonly lease: RestoreLease) {}

  /** The restore job holding the gate in this instance, or null. */
  get holder(): string | null {
    return this.job;
  }

  /**
   * Takes the gate and the lease for a restore job, or refuses if a restore holds either.
   * With `settling`, the job is a dead instance's, taken only to settle it. Work that finds
   * a settlement, here or on another instance, waits for it (a moment) instead of refusing.
   */
  async acquire(jobId: string, options: { settling?: boolean } = {}): Promise<void> {
    const settling = options.settling === true;
    const deadline = Date.now() + SETTLEMENT_WAIT_MS;
    for (;;) {
      if (this.settlement) await this.settled();
      if (this.job) throw new RestoreInProgressError(this.job);
      // Taken at once, before the first await: two requests to this instance cannot both pass.
      this.job = jobId;
      if (settling) {
        let end = () => {};
        const done = new Promise<void>((resolve) => (end = resolve));
        this.settlement = { done, end };
      }
      let other: LeaseHolder | null;
      try {
        other = await this.lease.take(jobId, settling);
      } catch (error) {
        this.free();
        throw error;
      }
      if (!other) break;
      this.free();
      if (settling || !other.settling || Date.now() >= deadline) throw new RestoreInProgressError(other.jobId);
      await delay(SETTLEMENT_POLL_MS);
    }
    this.heartbeat = setInterval(() => void this.lease.renew(jobId).catch(() => {}), LEASE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * Gives the gate and the lease back, the lease in one transaction with `alongside` (the
   * job's final state), so no one sees the job ended and the lease still held. A job that
   * does not hold them changes nothing. Should the lease stay (a failed write), it expires.
   */
  async release(jobId: string, alongside?: ControlWrite): Promise<void> {
    if (this.job !== jobId) return;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    try {
      await this.lease.release(jobId, alongside);
    } finally {
      this.free();
    }
  }

  private free(): void {
    this.job = null;
    this.settlement?.end();
    this.settlement = null;
  }

  /** Waits until no settlement holds the gate (one may follow another). */
  private async settled(): Promise<void> {
    while (this.settlement) await this.settlement.done;
  }

  /** Renews the lease now; throws RestoreLeaseLostError when another instance has taken it. */
  async confirm(jobId: string): Promise<void> {
    if (this.job !== jobId || !(await this.lease.renew(jobId))) throw new RestoreLeaseLostError(jobId);
  }

  /**
   * The job of a restore running here or on another instance, or null; a settlement is
   * waited for first (a moment), so work is not turned away for a job that has ended.
   */
  async busyWith(): Promise<string | null> {
    const deadline = Date.now() + SETTLEMENT_WAIT_MS;
    for (;;) {
      if (this.settlement) await this.settled();
      if (this.job) return this.job;
      const lease = await this.lease.current();
      if (!lease?.settling || Date.now() >= deadline) return lease?.jobId ?? null;
      await delay(SETTLEMENT_POLL_MS);
    }
  }

  /** Whether a restore, or a settlement, holds the target now: for gauges, which must not wait. */
  async busyNow(): Promise<boolean> {
    return this.job !== null || (await this.lease.current()) !== null;
  }

  /** Refuses work that must not overlap a restore, here or on another instance. */
  async assertFree(): Promise<void> {
    const jobId = await this.busyWith();
    if (jobId) throw new RestoreInProgressError(jobId);
  }
}
