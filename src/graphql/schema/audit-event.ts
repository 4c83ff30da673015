// GraphQL for the audit log: newest first, admins only.
import type { AuditEvent } from '../../modules/access/audit-log.ts';
import { builder } from '../builder.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../pagination.ts';
import { GraphQLError } from 'graphql';

const AuditOutcomeEnum = builder.enumType('AuditOutcome', {
  description: 'DENIED: refused for lack of credentials or role; FAILURE: allowed but it failed.',
  values: ['SUCCESS', 'FAILURE', 'DENIED'] as const,
});

const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    actor: t.exposeString('actor', {
      nullable: true,
      description: 'A username, `token:<name>`, `setup code`, or null without credentials.',
    }),
    action: t.exposeString('action', { description: 'The mutation (`deleteBackup`) or REST call (`DELETE /api/v1/backups/{id}`).' }),
    target: t.exposeString('target', { nullable: true }),
    address: t.exposeString('address', { nullable: true }),
    outcome: t.field({ type: AuditOutcomeEnum, resolve: (e) => e.outcome }),
    detail: t.exposeString('detail', { nullable: true, description: 'Why it failed or was refused.' }),
  }),
});

builder.queryField('auditLog', (t) =>
  t.connection(
    {
      type: AuditEventRef,
      authScopes: { admin: true },
      description: 'Every change and sign-in attempt, newest first (forward pagination only).',
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) throw new GraphQLError('auditLog pages forward only: use first and after');
        const first = args.first ?? DEFAULT_PAGE_SIZE;
        if (first < 0 || first > MAX_PAGE_SIZE) throw new GraphQLError(`first must be between 0 and ${MAX_PAGE_SIZE}`);
        const page = await ctx.services.audit.list({ first, after: args.after ?? null });
        return {
          totalCount: page.totalCount,
          edges: page.events.map((node) => ({ cursor: node.id, node })),
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: args.after != null,
            startCursor: page.events[0]?.id ?? null,
            endCursor: page.events.at(-1)?.id ?? null,
          },
        };
      },
    },
    { name: 'AuditEventConnection', fields: (c) => ({ totalCount: c.int({ resolve: (connection) => connection.totalCount }) }) },
    { name: 'AuditEventEdge' },
  ),
);
