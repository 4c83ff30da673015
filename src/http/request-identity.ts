// What a request says about who sends it: its bearer secret (Authorization header, else the
// session cookie), the client's address, and whether it came over HTTPS. Forwarded headers
// are believed only from the proxies TRUST_PROXY lists.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export const SESSION_COOKIE = 'bcp_session';

/** `Authorization: Bearer <secret>` first; else the session cookie a browser sends. */
export function bearerSecretOf(headers: IncomingHttpHeaders): string | null {
  const authorization = headers.authorization;
  if (authorization) return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] ?? authorization.trim();
  return cookieOf(headers.cookie, SESSION_COOKIE);
}

/** A graphql-ws `connectionParams.authorization`, with or without `Bearer `. */
export function secretOfConnectionParam(value: unknown): string | null {
  if (typeof value !== 'string' || !value.trim()) return null;
  return /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1] ?? value.trim();
}

/** The client's address: the socket's peer, or, from a trusted proxy, the nearest untrusted X-Forwarded-For entry. */
export function clientAddressOf(req: IncomingMessage, trustedProxies: readonly string[]): string | null {
  const peer = plainAddress(req.socket.remoteAddress ?? null);
  if (!peer || !trustedProxies.includes(peer)) return peer;
  const forwarded = String(req.headers['x-forwarded-for'] ?? '')
    .split(',')
    .map((entry) => plainAddress(entry.trim()))
    .filter((entry): entry is string => Boolean(entry));
  for (let i = forwarded.length - 1; i >= 0; i--) if (!trustedProxies.includes(forwarded[i]!)) return forwarded[i]!;
  return forwarded[0] ?? peer;
}

/** Whether the browser reached us over HTTPS (directly, or per a trusted proxy's X-Forwarded-Proto). */
export function isHttps(req: IncomingMessage, trustedProxies: readonly string[]): boolean {
  if ((req.socket as TLSSocket).encrypted) return true;
  const peer = plainAddress(req.socket.remoteAddress ?? null);
  if (!peer || !trustedProxies.includes(peer)) return false;
  return (
    String(req.headers['x-forwarded-proto'] ?? '')
      .split(',')[0]!
      .trim()
      .toLowerCase() === 'https'
  );
}

/** The session cookie: HttpOnly, SameSite=Strict, Secure over HTTPS; it lasts as long as the session can. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

function cookieOf(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** `::ffff:127.0.0.1` is 127.0.0.1. */
function plainAddress(address: string | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
