// Which browser origins may call the server: its own, and those CORS_ORIGINS names. A
// request without an Origin header (curl, scripts) is not a browser's cross-site request.

/** True when `origin` is absent, is the server's own (its host is the request's Host), or is listed in `corsOrigins`. */
export function isAllowedOrigin(origin: string | null | undefined, host: string | undefined, corsOrigins: readonly string[]): boolean {
  if (origin == null) return true;
  if (corsOrigins.includes(origin)) return true;
  try {
    // Host carries no scheme: a TLS-terminating proxy that passes Host on still matches.
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file: pages) or garbage
  }
}

/** The origin when CORS_ORIGINS lists it: the only foreign origin a reply is made readable to. */
export function corsOriginOf(origin: string | null | undefined, corsOrigins: readonly string[]): string | null {
  return origin != null && corsOrigins.includes(origin) ? origin : null;
}
