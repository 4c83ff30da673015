// Whether a PostgreSQL server takes a connection, asked before start-up changes anything:
// one connection opened and closed, no query, so a wrong URL is one line naming the cause.
import pg from 'pg';
import type { DatabaseLocation } from './database-url.ts';

/** A firewall that drops packets is reported after this long, not waited on for minutes. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Why the location cannot be connected to, in a few words; null when it can, and for SQLite (a file). */
export async function connectionProblem(location: DatabaseLocation): Promise<string | null> {
  if (location.provider !== 'postgresql') return null;
  const client = new pg.Client({ connectionString: location.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {});
  const started = Date.now();
  try {
    await client.connect();
  } catch (error) {
    return `cannot connect to PostgreSQL at ${serverOf(location.connectionString)} ${reason(error, Date.now() - started)}`;
  }
  await client.end().catch(() => {});
  return null;
}

/** A system error by its code (ECONNREFUSED, ENOTFOUND), the server's refusal in its own words. */
function reason(error: unknown, elapsedMs: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return `(${code})`;
  if (elapsedMs >= CONNECT_TIMEOUT_MS) return `(no answer within ${CONNECT_TIMEOUT_MS / 1000} s)`;
  const message = error instanceof Error ? error.message : String(error);
  return `(${message.trim().split('\n')[0]!.slice(0, 300)})`;
}

/** Host and port as pg reads them from the URL (`?host=` names a socket folder). */
function serverOf(connectionString: string): string {
  const url = new URL(connectionString);
  const host = url.hostname || url.searchParams.get('host') || 'localhost';
  return `${host}:${url.port || url.searchParams.get('port') || '5432'}`;
}
