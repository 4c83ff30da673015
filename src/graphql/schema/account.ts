// GraphQL for accounts and sessions: the first account, login and logout, passwords, and the
// accounts an admin manages. login and setupAccount are the only fields open to anyone.
import {
  InvalidCredentialsError,
  InvalidSetupCodeError,
  NotFoundError,
  SetupRequiredError,
  TooManyAttemptsError,
  ValidationError,
} from '../../core/errors.ts';
import type { Account, SignedIn } from '../../modules/access/access-service.ts';
import { ROLES, type Principal } from '../../modules/access/principal.ts';
import { builder } from '../builder.ts';
import type { Context } from '../context.ts';

export const RoleEnum = builder.enumType('Role', {
  description: 'ADMIN may do everything; VIEWER may list and watch (backups, status, progress) but not download or change anything.',
  values: ROLES,
});

export const AccountRef = builder.objectRef<Account>('Account').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    username: t.exposeString('username'),
    role: t.field({ type: RoleEnum, resolve: (a) => a.role }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
  }),
});

const Me = builder.objectRef<Principal & { kind: 'session' | 'apiToken' }>('Me').implement({
  description: 'Who the request acts as: a signed-in account, or an API token.',
  fields: (t) => ({
    username: t.string({
      nullable: true,
      description: 'Null for an API token.',
      resolve: (p) => (p.kind === 'session' ? p.username : null),
    }),
    apiTokenName: t.string({ nullable: true, resolve: (p) => (p.kind === 'apiToken' ? p.name : null) }),
    role: t.field({ type: RoleEnum, resolve: (p) => p.role }),
  }),
});

const LoginPayload = builder.objectRef<SignedIn>('LoginPayload').implement({
  description: 'A new session. Browsers also get it as an HttpOnly cookie; other clients send `token` as `Authorization: Bearer`.',
  fields: (t) => ({
    token: t.exposeString('token'),
    expiresAt: t.field({
      type: 'DateTime',
      description: 'The latest it can end; a day without use ends it sooner.',
      resolve: (p) => p.expiresAt,
    }),
    account: t.field({ type: AccountRef, resolve: (p) => p.account }),
  }),
});

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({ username: t.string({ required: true }), password: t.string({ required: true }) }),
});

const SetupAccountInput = builder.inputType('SetupAccountInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 12 characters.' }),
    setupCode: t.string({ required: true, description: 'From the start-up log or `$DATA_DIR/setup-code`.' }),
  }),
});

const ChangePasswordInput = builder.inputType('ChangePasswordInput', {
  fields: (t) => ({ currentPassword: t.string({ required: true }), newPassword: t.string({ required: true }) }),
});

const CreateAccountInput = builder.inputType('CreateAccountInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 12 characters.' }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const DeleteAccountInput = builder.inputType('DeleteAccountInput', { fields: (t) => ({ accountId: t.id({ required: true }) }) });

const LogoutPayload = builder.objectRef<{ sessionsEnded: number }>('LogoutPayload').implement({
  fields: (t) => ({ sessionsEnded: t.exposeInt('sessionsEnded') }),
});
const ChangePasswordPayload = builder.objectRef<{ account: Account }>('ChangePasswordPayload').implement({
  fields: (t) => ({ account: t.field({ type: AccountRef, resolve: (p) => p.account }) }),
});
const AccountPayload = builder.objectRef<{ account: Account }>('AccountPayload').implement({
  fields: (t) => ({ account: t.field({ type: AccountRef, resolve: (p) => p.account }) }),
});

function principalOf(ctx: Context): Principal {
  // The field's scopes admitted the request, so there is one; this only narrows the type.
  if (!ctx.auth.principal) throw new Error('no principal after the scope check');
  return ctx.auth.principal;
}

function signedIn(ctx: Context, session: SignedIn): SignedIn {
  ctx.sessionCookie.set(session.token, session.expiresAt);
  return session;
}

