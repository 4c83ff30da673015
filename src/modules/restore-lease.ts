// The restore lease: one row in the control database that a restore holds from its start to
// its end, so one restore runs at a time across every instance sharing that database. As the
// scheduler's slots, the row is taken by an insert whose primary key lets one instance win.
import type { ControlClient, ControlWrite } from '../control/control-db.ts';
import { instanceGone } from '../util/instance-id.ts';

const LEASE_ID = 1;
/** The holder renews the lease this often... */
export const LEASE_HEARTBEAT_MS = 15_000;
/** ...and a lease not renewed for this long is free: its holder died or lost the database. */
export const LEASE_TTL_MS = 4 * LEASE_HEARTBEAT_MS;

export interface LeaseHolder {
  /** The instance holding it (`host~pid~tag`). */
  holder: string;
  jobId: string;
  /** Held only to settle a dead instance's job: it ends soon, so others wait for it. */
  settling: boolean;
  expiresAt: Date;
}

export class RestoreLease {
  constructor(private readonly deps: { control: ControlClient; instance: string }) {}

  /**
   * Takes the lease for `jobId`: returns null when this instance now holds it, or the live
   * holder that keeps it. A lease past its expiry, or whose holder's process is seen dead on
   * this host, is taken over by a conditional update, which only one instance can win.
   * `settling` marks a hold that only settles a dead instance's job.
   */
  async take(jobId: string, settling = false): Promise<LeaseHolder | null> {
    const { control, instance } = this.deps;
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = new Date();
      const data = {
        holder: instance,
        jobId,
        settling,
        acquiredAt: now,
        heartbeatAt: now,
        expiresAt: new Date(now.getTime() + LEASE_TTL_MS),
      };
      try {
        await control.restoreLease.create({ data: { id: LEASE_ID, ...data } });
        return null;
      } catch (error) {
        if ((error as { code?: string }).code !== 'P2002') throw error;
      }
      const row = await control.restoreLease.findUnique({ where: { id: LEASE_ID } });
      if (!row) continue; // released meanwhile: insert again
      if (isLive(row, now)) return row;
      // Still the row judged above: a renewal, or another instance taking it first, changes it.
      const stillThere = { id: LEASE_ID, holder: row.holder, jobId: row.jobId, expiresAt: row.expiresAt > now ? undefined : { lt: now } };
      const { count } = await control.restoreLease.updateMany({ where: stillThere, data });
      if (count === 1) return null;
    }
    const row = await control.restoreLease.findUnique({ where: { id: LEASE_ID } });
    return row ?? { holder: 'unknown', jobId: 'unknown', settling: false, expiresAt: new Date() };
  }

  /** The live lease, whoever holds it (this instance too); null when it is free. */
  async current(): Promise<LeaseHolder | null> {
    const row = await this.deps.control.restoreLease.findUnique({ where: { id: LEASE_ID } });
    return row && isLive(row, new Date()) ? row : null;
  }

  /** Extends this instance's lease for `jobId`; false when it no longer holds it. */
  async renew(jobId: string): Promise<boolean> {
    const now = new Date();
    const { count } = await this.deps.control.restoreLease.updateMany({
      where: { id: LEASE_ID, holder: this.deps.instance, jobId },
      data: { heartbeatAt: now, expiresAt: new Date(now.getTime() + LEASE_TTL_MS) },
    });
    return count === 1;
  }

  /** Gives the lease up, if this instance still holds it for `jobId`; with `alongside`, in one transaction with it. */
  async release(jobId: string, alongside?: ControlWrite): Promise<void> {
    const { control, instance } = this.deps;
    const drop = control.restoreLease.deleteMany({ where: { id: LEASE_ID, holder: instance, jobId } });
    await (alongside ? control.$transaction([alongside, drop]) : drop);
  }
}

/** Unexpired (by this instance's clock), and not held by a process known to be dead. */
function isLive(row: LeaseHolder, now: Date): boolean {
  return row.expiresAt > now && instanceGone(row.holder) !== true;
}
