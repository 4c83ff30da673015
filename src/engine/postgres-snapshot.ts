// PostgreSQL's side of a snapshot, on a connection of its own: REPEATABLE READ, READ
// ONLY gives one snapshot for every statement, and each table streams out through one
// `COPY (SELECT …) TO STDOUT` in key order, as pg_dump reads, the server writing each
// row's line (postgres-row-json.ts) while Node compresses the lines before.
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { readAppliedMigrations } from '../target/applied-migrations.ts';
import type { ColumnSpec, TableSpec } from '../target/target-schema.ts';
import { copyLinePages } from './copy-text.ts';
import { PostgresSession } from './postgres-session.ts';
import { decodePostgresMarker, postgresLineExpression } from './postgres-row-json.ts';
import { countLines, finishMarkedText, parseLines } from './row-markers.ts';
import type { Snapshot } from './snapshot.ts';
import { quoteIdentifier as q, sqlQuery } from './sql.ts';

export async function openPostgresSnapshot(location: DatabaseLocation & { provider: 'postgresql' }): Promise<Snapshot> {
  const session = await PostgresSession.open(location);
  let migrations: string[];
  try {
    await session.executeRaw(sqlQuery('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY'));
    await session.executeRaw(sqlQuery(`SET LOCAL TIME ZONE 'UTC'`));
    await session.executeRaw(sqlQuery(`SET LOCAL extra_float_digits = 3`));
    // A failed statement would end the snapshot's transaction, so ask before reading.
    const history = await session.queryRaw(sqlQuery(`SELECT to_regclass('_prisma_migrations') IS NOT NULL`));
    migrations = history.rows[0]?.[0] === true ? await readAppliedMigrations(session) : [];
  } catch (error) {
    await session.close();
    throw error;
  }
  const readTableText = async (table: TableSpec, onPage: (text: string, rows: number) => Promise<void>) => {
    const order = table.key.map((key) => orderExpression(table.columns.find((c) => c.name === key)!)).join(', ');
    const from = `${q(location.schema)}.${q(table.name)}`;
    const copy = session.copyOut(`COPY (SELECT ${postgresLineExpression(table.columns)} FROM ${from} ORDER BY ${order}) TO STDOUT`);
    for await (const page of copyLinePages(copy)) {
      const text = finishMarkedText(page, table.columns, decodePostgresMarker);
      await onPage(text, countLines(text));
    }
  };
  return {
    provider: 'postgresql',
    appliedMigrations: async () => migrations,
    readTableText,
    readTable: (table, onPage) => readTableText(table, (text) => onPage(parseLines(text))),
    async close() {
      try {
        await session.executeRaw(sqlQuery('ROLLBACK'));
      } finally {
        await session.close();
      }
    },
  };
}

/** Byte order for text keys, as SQLite's BINARY collation, so both providers list rows alike. */
function orderExpression(column: ColumnSpec): string {
  const textLike = (column.type === 'String' && column.nativeType !== 'Uuid') || column.type === 'Enum';
  return textLike ? `${q(column.name)} COLLATE "C"` : q(column.name);
}
