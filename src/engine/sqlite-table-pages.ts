// A SQLite snapshot's read connection and the pages it reads: each table in key order a
// page at a time, SQLite writing the page's lines itself (sqlite-row-json.ts) and
// joining them, so a page costs JavaScript one string.
import type { SqlQuery } from '@prisma/driver-adapter-utils';
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../prisma/sqlite-file.ts';
import { readAppliedMigrations } from '../target/applied-migrations.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { finishMarkedText } from './row-markers.ts';
import { quoteIdentifier as q } from './sql.ts';
import { decodeSqliteMarker, sqliteLineExpression } from './sqlite-row-json.ts';

export interface ReadConnection {
  db: Database.Database;
  /** The applied migrations, read first: that read pins the connection's snapshot. */
  migrations: string[];
}

/** A deferred transaction whose first read pins the snapshot; with WAL the app keeps writing. */
export async function openReadConnection(filePath: string): Promise<ReadConnection> {
  const db = openSqliteFile(filePath);
  try {
    db.defaultSafeIntegers(true);
    db.exec('BEGIN');
    const migrations = await readAppliedMigrations({ queryRaw: async (query) => rowsOf(db, query) });
    return { db, migrations };
  } catch (error) {
    db.close();
    throw error;
  }
}

export function closeReadConnection(db: Database.Database): void {
  try {
    if (db.open && db.inTransaction) db.exec('ROLLBACK');
  } finally {
    if (db.open) db.close();
  }
}

function rowsOf(db: Database.Database, query: SqlQuery): { rows: unknown[][] } {
  return { rows: db.prepare(query.sql).raw(true).all(...(query.args as unknown[])) as unknown[][] };
}

/** A table's pages of finished `ndjson-v1` lines, each newline-terminated. */
export function* tablePages(db: Database.Database, table: TableSpec, pageRows: number): Generator<string> {
  for (const page of pagesOf(db, table, pageRows)) yield finishMarkedText(page, table.columns, decodeSqliteMarker);
}

/**
 * A table's lines, newline-terminated, `pageRows` rows per page, in key order. Each page
 * is bounded by keys: the key `pageRows` rows on (an index-only step) closes it and the
 * next page starts after it, so every page costs the same however deep in the table.
 */
function* pagesOf(db: Database.Database, table: TableSpec, pageRows: number): Generator<string> {
  const keys = table.key.map(q).join(', ');
  const from = q(table.name);
  const slots = table.key.map(() => '?').join(', ');
  const line = sqliteLineExpression(table.columns);
  const lines = (where: string) =>
    db
      .prepare(`SELECT group_concat(line, char(10) ORDER BY ${keys}) FROM (SELECT ${line} AS line, ${keys} FROM ${from} ${where})`)
      .pluck();
  const pageEnd = (where: string) =>
    db.prepare(`SELECT ${keys} FROM ${from} ${where} ORDER BY ${keys} LIMIT 1 OFFSET ${pageRows - 1}`).raw(true);
  const after = `WHERE (${keys}) > (${slots})`;
  const firstEnd = pageEnd('');
  const nextEnd = pageEnd(after);
  const bounded = { first: lines(`WHERE (${keys}) <= (${slots})`), next: lines(`${after} AND (${keys}) <= (${slots})`) };
  const open = { first: lines(''), next: lines(after) };

  let last: unknown[] | null = null;
  for (;;) {
    const end = (last ? nextEnd.get(...last) : firstEnd.get()) as unknown[] | undefined;
    const text = (
      end
        ? last
          ? bounded.next.get(...last, ...end)
          : bounded.first.get(...end)
        : last
          ? open.next.get(...last)
          : open.first.get()
    ) as string | null;
    if (text !== null) yield text + '\n';
    if (!end) return;
    last = end;
  }
}
