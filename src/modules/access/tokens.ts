// Bearer secrets: session tokens, API tokens and the setup code. Each is random, told apart by
// its prefix, and stored only as its SHA-256 (they are long enough that a fast hash is enough).
import { createHash, randomBytes } from 'node:crypto';

export type SecretKind = 'session' | 'apiToken' | 'setupCode';

const PREFIX: Record<Exclude<SecretKind, 'setupCode'>, string> = { session: 'bcps_', apiToken: 'bcpt_' };
const BASE32 = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A new session or API token: a prefix and 256 random bits. */
export function newToken(kind: 'session' | 'apiToken'): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

/** A setup code: 120 random bits in six groups of letters and digits (no 0/O, 1/I), easy to copy from a log. */
export function newSetupCode(): string {
  const bytes = randomBytes(24);
  const chars = [...bytes].map((byte) => BASE32[byte % 32]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/** What kind of secret a bearer value is, by its shape; null for anything else. */
export function secretKindOf(value: string): SecretKind | null {
  if (value.startsWith(PREFIX.session)) return 'session';
  if (value.startsWith(PREFIX.apiToken)) return 'apiToken';
  if (/^[A-Z0-9]{4}(-[A-Z0-9]{4}){5}$/.test(normalizeSetupCode(value))) return 'setupCode';
  return null;
}

/** Setup codes are typed by people: case and surrounding spaces do not matter. */
export function normalizeSetupCode(value: string): string {
  return value.trim().toUpperCase();
}

export function secretHash(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
