// GraphQL over HTTP from the console: JSON POSTs to /graphql with the session cookie, or, before
// the first account exists, with the setup code as the bearer secret.
import type { TypedDocumentString } from '../generated/graphql.ts';

/** A GraphQL error (not a typed error in a result union), with its code such as UNAUTHENTICATED or FORBIDDEN. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

interface GraphQLBody<R> {
  data?: R | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

let signedOut: (message: string) => void = () => {};

/** Called when a request meets an ended or missing session: the console shows the login page. */
export function onSignedOut(handler: (message: string) => void): void {
  signedOut = handler;
}

export async function request<R, V>(
  document: TypedDocumentString<R, V>,
  variables: V,
  options: { setupCode?: string | null } = {},
): Promise<R> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.setupCode) headers.authorization = `Bearer ${options.setupCode}`;
  let response: Response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers,
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new RequestError('The server cannot be reached: check that it is running, then try again.', 'NETWORK');
  }
  return resultOf<R>(response.status, await response.json().catch(() => null), !options.setupCode);
}

/** The data of a GraphQL response body, or the RequestError its first error gives. */
export function resultOf<R>(status: number, body: GraphQLBody<R> | null, session = true): R {
  if (!body || typeof body !== 'object') throw new RequestError(`The server answered ${status} without a GraphQL result.`, 'HTTP');
  const error = body.errors?.[0];
  if (error) {
    const code = error.extensions?.code ?? null;
    if (code === 'UNAUTHENTICATED' && session) signedOut(error.message);
    throw new RequestError(error.message, code);
  }
  if (!body.data) throw new RequestError(`The server answered ${status} without data.`, 'HTTP');
  return body.data;
}
