// Abuse limits on GraphQL documents (GraphQL Armor), checked at parse and validation, before
// any resolver runs, for HTTP and websocket operations alike. Each limit leaves several times
// the room of the largest operation in test/operations, the README and GraphiQL's introspection.
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';

export const GRAPHQL_LIMITS = {
  /** Lexer tokens per document; GraphiQL's introspection query, the largest, has under 200. */
  maxTokens: 1000,
  /** Nesting, inline fragments counting as a level; a mutation's payload reaches 7. Introspection's
   * own nesting is left to graphql-js's MaxIntrospectionDepthRule. */
  maxDepth: 12,
  /** No operation needs aliases; a few leave room for a client that batches. */
  maxAliases: 15,
  maxDirectives: 10,
  /** GraphQL Armor's weighted field count; the README's Backups query costs under 500. */
  maxCost: 5000,
} as const;

/** Every limit a document exceeds is reported, not only the first checked (cost grows with depth). */
const reportAll = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export function useGraphQLLimits() {
  return EnvelopArmorPlugin({
    maxTokens: { n: GRAPHQL_LIMITS.maxTokens },
    maxDepth: { n: GRAPHQL_LIMITS.maxDepth, ...reportAll },
    maxAliases: { n: GRAPHQL_LIMITS.maxAliases, ...reportAll },
    maxDirectives: { n: GRAPHQL_LIMITS.maxDirectives, ...reportAll },
    costLimit: { maxCost: GRAPHQL_LIMITS.maxCost, ...reportAll },
    // Introspection is open, so a field-name suggestion reveals nothing; GraphiQL users keep them.
    blockFieldSuggestion: { enabled: false },
  });
}
