// Errors no typed result covers, masked for the client, which learns only the error id that
// finds them in the server log. Yoga uses it for HTTP and websocket operations alike.
import { GraphQLError } from 'graphql';
import { logUnexpectedError } from '../core/error-log.ts';

/** A GraphQL error that was meant for the client (validation, a refused subscription) is kept; any other is logged and masked. */
export function maskUnexpectedError(error: unknown): GraphQLError {
  if (isClientError(error)) return error;
  const graphqlError = isGraphQLError(error) ? error : null;
  const path = graphqlError?.path?.join('.');
  const errorId = logUnexpectedError(path ? `graphql ${path}` : 'graphql', originalOf(error));
  const http = graphqlError?.extensions.http;
  return new GraphQLError(`Unexpected error (id ${errorId}): see the server log.`, {
    nodes: graphqlError?.nodes,
    source: graphqlError?.source,
    positions: graphqlError?.positions,
    path: graphqlError?.path,
    // `unexpected` tells Yoga to answer 500 when there is no data; it leaves it out of the response.
    extensions: { code: 'INTERNAL_SERVER_ERROR', errorId, unexpected: true, ...(http ? { http } : {}) },
  });
}

/** The error a resolver threw, out of the GraphQL errors wrapped around it. */
function originalOf(error: unknown): unknown {
  return isGraphQLError(error) && error.originalError ? originalOf(error.originalError) : error;
}

function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

function isClientError(error: unknown): error is GraphQLError {
  return isGraphQLError(error) && (error.originalError == null || isClientError(error.originalError));
}
