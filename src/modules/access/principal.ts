// Who a request acts as, once its credentials are checked, and what each role may do.

export const ROLES = ['ADMIN', 'VIEWER'] as const;
export type Role = (typeof ROLES)[number];

export type Principal =
  | { kind: 'session'; sessionId: string; accountId: string; username: string; role: Role }
  | { kind: 'apiToken'; tokenId: string; name: string; role: Role }
  /** The setup code, while no account exists: the first-run restore and nothing else. */
  | { kind: 'setupCode' };

/** The outcome of checking a request's credentials: a principal, or why there is none. */
export interface Authentication {
  principal: Principal | null;
  /** Set when credentials were sent but are not valid (expired, revoked, mistyped). */
  problem: string | null;
}

export const ANONYMOUS: Authentication = { principal: null, problem: null };

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The name the audit log records. */
export function actorOf(principal: Principal | null): string | null {
  if (!principal) return null;
  if (principal.kind === 'session') return principal.username;
  if (principal.kind === 'apiToken') return `token:${principal.name}`;
  return 'setup code';
}

export function roleOf(principal: Principal | null): Role | null {
  return principal && principal.kind !== 'setupCode' ? principal.role : null;
}
