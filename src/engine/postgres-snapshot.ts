// PostgreSQL's side of a snapshot, on a connection of its own: REPEATABLE READ, READ
// ONLY gives one snapshot for every statement, and each table streams out through one
// `COPY (SELECT …) TO STDOUT` in key order, as pg_dump reads, the server writing each
// row's line (postgres-row-json.ts) while Node compresses the lines before. A second
// connection joins the same snapshot (`pg_export_snapshot`), as `pg_dump -j` does, so
// two tables are read at once.
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { readAppliedMigrations } from '../target/applied-migrations.ts';
import type { ColumnSpec, TableSpec } from '../target/target-schema.ts';
import { copyLinePages } from './copy-text.ts';
import { PostgresSession } from './postgres-session.ts';
import { decodePostgresMarker, postgresLineExpression } from './postgres-row-json.ts';
import { countLines, finishMarkedText, parseLines } from './row-markers.ts';
import type { Snapshot } from './snapshot.ts';
import { quoteIdentifier as q, sqlQuery } from './sql.ts';

/** Connections reading at once: the server writes the lines, so two keep both cores busy. */
export const POSTGRES_READERS = 2;

export async function openPostgresSnapshot(location: DatabaseLocation & { provider: 'postgresql' }): Promise<Snapshot> {
  const first = await PostgresSession.open(location);
  const sessions = [first];
  let snapshotId: string;
  let migrations: string[];
  try {
    await beginRead(first, null);
    snapshotId = String((await first.queryRaw(sqlQuery('SELECT pg_export_snapshot()'))).rows[0]![0]);
    // A failed statement would end the snapshot's transaction, so ask before reading.
    const history = await first.queryRaw(sqlQuery(`SELECT to_regclass('_prisma_migrations') IS NOT NULL`));
    migrations = history.rows[0]?.[0] === true ? await readAppliedMigrations(first) : [];
  } catch (error) {
    await first.close();
    throw error;
  }
  const idle: PostgresSession[] = [first];
  let opened = 1;
  const waiting: ((session: PostgresSession) => void)[] = [];
  /** An idle reader, a new one joining the snapshot while there are fewer than the limit, or the next one freed. */
  const acquire = async (): Promise<PostgresSession> => {
    const session = idle.pop();
    if (session) return session;
    if (opened < POSTGRES_READERS) {
      opened++;
      const joining = await PostgresSession.open(location);
      sessions.push(joining);
      await beginRead(joining, snapshotId);
      return joining;
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (session: PostgresSession) => {
    const next = waiting.shift();
    if (next) next(session);
    else idle.push(session);
  };
  const readTableText = async (table: TableSpec, onPage: (text: string, rows: number) => Promise<void>) => {
    const order = table.key.map((key) => orderExpression(table.columns.find((c) => c.name === key)!)).join(', ');
    const from = `${q(location.schema)}.${q(table.name)}`;
    const session = await acquire();
    try {
      const copy = session.copyOut(`COPY (SELECT ${postgresLineExpression(table.columns)} FROM ${from} ORDER BY ${order}) TO STDOUT`);
      for await (const page of copyLinePages(copy)) {
        const text = finishMarkedText(page, table.columns, decodePostgresMarker);
        await onPage(text, countLines(text));
      }
    } finally {
      release(session);
    }
  };
  return {
    provider: 'postgresql',
    readers: POSTGRES_READERS,
    appliedMigrations: async () => migrations,
    readTableText,
    readTable: (table, onPage) => readTableText(table, (text) => onPage(parseLines(text))),
    async close() {
      // Joined readers first: the exported snapshot lives as long as the first transaction.
      for (const session of sessions.slice().reverse()) {
        try {
          await session.executeRaw(sqlQuery('ROLLBACK'));
        } catch {
          // The connection is closed below either way; a read-only transaction has nothing to lose.
        } finally {
          await session.close();
        }
      }
    },
  };
}

/**
 * REPEATABLE READ, READ ONLY: one snapshot for every statement; joined to another
 * transaction's exported snapshot when given one. UTC and shortest round-trip doubles,
 * the forms the row lines expect.
 */
async function beginRead(session: PostgresSession, snapshotId: string | null): Promise<void> {
  await session.executeRaw(sqlQuery('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
  if (snapshotId !== null) await session.executeRaw(sqlQuery(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/'/g, "''")}'`));
  await session.executeRaw(sqlQuery(`SET LOCAL TIME ZONE 'UTC'`));
  await session.executeRaw(sqlQuery(`SET LOCAL extra_float_digits = 3`));
}

/** Byte order for text keys, as SQLite's BINARY collation, so both providers list rows alike. */
function orderExpression(column: ColumnSpec): string {
  const textLike = (column.type === 'String' && column.nativeType !== 'Uuid') || column.type === 'Enum';
  return textLike ? `${q(column.name)} COLLATE "C"` : q(column.name);
}
