// SQLite's side of a snapshot, on a better-sqlite3 connection of its own: a deferred
// transaction whose first read pins the snapshot (with WAL the app keeps writing), and
// each table read in key order a page at a time, SQLite writing the page's lines itself
// (sqlite-row-json.ts) and joining them, so a page costs JavaScript one string.
import { setImmediate } from 'node:timers/promises';
import Database from 'better-sqlite3';
import type { SqlQuery } from '@prisma/driver-adapter-utils';
import { readAppliedMigrations } from '../target/applied-migrations.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { countLines, finishMarkedText, parseLines } from './row-markers.ts';
import type { Snapshot } from './snapshot.ts';
import { quoteIdentifier as q } from './sql.ts';
import { decodeSqliteMarker, sqliteLineExpression } from './sqlite-row-json.ts';

/** How long the snapshot waits for another connection's lock before giving up. */
const BUSY_TIMEOUT_MS = 10_000;

export async function openSqliteSnapshot(filePath: string, pageRows: number): Promise<Snapshot> {
  const db = new Database(filePath, { timeout: BUSY_TIMEOUT_MS, fileMustExist: true });
  let migrations: string[];
  try {
    db.defaultSafeIntegers(true);
    db.exec('BEGIN');
    migrations = await readAppliedMigrations({ queryRaw: async (query) => rowsOf(db, query) }); // the snapshot starts here
  } catch (error) {
    db.close();
    throw error;
  }
  const readTableText = async (table: TableSpec, onPage: (text: string, rows: number) => Promise<void>) => {
    for (const page of pagesOf(db, table, pageRows)) {
      const text = finishMarkedText(page, table.columns, decodeSqliteMarker);
      await onPage(text, countLines(text));
      // Reads are synchronous: let the event loop hand zlib its next piece of work, or
      // compression waits for the whole table instead of running beside the reads.
      await setImmediate();
    }
  };
  return {
    provider: 'sqlite',
    readers: 1,
    appliedMigrations: async () => migrations,
    readTableText,
    readTable: (table, onPage) => readTableText(table, (text) => onPage(parseLines(text))),
    async close() {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

function rowsOf(db: Database.Database, query: SqlQuery): { rows: unknown[][] } {
  return { rows: db.prepare(query.sql).raw(true).all(...(query.args as unknown[])) as unknown[][] };
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
