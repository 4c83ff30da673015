// Reads one consistent snapshot of a target database, table by table, in pages, so a
// table of any size streams through bounded memory.
import type { SqlDriverAdapter, Transaction } from '@prisma/driver-adapter-utils';
import { connectAdapter } from '../prisma/adapters.ts';
import type { DatabaseLocation, Provider } from '../prisma/database-url.ts';
import { readAppliedMigrations } from '../target/applied-migrations.ts';
import { copyRows } from './copy-text.ts';
import { PostgresSession } from './postgres-session.ts';
import type { ColumnSpec, TableSpec } from '../target/target-schema.ts';
import { quoteIdentifier as q, sqlQuery } from './sql.ts';
import { encodePostgresValue, encodeSqliteValue, rowTextEncoder, type EncodedValue } from './value-codec.ts';

/** Rows per round trip: large enough to amortise a query, small enough to bound memory. */
export const SNAPSHOT_PAGE_ROWS = 2_000;

export interface Snapshot {
  readonly provider: Provider;
  /** Names of the Prisma migrations applied to the data in this snapshot, oldest first. */
  appliedMigrations(): Promise<string[]>;
  /** Streams a table's rows, encoded, in key order; `onPage` is awaited (backpressure). */
  readTable(table: TableSpec, onPage: (rows: EncodedValue[][]) => Promise<void>): Promise<void>;
  /** The same rows as `ndjson-v1` text, a page at a time, each line ending in a newline. */
  readTableText(table: TableSpec, onPage: (text: string, rows: number) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export async function openSnapshot(location: DatabaseLocation): Promise<Snapshot> {
  if (location.provider === 'postgresql') return openPostgresSnapshot(location);
  const connection = await connectAdapter(location);
  try {
    return await openSqliteSnapshot(connection.adapter, connection.close);
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * SQLite: a deferred transaction whose first read pins the snapshot; with WAL the app
 * keeps writing meanwhile. Pages are read by keyset (`WHERE key > last`), which uses the
 * primary key index, so each page costs the same however deep into the table it is.
 */
async function openSqliteSnapshot(adapter: SqlDriverAdapter, release: () => Promise<void>): Promise<Snapshot> {
  const tx = await adapter.startTransaction();
  const migrations = await readAppliedMigrations(tx); // the first read: the snapshot starts here
  return {
    provider: 'sqlite',
    appliedMigrations: async () => migrations,
    readTable: (table, onPage) =>
      scan(table, (page) => onPage(page.map((row) => table.columns.map((column, i) => encodeSqliteValue(column, row[i]))))),
    readTableText: (table, onPage) => {
      const line = rowTextEncoder(table.columns, 'sqlite');
      return scan(table, (page) => onPage(textOf(page, line), page.length));
    },
    close: () => endReadTransaction(tx, release),
  };

  /** Every row of the table in key order, as the adapter returns them (the key copies last). */
  async function scan(table: TableSpec, onPage: (rows: unknown[][]) => Promise<void>): Promise<void> {
    const keyIndexes = table.key.map((key) => table.columns.findIndex((c) => c.name === key));
    const select = table.columns.map(sqliteSelectExpression).join(', ');
    const keys = table.key.map(q).join(', ');
    const extraKeys = table.key.map((key, i) => `${q(key)} AS "__key${i}"`).join(', ');
    const base = `SELECT ${select}, ${extraKeys} FROM ${q(table.name)}`;
    let last: unknown[] | null = null;
    for (;;) {
      const where = last ? ` WHERE (${keys}) > (${last.map(() => '?').join(', ')})` : '';
      const page = await tx.queryRaw(sqlQuery(`${base}${where} ORDER BY ${keys} LIMIT ${SNAPSHOT_PAGE_ROWS}`, last ?? []));
      if (page.rows.length === 0) break;
      const width = table.columns.length;
      await onPage(page.rows);
      const lastRow = page.rows[page.rows.length - 1]!;
      last = keyIndexes.map((_, i) => keyArgument(table.columns[keyIndexes[i]!]!, lastRow[width + i]));
      if (page.rows.length < SNAPSHOT_PAGE_ROWS) break;
    }
  }
}

function textOf(rows: readonly unknown[][], line: (row: readonly unknown[]) => string): string {
  let text = '';
  for (const row of rows) text += line(row) + '\n';
  return text;
}

/** BigInt keys past 2^53 come back as text; compare them as integers, not strings. */
function keyArgument(column: ColumnSpec, value: unknown): unknown {
  if ((column.type === 'BigInt' || column.type === 'Int') && typeof value === 'string') return BigInt(value);
  return value;
}

function sqliteSelectExpression(column: ColumnSpec): string {
  // The adapter turns integers past 2^53 into strings but loses nothing; casting keeps
  // BigInt exact whatever affinity the value was stored with.
  if (column.type === 'BigInt') return `CAST(${q(column.name)} AS TEXT)`;
  return q(column.name);
}

/**
 * PostgreSQL, on a connection of its own: REPEATABLE READ, READ ONLY gives one snapshot
 * for every statement, and each table streams out through one `COPY (SELECT …) TO
 * STDOUT` in key order, as pg_dump reads, with no round trip per page.
 */
async function openPostgresSnapshot(location: DatabaseLocation & { provider: 'postgresql' }): Promise<Snapshot> {
  const session = await PostgresSession.open(location);
  let migrations: string[];
  try {
    await session.executeRaw(sqlQuery('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
    await session.executeRaw(sqlQuery(`SET LOCAL TIME ZONE 'UTC'`));
    await session.executeRaw(sqlQuery(`SET LOCAL extra_float_digits = 3`));
    migrations = await readAppliedMigrations(session);
  } catch (error) {
    await session.close();
    throw error;
  }
  return {
    provider: 'postgresql',
    appliedMigrations: async () => migrations,
    readTable: (table, onPage) =>
      scan(table, (page) => onPage(page.map((row) => table.columns.map((column, i) => encodePostgresValue(column, row[i]))))),
    readTableText: (table, onPage) => {
      const line = rowTextEncoder(table.columns, 'postgresql');
      return scan(table, (page) => onPage(textOf(page, line), page.length));
    },
    async close() {
      try {
        await session.executeRaw(sqlQuery('ROLLBACK'));
      } finally {
        await session.close();
      }
    },
  };

  /** Every row of the table in key order, as COPY's text fields. */
  async function scan(table: TableSpec, onPage: (rows: (string | null)[][]) => Promise<void>): Promise<void> {
    const select = table.columns.map(postgresSelectExpression).join(', ');
    const order = table.key
      .map((key) => {
        const column = table.columns.find((c) => c.name === key)!;
        // Byte order, as SQLite's BINARY collation, so both providers list rows alike.
        return textLike(column) ? `${q(key)} COLLATE "C"` : q(key);
      })
      .join(', ');
    const copy = session.copyOut(`COPY (SELECT ${select} FROM ${q(location.schema)}.${q(table.name)} ORDER BY ${order}) TO STDOUT`);
    for await (const page of copyRows(copy, SNAPSHOT_PAGE_ROWS)) await onPage(page);
  }
}

/** A read-only snapshot has nothing to commit: roll back, then hand the connection back. */
async function endReadTransaction(tx: Transaction, release: () => Promise<void>): Promise<void> {
  try {
    await tx.executeRaw(sqlQuery('ROLLBACK'));
  } finally {
    await tx.rollback();
    await release();
  }
}

function textLike(column: ColumnSpec): boolean {
  return (column.type === 'String' && column.nativeType !== 'Uuid') || column.type === 'Enum';
}

/** Every value that could lose precision on its way to JavaScript is selected as text. */
function postgresSelectExpression(column: ColumnSpec): string {
  const name = q(column.name);
  if (column.list) return `array_to_json(${name}::text[])::text`;
  switch (column.type) {
    case 'Int':
    case 'Float':
    case 'Boolean':
      return name;
    case 'Bytes':
      return `encode(${name}, 'hex')`;
    default:
      return `${name}::text`;
  }
}
