// Failed sign-ins counted per account and per address over a window; past the limit, the
// next attempt is refused without checking the password, until the oldest failure ages out.
// Kept in memory: each instance throttles on its own, and a restart forgets.

export const THROTTLE_WINDOW_MS = 15 * 60 * 1000;
export const MAX_FAILURES_PER_ACCOUNT = 5;
export const MAX_FAILURES_PER_ADDRESS = 20;
/** Past this many keys, expired ones are swept so a spray of addresses cannot grow the map forever. */
const SWEEP_AT_KEYS = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds until the next attempt may run; 0 when it may run now. */
  retryAfterSeconds(username: string, address: string | null): number {
    const wait = Math.max(
      this.waitFor(`account:${username.toLowerCase()}`, MAX_FAILURES_PER_ACCOUNT),
      address ? this.waitFor(`address:${address}`, MAX_FAILURES_PER_ADDRESS) : 0,
    );
    return Math.ceil(wait / 1000);
  }

  recordFailure(username: string, address: string | null): void {
    if (this.failures.size > SWEEP_AT_KEYS) this.sweep();
    for (const key of [`account:${username.toLowerCase()}`, ...(address ? [`address:${address}`] : [])]) {
      const times = this.recent(key);
      times.push(this.now());
      this.failures.set(key, times);
    }
  }

  /** A successful sign-in clears the account's count (not the address's: one good password must not unlock guessing at others). */
  recordSuccess(username: string): void {
    this.failures.delete(`account:${username.toLowerCase()}`);
  }

  private waitFor(key: string, limit: number): number {
    const times = this.recent(key);
    if (times.length < limit) return 0;
    return times[times.length - limit]! + THROTTLE_WINDOW_MS - this.now();
  }

  private recent(key: string): number[] {
    const since = this.now() - THROTTLE_WINDOW_MS;
    return (this.failures.get(key) ?? []).filter((time) => time > since);
  }

  private sweep(): void {
    for (const key of [...this.failures.keys()]) if (this.recent(key).length === 0) this.failures.delete(key);
  }
}
