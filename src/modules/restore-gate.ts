// Who holds the target: while a restore runs, here or on any instance sharing the control
// database (the restore lease), nothing else may back it up or restore it.
import type { ControlWrite } from '../control/control-db.ts';
import { AppError, RestoreInProgressError } from '../core/errors.ts';
import { LEASE_HEARTBEAT_MS, type RestoreLease } from './restore-lease.ts';

/** This instance's heartbeat had stopped for so long that another took the lease: the restore must not commit. */
export class RestoreLeaseLostError extends AppError {
  constructor(jobId: string) {
    super(`restore job ${jobId} lost its lease (the control database did not hear from this server in time); nothing was committed`);
  }
}

export class RestoreGate {
  private job: string | null = null;
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly lease: RestoreLease) {}

  /** The restore job holding the gate in this instance, or null. */
  get holder(): string | null {
    return this.job;
  }

  /** Takes the gate and the lease for a restore job, or refuses if a restore holds either. */
  async acquire(jobId: string): Promise<void> {
    if (this.job) throw new RestoreInProgressError(this.job);
    // Taken at once, before the first await: two requests to this instance cannot both pass.
    this.job = jobId;
    try {
      const other = await this.lease.take(jobId);
      if (other) throw new RestoreInProgressError(other.jobId);
    } catch (error) {
      this.job = null;
      throw error;
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
      this.job = null;
    }
  }

  /** Renews the lease now; throws RestoreLeaseLostError when another instance has taken it. */
  async confirm(jobId: string): Promise<void> {
    if (this.job !== jobId || !(await this.lease.renew(jobId))) throw new RestoreLeaseLostError(jobId);
  }

  /** The job of a restore running here or on another instance, or null. */
  async busyWith(): Promise<string | null> {
    return this.job ?? (await this.lease.current())?.jobId ?? null;
  }

  /** Refuses work that must not overlap a restore, here or on another instance. */
  async assertFree(): Promise<void> {
    const jobId = await this.busyWith();
    if (jobId) throw new RestoreInProgressError(jobId);
  }
}
