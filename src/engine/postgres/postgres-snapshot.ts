// PostgreSQL's Snapshot: REPEATABLE READ, READ ONLY connections sharing one exported snapshot (as
// `pg_dump -j` does), each table streamed out by one `COPY (SELECT …) TO STDOUT` in key order,
// paged off the socket (copy-out-pages.ts) and turned into archive lines (copy-text-to-ndjson.ts).
import type { DatabaseLocation } from '../../prisma/database-url.ts';
import { readAppliedMigrations } from '../../target/applied-migrations.ts';
import type { ColumnSpec, TableSpec } from '../../target/target-schema.ts';
import { copyDataToNdjson, postgresTextExpression } from './copy-text-to-ndjson.ts';
import { PostgresSession } from './postgres-session.ts';
import type { Snapshot } from '../database/snapshot.ts';
import { quoteIdentifier as q, sqlQuery } from '../../prisma/sql.ts';

/** Connections reading at once: two tables' COPY, conversion and compression keep both cores busy. */
export const POSTGRES_READERS = 2;

/** COPY output is rewritten in pages of at least this many bytes: enough to amortise a page's overhead. */
const COPY_PAGE_BYTES = 128 * 1024;

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
  const readTableText = async (table: TableSpec, onPage: (text: Buffer, rows: number) => Promise<void>) => {
    const from = `${q(location.schema)}.${q(table.name)}`;
    const session = await acquire();
    try {
      const byteOrdered = await byteOrderedColumns(session, from, table.key);
      const order = table.key
        .map((key) =>
          orderExpression(
            table.columns.find((c) => c.name === key)!,
            byteOrdered.has(key),
          ),
        )
        .join(', ');
      const select = table.columns.map(postgresTextExpression).join(', ');
      // Ordered by the table's own columns: unqualified, ORDER BY "id" would mean the text
      // item of the same name in the SELECT list, and sort 1, 10, 2.
      const copy = session.copyOut(`COPY (SELECT ${select} FROM ${from} AS source ORDER BY ${order}) TO STDOUT`, COPY_PAGE_BYTES);
      for await (const page of copy) {
        const lines = copyDataToNdjson(table.columns, page as Buffer);
        await onPage(lines.bytes, lines.rows);
      }
    } finally {
      release(session);
    }
  };
  return {
    provider: 'postgresql',
    readers: POSTGRES_READERS,
    async sizes(tables) {
      const session = await acquire();
      try {
        const result = await session.queryRaw(
          sqlQuery(
            `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = ANY($2::text[])`,
            [location.schema, tables.map((table) => table.name)],
          ),
        );
        return new Map(result.rows.map(([name, bytes]) => [String(name), Number(bytes)]));
      } finally {
        release(session);
      }
    },
    appliedMigrations: async () => migrations,
    readTableText,
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
 * transaction's exported snapshot when given one. UTC, ISO dates and shortest round-trip
 * doubles, the text forms copy-text-to-ndjson.ts reads.
 */
async function beginRead(session: PostgresSession, snapshotId: string | null): Promise<void> {
  await session.executeRaw(sqlQuery('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
  if (snapshotId !== null) await session.executeRaw(sqlQuery(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/'/g, "''")}'`));
  await session.executeRaw(sqlQuery(`SET LOCAL TIME ZONE 'UTC'`));
  // Timestamps in ISO text whatever the server's or the database's default DateStyle.
  await session.executeRaw(sqlQuery(`SET LOCAL DateStyle = 'ISO, YMD'`));
  await session.executeRaw(sqlQuery(`SET LOCAL extra_float_digits = 3`));
  // Text keys in a collation other than byte order are sorted by the server: in memory
  // rather than through temporary files (the default is 4 MB).
  await session.executeRaw(sqlQuery(`SET LOCAL work_mem = '64MB'`));
}

/**
 * Byte order for text keys, as SQLite's BINARY collation, so both providers list rows
 * alike. A column whose collation already sorts that way is ordered as it is, so its
 * primary key index gives the order; `COLLATE "C"` on it would make the server sort
 * the whole table instead (the planner cannot tell that C.UTF-8 and C agree).
 */
function orderExpression(column: ColumnSpec, byteOrdered: boolean): string {
  const textLike = (column.type === 'String' && column.nativeType !== 'Uuid') || column.type === 'Enum';
  const name = `source.${q(column.name)}`;
  return textLike && !byteOrdered ? `${name} COLLATE "C"` : name;
}

/** Collations that compare UTF-8 text byte by byte (code point order). */
const BYTE_ORDER_LOCALES = ['C', 'POSIX', 'C.UTF-8', 'C.utf8'];

/** Which of these columns already sort in byte order, by their own or the database's collation. */
async function byteOrderedColumns(session: PostgresSession, table: string, columns: string[]): Promise<Set<string>> {
  const result = await session.queryRaw(
    sqlQuery(
      `SELECT a.attname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
        WHERE a.attrelid = $1::regclass AND a.attname = ANY($2::text[])
          AND (c.collname IN ('C', 'POSIX', 'ucs_basic')
               OR (c.collname = 'default' AND (SELECT datcollate FROM pg_database WHERE datname = current_database()) = ANY($3::text[]))
               OR (c.collprovider = 'c' AND c.collcollate = ANY($3::text[])))`,
      [table, columns, BYTE_ORDER_LOCALES],
    ),
  );
  return new Set(result.rows.map((row) => String(row[0])));
}
