// Records every mutation in the audit log, whatever its outcome: wrapped around the built
// schema's Mutation fields, so a mutation added later is recorded without asking.
import { defaultFieldResolver, GraphQLError, type GraphQLSchema } from 'graphql';
import { TooManyAttemptsError } from '../core/errors.ts';
import type { AuditOutcome } from '../modules/access/audit-log.ts';
import { actorOf } from '../modules/access/principal.ts';
import type { Context } from './context.ts';

/** Input fields that name what a mutation acts on (never a password, passphrase or code). */
const TARGET_FIELDS = ['backupId', 'jobId', 'accountId', 'apiTokenId', 'webhookId', 'username', 'name'] as const;

export function auditMutations(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (root, args: Record<string, unknown>, ctx: Context, info) => {
      const record = (outcome: AuditOutcome, detail: string | null) =>
        ctx.services.audit.record({
          actor: actorOf(ctx.auth.principal) ?? attemptedUsername(args, outcome === 'SUCCESS'),
          action: info.fieldName,
          target: targetOf(args),
          address: ctx.address,
          outcome,
          detail,
        });
      try {
        const result: unknown = await resolve(root, args, ctx, info);
        const failure = typedErrorOf(result);
        if (failure) await record(failure.constructor === TooManyAttemptsError ? 'DENIED' : 'FAILURE', failure.message);
        else await record('SUCCESS', null);
        return result;
      } catch (error) {
        const code = error instanceof GraphQLError ? error.extensions.code : undefined;
        await record(code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' ? 'DENIED' : 'FAILURE', (error as Error).message);
        throw error;
      }
    };
  }
  return schema;
}

/**
 * A typed error is returned, not thrown: the errors plugin hands back a proxy of it, which is
 * not `instanceof Error` but passes its constructor and message through.
 */
function typedErrorOf(result: unknown): { constructor: unknown; message: string } | null {
  if (!result || typeof result !== 'object') return null;
  const { constructor, message } = result as { constructor?: { prototype?: unknown }; message?: unknown };
  return constructor?.prototype instanceof Error && typeof message === 'string' ? { constructor, message } : null;
}

function inputOf(args: Record<string, unknown>): Record<string, unknown> {
  return args.input && typeof args.input === 'object' ? (args.input as Record<string, unknown>) : {};
}

function targetOf(args: Record<string, unknown>): string | null {
  const input = inputOf(args);
  for (const field of TARGET_FIELDS) if (typeof input[field] === 'string') return `${field}=${String(input[field]).slice(0, 200)}`;
  const file = input.file;
  if (file instanceof File) return `file=${file.name.slice(0, 200)}`;
  // A webhook's URL by its origin only: its path or query may hold the receiver's token.
  if (typeof input.url === 'string') return `url=${originOf(input.url)}`;
  return null;
}

function originOf(url: string): string {
  try {
    return new URL(url.trim()).origin.slice(0, 200);
  } catch {
    return '(not a URL)';
  }
}

/** For login and setupAccount: the username signed in, or the one tried, marked as unverified. */
function attemptedUsername(args: Record<string, unknown>, verified: boolean): string | null {
  const username = inputOf(args).username;
  if (typeof username !== 'string') return null;
  return verified ? username.trim().toLowerCase() : `${username.slice(0, 64)} (unverified)`;
}
