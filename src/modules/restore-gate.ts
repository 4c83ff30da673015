// Who holds the target: while a restore runs, nothing else may back it up or restore it.
import { RestoreInProgressError } from '../core/errors.ts';

export class RestoreGate {
  private job: string | null = null;

  /** The restore job holding the gate, or null. */
  get holder(): string | null {
    return this.job;
  }

  /** Takes the gate for a restore job, or refuses if another holds it. */
  acquire(jobId: string): void {
    if (this.job) throw new RestoreInProgressError(this.job);
    this.job = jobId;
  }

  /** Gives the gate back; a job that does not hold it changes nothing. */
  release(jobId: string): void {
    if (this.job === jobId) this.job = null;
  }

  /** Refuses work that must not overlap a restore. */
  assertFree(): void {
    if (this.job) throw new RestoreInProgressError(this.job);
  }
}
