// Accounts, sessions and API tokens in the control database: sign-in, sign-out, the first
// account made with the setup code, and the check of a bearer secret that every request runs.
import { randomUUID } from 'node:crypto';
import type { ControlClient } from '../../control/control-db.ts';
import {
  InvalidCredentialsError,
  InvalidSetupCodeError,
  NotFoundError,
  SetupRequiredError,
  TooManyAttemptsError,
  ValidationError,
} from '../../core/errors.ts';
import { LoginThrottle } from './login-throttle.ts';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, UNKNOWN_ACCOUNT_HASH, verifyPassword } from './passwords.ts';
import { actorOf, ANONYMOUS, isRole, type Authentication, type Principal, type Role } from './principal.ts';
import { ensureSetupCode, isSetupCode, removeSetupCodeFile } from './setup-code.ts';
import { newToken, normalizeSetupCode, secretHash, secretKindOf } from './tokens.ts';

/** A session ends after this long without a request... */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** ...and after this long in any case. */
export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;
/** `lastUsedAt` is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60 * 1000;

export interface Account {
  id: string;
  username: string;
  role: Role;
  createdAt: Date;
}

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export interface SignedIn {
  token: string;
  account: Account;
  expiresAt: Date;
}

export interface AccessServiceDeps {
  control: ControlClient;
  dataDir: string;
  now?: () => number;
}

export class AccessService {
  private readonly control: ControlClient;
  private readonly now: () => number;
  private readonly throttle: LoginThrottle;
  private readonly revokedListeners = new Set<() => void>();

  constructor(private readonly deps: AccessServiceDeps) {
    this.control = deps.control;
    this.now = deps.now ?? Date.now;
    this.throttle = new LoginThrottle(deps.control, this.now);
  }

  /** At start-up: the setup code to print when there is no account yet, else null. */
  prepareSetupCode(): Promise<string | null> {
    return ensureSetupCode(this.control, this.deps.dataDir);
  }

  /** Checks a bearer secret (a session token, an API token or the setup code). */
  async authenticate(secret: string | null): Promise<Authentication> {
    if (!secret) return ANONYMOUS;
    const kind = secretKindOf(secret);
    const now = this.now();
    if (kind === 'session') {
      const session = await this.control.session.findUnique({ where: { tokenHash: secretHash(secret) }, include: { account: true } });
      if (!session) return { principal: null, problem: 'the session is not valid (logged out, or its password changed): log in again' };
      if (session.expiresAt.getTime() <= now || session.lastUsedAt.getTime() + SESSION_IDLE_MS <= now) {
        await this.control.session.deleteMany({ where: { id: session.id } });
        return { principal: null, problem: 'the session has expired: log in again' };
      }
      if (session.lastUsedAt.getTime() + TOUCH_EVERY_MS <= now) {
        await this.control.session.updateMany({ where: { id: session.id }, data: { lastUsedAt: new Date(now) } });
      }
      const role = session.account.role;
      return {
        principal: {
          kind: 'session',
          sessionId: session.id,
          accountId: session.accountId,
          username: session.account.username,
          role: asRole(role),
        },
        problem: null,
      };
    }
    if (kind === 'apiToken') {
      const token = await this.control.apiToken.findUnique({ where: { tokenHash: secretHash(secret) } });
      if (!token) return { principal: null, problem: 'the API token is not valid (revoked or mistyped)' };
      if (!token.lastUsedAt || token.lastUsedAt.getTime() + TOUCH_EVERY_MS <= now) {
        await this.control.apiToken.updateMany({ where: { id: token.id }, data: { lastUsedAt: new Date(now) } });
      }
      return { principal: { kind: 'apiToken', tokenId: token.id, name: token.name, role: asRole(token.role) }, problem: null };
    }
    if (kind === 'setupCode') {
      if (await isSetupCode(this.control, secret)) return { principal: { kind: 'setupCode' }, problem: null };
      return { principal: null, problem: new InvalidSetupCodeError().message };
    }
    return { principal: null, problem: 'the credentials are neither a session token, an API token nor a setup code' };
  }

  /** Creates the first account (an ADMIN) with the setup code, burns the code, and signs in. */
  async setupAccount(input: { username: string; password: string; setupCode: string }, address: string | null): Promise<SignedIn> {
    const username = checkUsername(input.username);
    checkNewPassword('password', input.password);
    await this.refuseWhenThrottled(username, address);
    const passwordHash = await hashPassword(input.password);
    const codeHash = secretHash(normalizeSetupCode(input.setupCode));
    const account = await this.control.$transaction(async (tx) => {
      // Deleting the row is what claims the code: of two concurrent calls, one deletes it.
      const claimed = await tx.setupCode.deleteMany({ where: { id: 1, codeHash } });
      if (claimed.count !== 1 || (await tx.account.count()) > 0) return null;
      return tx.account.create({ data: { id: randomUUID(), username, passwordHash, role: 'ADMIN' } });
    });
    if (!account) {
      await this.throttle.recordFailure(username, address);
      throw new InvalidSetupCodeError();
    }
    await removeSetupCodeFile(this.deps.dataDir);
    return this.startSession(account, address);
  }

  async login(input: { username: string; password: string }, address: string | null): Promise<SignedIn> {
    const username = input.username.trim().toLowerCase();
    await this.refuseWhenThrottled(username, address);
    const account = await this.control.account.findUnique({ where: { username } });
    if (!account && (await this.control.account.count()) === 0) throw new SetupRequiredError();
    // An unknown username costs a hash too, so the time taken does not tell which it was.
    const ok = await verifyPassword(input.password.slice(0, MAX_PASSWORD_LENGTH), account?.passwordHash ?? UNKNOWN_ACCOUNT_HASH);
    if (!account || !ok) {
      await this.throttle.recordFailure(username, address);
      throw new InvalidCredentialsError();
    }
    await this.throttle.recordSuccess(username);
    return this.startSession(account, address);
  }

  /** Ends the session the request came with. */
  async logout(principal: Principal): Promise<void> {
    const session = requireSession(principal);
    await this.control.session.deleteMany({ where: { id: session.sessionId } });
    this.revoked();
  }

  /** Ends every session of the signed-in account, this one too; returns how many ended. */
  async logoutAll(principal: Principal): Promise<number> {
    const session = requireSession(principal);
    const { count } = await this.control.session.deleteMany({ where: { accountId: session.accountId } });
    this.revoked();
    return count;
  }

  /** Sets a new password, ends every other session of the account, and returns the account. */
  async changePassword(
    principal: Principal,
    input: { currentPassword: string; newPassword: string },
    address: string | null,
  ): Promise<Account> {
    const session = requireSession(principal);
    checkNewPassword('newPassword', input.newPassword);
    await this.refuseWhenThrottled(session.username, address);
    const account = await this.control.account.findUnique({ where: { id: session.accountId } });
    if (!account) throw new NotFoundError('account', session.accountId);
    if (!(await verifyPassword(input.currentPassword.slice(0, MAX_PASSWORD_LENGTH), account.passwordHash))) {
      await this.throttle.recordFailure(session.username, address);
      throw new InvalidCredentialsError('the current password is wrong');
    }
    const passwordHash = await hashPassword(input.newPassword);
    await this.control.$transaction([
      this.control.account.update({ where: { id: account.id }, data: { passwordHash, passwordChangedAt: new Date(this.now()) } }),
      this.control.session.deleteMany({ where: { accountId: account.id, id: { not: session.sessionId } } }),
    ]);
    this.revoked();
    return toAccount(account);
  }

  async accounts(): Promise<Account[]> {
    return (await this.control.account.findMany({ orderBy: { createdAt: 'asc' } })).map(toAccount);
  }

  async createAccount(input: { username: string; password: string; role: Role }): Promise<Account> {
    const username = checkUsername(input.username);
    checkNewPassword('password', input.password);
    if (await this.control.account.findUnique({ where: { username } }))
      throw new ValidationError('username', `the username ${username} is taken`);
    const passwordHash = await hashPassword(input.password);
    return toAccount(await this.control.account.create({ data: { id: randomUUID(), username, passwordHash, role: input.role } }));
  }

  /** Deletes an account and ends its sessions; the last ADMIN cannot be deleted. */
  async deleteAccount(accountId: string): Promise<Account> {
    const account = await this.control.account.findUnique({ where: { id: accountId } });
    if (!account) throw new NotFoundError('account', accountId);
    if (account.role === 'ADMIN' && (await this.control.account.count({ where: { role: 'ADMIN' } })) === 1) {
      throw new ValidationError('accountId', 'the last ADMIN account cannot be deleted');
    }
    await this.control.account.delete({ where: { id: accountId } });
    this.revoked();
    return toAccount(account);
  }

  /** A new API token; the secret is returned here and never again. */
  async createApiToken(principal: Principal, input: { name: string; role: Role }): Promise<{ token: string; apiToken: ApiToken }> {
    const name = input.name.trim();
    if (!/^[\p{L}\p{N} ._@:-]{1,64}$/u.test(name))
      throw new ValidationError('name', 'a token name is 1 to 64 letters, digits, spaces or . _ @ : -');
    const token = newToken('apiToken');
    const row = await this.control.apiToken.create({
      data: { id: randomUUID(), name, tokenHash: secretHash(token), role: input.role, createdBy: actorOf(principal) ?? 'unknown' },
    });
    return { token, apiToken: toApiToken(row) };
  }

  async apiTokens(): Promise<ApiToken[]> {
    return (await this.control.apiToken.findMany({ orderBy: { createdAt: 'asc' } })).map(toApiToken);
  }

  async revokeApiToken(id: string): Promise<ApiToken> {
    const row = await this.control.apiToken.findUnique({ where: { id } });
    if (!row) throw new NotFoundError('API token', id);
    await this.control.apiToken.delete({ where: { id } });
    this.revoked();
    return toApiToken(row);
  }

  /** Called after any session or token ends here, so open websockets can be checked again. */
  onRevoked(listener: () => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private revoked(): void {
    for (const listener of this.revokedListeners) listener();
  }

  private async refuseWhenThrottled(username: string, address: string | null): Promise<void> {
    const wait = await this.throttle.retryAfterSeconds(username, address);
    if (wait > 0) throw new TooManyAttemptsError(wait);
  }

  private async startSession(account: { id: string; username: string; role: string; createdAt: Date }, address: string | null) {
    const token = newToken('session');
    const now = this.now();
    const expiresAt = new Date(now + SESSION_LIFETIME_MS);
    await this.control.session.create({
      data: {
        id: randomUUID(),
        tokenHash: secretHash(token),
        accountId: account.id,
        createdAt: new Date(now),
        lastUsedAt: new Date(now),
        expiresAt,
        address,
      },
    });
    return { token, account: toAccount(account), expiresAt };
  }
}

function requireSession(principal: Principal): Extract<Principal, { kind: 'session' }> {
  if (principal.kind !== 'session')
    throw new ValidationError('credentials', 'only a signed-in session can do this; an API token is ended with revokeApiToken');
  return principal;
}

function checkUsername(value: string): string {
  const username = value.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9._@-]{0,63}$/.test(username)) {
    throw new ValidationError('username', 'a username is 1 to 64 letters, digits or . _ @ -, starting with a letter or digit');
  }
  return username;
}

function checkNewPassword(field: string, password: string): void {
  if ([...password].length < MIN_PASSWORD_LENGTH)
    throw new ValidationError(field, `a password has at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new ValidationError(field, `a password has at most ${MAX_PASSWORD_LENGTH} characters`);
}

function asRole(value: string): Role {
  // A role this version does not know gets the least power, not an error on every request.
  return isRole(value) ? value : 'VIEWER';
}

function toAccount(row: { id: string; username: string; role: string; createdAt: Date }): Account {
  return { id: row.id, username: row.username, role: asRole(row.role), createdAt: row.createdAt };
}

function toApiToken(row: {
  id: string;
  name: string;
  role: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: asRole(row.role),
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
  };
}