builder.queryFields((t) => ({
  me: t.field({
    type: Me,
    resolve: (_root, _args, ctx) => principalOf(ctx) as Principal & { kind: 'session' | 'apiToken' },
  }),
  accounts: t.field({
    type: [AccountRef],
    authScopes: { admin: true },
    resolve: (_root, _args, ctx) => ctx.services.access.accounts(),
  }),
}));

builder.mutationFields((t) => ({
  setupAccount: t.field({
    type: LoginPayload,
    description: 'Creates the first account (ADMIN) with the one-time setup code, and signs it in. Open to anyone while no account exists.',
    skipTypeScopes: true,
    args: { input: t.arg({ type: SetupAccountInput, required: true }) },
    errors: { types: [ValidationError, InvalidSetupCodeError, TooManyAttemptsError], union: { name: 'SetupAccountResult' } },
    resolve: async (_root, { input }, ctx) => signedIn(ctx, await ctx.services.access.setupAccount(input, ctx.address)),
  }),
  login: t.field({
    type: LoginPayload,
    description: 'Signs in. Open to anyone; failures are throttled per account and per address.',
    skipTypeScopes: true,
    args: { input: t.arg({ type: LoginInput, required: true }) },
    errors: { types: [InvalidCredentialsError, TooManyAttemptsError, SetupRequiredError], union: { name: 'LoginResult' } },
    resolve: async (_root, { input }, ctx) => signedIn(ctx, await ctx.services.access.login(input, ctx.address)),
  }),
  logout: t.field({
    type: LogoutPayload,
    description: 'Ends the session this request came with.',
    skipTypeScopes: true,
    authScopes: { viewer: true },
    errors: { types: [ValidationError], union: { name: 'LogoutResult' } },
    resolve: async (_root, _args, ctx) => {
      await ctx.services.access.logout(principalOf(ctx));
      ctx.sessionCookie.clear();
      return { sessionsEnded: 1 };
    },
  }),
  logoutAll: t.field({
    type: LogoutPayload,
    description: 'Ends every session of the signed-in account, on every device, this one too. API tokens stay (revokeApiToken ends those).',
    skipTypeScopes: true,
    authScopes: { viewer: true },
    errors: { types: [ValidationError], union: { name: 'LogoutAllResult' } },
    resolve: async (_root, _args, ctx) => {
      const sessionsEnded = await ctx.services.access.logoutAll(principalOf(ctx));
      ctx.sessionCookie.clear();
      return { sessionsEnded };
    },
  }),
  changePassword: t.field({
    type: ChangePasswordPayload,
    description: "Sets the signed-in account's password and ends its other sessions.",
    skipTypeScopes: true,
    authScopes: { viewer: true },
    args: { input: t.arg({ type: ChangePasswordInput, required: true }) },
    errors: {
      types: [ValidationError, InvalidCredentialsError, TooManyAttemptsError, NotFoundError],
      union: { name: 'ChangePasswordResult' },
    },
    resolve: async (_root, { input }, ctx) => ({ account: await ctx.services.access.changePassword(principalOf(ctx), input, ctx.address) }),
  }),
  createAccount: t.field({
    type: AccountPayload,
    description: 'Adds an account with a role.',
    args: { input: t.arg({ type: CreateAccountInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'CreateAccountResult' } },
    resolve: async (_root, { input }, ctx) => ({ account: await ctx.services.access.createAccount(input) }),
  }),
  deleteAccount: t.field({
    type: AccountPayload,
    description: 'Deletes an account and ends its sessions. The last ADMIN stays.',
    args: { input: t.arg({ type: DeleteAccountInput, required: true }) },
    errors: { types: [ValidationError, NotFoundError], union: { name: 'DeleteAccountResult' } },
    resolve: async (_root, { input }, ctx) => ({ account: await ctx.services.access.deleteAccount(String(input.accountId)) }),
  }),
}));
