// Subscriptions over graphql-ws on /graphql. The browser sends the session cookie with the
// upgrade; before the first account, the setup code goes in connectionParams.authorization.
import { createClient } from 'graphql-ws/client';
import type { TypedDocumentString } from '../generated/graphql.ts';

export interface Sink<R> {
  next(data: R): void;
  error(message: string): void;
  complete(): void;
}

/** Starts the subscription; the returned function ends it and closes its socket. */
export function subscribe<R, V extends Record<string, unknown>>(
  document: TypedDocumentString<R, V>,
  variables: V,
  sink: Sink<R>,
  setupCode: string | null = null,
): () => void {
  const client = createClient({
    url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`,
    connectionParams: setupCode ? { authorization: setupCode } : undefined,
    // A dropped connection is opened again; the server sends the job's current state first.
    retryAttempts: 5,
  });
  const stop = client.subscribe<R>(
    { query: document.toString(), variables },
    {
      next: (result) => {
        if (result.errors?.length) sink.error(result.errors.map((e) => e.message).join('; '));
        else if (result.data) sink.next(result.data);
      },
      error: (error) => sink.error(describe(error)),
      complete: () => sink.complete(),
    },
  );
  return () => {
    stop();
    void client.dispose();
  };
}

function describe(error: unknown): string {
  if (error instanceof CloseEvent) return error.reason || `the connection closed (code ${error.code})`;
  if (Array.isArray(error)) return error.map((e: { message?: string }) => e.message ?? String(e)).join('; ');
  if (error instanceof Error) return error.message;
  return 'the connection to the server failed';
}
