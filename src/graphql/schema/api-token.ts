// GraphQL for API tokens: named, with a role, shown once, revocable. Admins only.
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import type { ApiToken } from '../../modules/access/access-service.ts';
import { builder } from '../builder.ts';
import { RoleEnum } from './account.ts';

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (token) => token.role }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.field({ type: 'DateTime', resolve: (token) => token.createdAt }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, description: 'To the minute.', resolve: (token) => token.lastUsedAt }),
  }),
});

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'What it is for, e.g. "nightly offsite copy".' }),
    role: t.field({ type: RoleEnum, required: true }),
  }),
});

const CreateApiTokenPayload = builder.objectRef<{ token: string; apiToken: ApiToken }>('CreateApiTokenPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The secret, shown this once: send it as `Authorization: Bearer`.' }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }),
  }),
});

const RevokeApiTokenInput = builder.inputType('RevokeApiTokenInput', { fields: (t) => ({ apiTokenId: t.id({ required: true }) }) });

const RevokeApiTokenPayload = builder.objectRef<{ apiToken: ApiToken }>('RevokeApiTokenPayload').implement({
  fields: (t) => ({ apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }) }),
});

builder.queryField('apiTokens', (t) =>
  t.field({ type: [ApiTokenRef], authScopes: { admin: true }, resolve: (_root, _args, ctx) => ctx.services.access.apiTokens() }),
);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenPayload,
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    errors: { types: [ValidationError], union: { name: 'CreateApiTokenResult' } },
    resolve: (_root, { input }, ctx) => ctx.services.access.createApiToken(ctx.auth.principal!, input),
  }),
  revokeApiToken: t.field({
    type: RevokeApiTokenPayload,
    description: 'Ends a token at once, its open websockets too.',
    args: { input: t.arg({ type: RevokeApiTokenInput, required: true }) },
    errors: { types: [NotFoundError], union: { name: 'RevokeApiTokenResult' } },
    resolve: async (_root, { input }, ctx) => ({ apiToken: await ctx.services.access.revokeApiToken(String(input.apiTokenId)) }),
  }),
}));
