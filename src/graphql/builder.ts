// Configures the Pothos builder: context, scalars and plugins. Domain types live in graphql/schema/.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, Kind } from 'graphql';
import { roleOf } from '../modules/access/principal.ts';
import type { Context } from './context.ts';
import { refusalFor } from './refusal.ts';
import { StagedUpload } from './streaming-uploads.ts';

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    SafeInt: { Input: number; Output: number };
    File: { Input: StagedUpload; Output: never };
  };
  DefaultFieldNullability: false;
  /** viewer: any account or API token; admin: the ADMIN role; firstRun: the setup code, before the first account. */
  AuthScopes: { viewer: boolean; admin: boolean; firstRun: boolean };
}>({
  // Scope auth first, so that no other plugin's wrapper runs before the check.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      viewer: roleOf(ctx.auth.principal) !== null,
      admin: roleOf(ctx.auth.principal) === 'ADMIN',
      firstRun: ctx.auth.principal?.kind === 'setupCode',
    }),
    unauthorizedError: (_parent, ctx, info) => refusalFor(ctx.auth, info.fieldName),
  },
  defaultFieldNullability: false,
  relay: { clientMutationId: 'omit', cursorType: 'String' },
  errors: { directResult: true },
});

// Every root field is guarded by its type's scopes unless it says otherwise: a field added
// without thinking about access is for viewers (queries, subscriptions) or admins (mutations).
builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { admin: true } });
builder.subscriptionType({ authScopes: { viewer: true } });

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC (e.g. 2026-11-22T03:00:00.000Z).',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => parseDate(value),
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : null),
});

builder.scalarType('SafeInt', {
  description: 'An integer exact up to 2^53 - 1 (sizes in bytes), where Int stops at 2^31 - 1.',
  serialize: (value) => value,
  parseValue: (value) => parseSafeInt(value),
  parseLiteral: (ast) => parseSafeInt(ast.kind === Kind.INT ? Number(ast.value) : null),
});

builder.scalarType('File', {
  description: 'A file sent with a GraphQL multipart request (input only).',
  serialize: () => {
    throw new GraphQLError('File is an input type');
  },
  parseValue: (value) => {
    if (value instanceof StagedUpload) return value;
    throw new GraphQLError('File must be a file part of a GraphQL multipart request');
  },
  parseLiteral: () => {
    throw new GraphQLError('File must be a file part of a GraphQL multipart request');
  },
});

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
  return date;
}

function parseSafeInt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new GraphQLError('SafeInt must be an integer up to 2^53 - 1');
  return value;
}
