// Failed sign-ins counted per account and per address over a window; past the limit, the
// next attempt is refused without checking the password, until the oldest failure ages out.
// Kept in the control database: every instance sharing it throttles together, and a restart
// forgets nothing.
import type { ControlClient } from '../../control/control-db.ts';

export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;

export class LoginThrottle {
  constructor(
    private readonly control: ControlClient,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the next attempt may run; 0 when it may run now. */
  async retryAfterSeconds(username: string, address: string | null): Promise<number> {
    const waits = await Promise.all([
      this.waitFor(accountKey(username), MAX_FAILURES_PER_ACCOUNT),
      address ? this.waitFor(addressKey(address), MAX_FAILURES_PER_ADDRESS) : 0,
    ]);
    return Math.ceil(Math.max(...waits) / 1000);
  }

  async recordFailure(username: string, address: string | null): Promise<void> {
    const at = new Date(this.now());
    const keys = [accountKey(username), ...(address ? [addressKey(address)] : [])];
    // Failures past the window count for nothing: dropped as new ones come, so a spray of
    // addresses keeps at most a window's worth of rows.
    await this.control.$transaction([
      this.control.loginFailure.deleteMany({ where: { at: { lte: new Date(at.getTime() - THROTTLE_WINDOW_MS) } } }),
      this.control.loginFailure.createMany({ data: keys.map((key) => ({ key, at })) }),
    ]);
  }

  /** A successful sign-in clears the account's count (not the address's: one good password must not unlock guessing at others). */
  async recordSuccess(username: string): Promise<void> {
    await this.control.loginFailure.deleteMany({ where: { key: accountKey(username) } });
  }

  /** How long until fewer than `limit` failures under `key` fall in the window: the limit-th newest ages out. */
  private async waitFor(key: string, limit: number): Promise<number> {
    const now = this.now();
    const recent = await this.control.loginFailure.findMany({
      where: { key, at: { gt: new Date(now - THROTTLE_WINDOW_MS) } },
      orderBy: { at: 'desc' },
      take: limit,
      select: { at: true },
    });
    if (recent.length < limit) return 0;
    return recent[limit - 1]!.at.getTime() + THROTTLE_WINDOW_MS - now;
  }
}

function accountKey(username: string): string {
  return `account:${username.toLowerCase()}`;
}

function addressKey(address: string): string {
  return `address:${address}`;
}
