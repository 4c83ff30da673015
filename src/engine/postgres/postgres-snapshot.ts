// PostgreSQL's Snapshot: REPEATABLE READ, READ ONLY connections sharing one exported snapshot (as
// `pg_dump -j` does), each table streamed out by one `COPY (SELECT …) TO STDOUT` in storage order,
// paged off the socket (copy-out-pages.ts) and turned into archive lines (copy-text-to-ndjson.ts).
import type { DatabaseLocation } from '../../prisma/database-url.ts';
import { readAppliedMigrations } from '../../target/applied-migrations.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import { copyDataToNdjson, postgresTextExpression } from './copy-text-to-ndjson.ts';
import { PostgresSession, type SqlRunner } from './postgres-session.ts';
import type { ManifestSequence } from '../../archive/manifest.ts';
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
      const select = table.columns.map(postgresTextExpression).join(', ');
      // Storage order, as pg_dump reads it: a restore loads the rows back in this order, so
      // the table's heap (and pg_dump's output) comes back the same.
      const copy = session.copyOut(`COPY (SELECT ${select} FROM ${from}) TO STDOUT`, COPY_PAGE_BYTES);
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
    async sequences(tables) {
      const session = await acquire();
      try {
        return await ownedSequences(session, location.schema, tables);
      } finally {
        release(session);
      }
    },
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
  // A scan that joined another one in progress would start mid-table (pg_dump turns it off too).
  await session.executeRaw(sqlQuery(`SET LOCAL synchronize_seqscans = off`));
}

/**
 * The sequences the tables' columns own (serial and identity columns) with their state, as
 * pg_dump keeps it: `last_value` and `is_called`, so a restore hands out the same next id.
 */
export async function ownedSequences(runner: SqlRunner, schema: string, tables: TableSpec[]): Promise<Map<string, ManifestSequence[]>> {
  const owned = await runner.queryRaw(
    sqlQuery(
      `SELECT t.relname, a.attname, s.oid::regclass::text FROM pg_depend d
         JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
         JOIN pg_class t ON t.oid = d.refobjid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
          AND n.nspname = $1 AND t.relname = ANY($2::text[])
        ORDER BY t.relname, a.attnum`,
      [schema, tables.map((table) => table.name)],
    ),
  );
  const sequences = new Map<string, ManifestSequence[]>();
  for (const [table, column, sequence] of owned.rows as [string, string, string][]) {
    const state = await runner.queryRaw(sqlQuery(`SELECT last_value::text, is_called FROM ${sequence}`));
    const [value, called] = state.rows[0] as [string, boolean];
    sequences.set(table, [...(sequences.get(table) ?? []), { column, value, called }]);
  }
  return sequences;
}
