// A SQLite snapshot's read connections and the pages they read: each table in storage order a
// page at a time, SQLite writing the page's lines itself (sqlite-row-json.ts) and
// joining them, so a page costs JavaScript one buffer.
import { isUtf8 } from 'node:buffer';
import type Database from 'better-sqlite3';
import { openSqliteFile } from '../../prisma/sqlite-file.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import { finishMarkedText, MARKER_START } from './row-markers.ts';
import { quoteIdentifier as q } from '../../prisma/sql.ts';
import { BLOB_IN_JSON, decodeSqliteMarker, hasTextAffinity, sqliteLineExpression } from './sqlite-row-json.ts';

/** A read connection with no transaction yet: pinSnapshot begins one. */
export function openIdleConnection(filePath: string): Database.Database {
  const db = openSqliteFile(filePath);
  db.defaultSafeIntegers(true);
  // A snapshot reads each page of the file once: better-sqlite3's larger page cache kept
  // nothing worth keeping and added to a backup's peak memory (docs/PERFORMANCE.md,
  // "Measurements behind the code"). SQLite's own default, 2 MB, keeps the tree's upper levels.
  db.pragma('cache_size = -2000');
  return db;
}

/** Begins a read transaction and reads, which fixes the snapshot every later read sees. */
export function pinSnapshot(db: Database.Database): void {
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
}

export function closeReadConnection(db: Database.Database): void {
  try {
    if (db.open && db.inTransaction) db.exec('ROLLBACK');
  } finally {
    if (db.open) db.close();
  }
}

/** A page of a table: whole `ndjson-v1` lines in UTF-8, each ending in a newline. */
export interface TablePage {
  bytes: Buffer;
  rows: number;
}

/**
 * A table's pages of finished lines. A page with markers, or with text that is not valid
 * UTF-8 (SQLite keeps whatever bytes it was given), goes through a JavaScript string:
 * the bad bytes become U+FFFD, as they do for the adapter that the general path reads.
 */
export function* tablePages(db: Database.Database, table: TableSpec, pageRows: number): Generator<TablePage> {
  for (const page of pagesOf(db, table, pageRows)) {
    const marked = page.bytes.includes(MARKER_START);
    if (!marked && isUtf8(page.bytes)) yield page;
    else {
      const text = page.bytes.toString('utf8');
      yield { bytes: Buffer.from(marked ? finishMarkedText(text, table.columns, decodeSqliteMarker) : text, 'utf8'), rows: page.rows };
    }
  }
}

/**
 * A table's lines, newline-terminated, `pageRows` rows per page, in storage order (rowid, as
 * `sqlite3 .dump` lists them, so a restore puts them back in the same order). Each page
 * is bounded by keys: the key `pageRows` rows on (an index-only step) closes it and the
 * next page starts after it, so every page costs the same however deep in the table.
 * SQLite hands the page over as a blob of its UTF-8 text: one copy into a Buffer, where a
 * string would be copied into JavaScript's heap and then encoded again for zlib.
 */
function* pagesOf(db: Database.Database, table: TableSpec, pageRows: number): Generator<TablePage> {
  const order = storageOrder(db, table);
  const keys = order.map(q).join(', ');
  const from = q(table.name);
  const slots = order.map(() => '?').join(', ');
  // A blob of text in a UTF-16 database would be UTF-16: such a file's pages come as text.
  const utf8 = db.pragma('encoding', { simple: true }) === 'UTF-8';
  const page = `group_concat(line, char(10)) || char(10)`;
  const after = `WHERE (${keys}) > (${slots})`;
  /** The four queries that read a page, with each row's line written by `line`. */
  const pageQueries = (line: string) => {
    // The subquery's ORDER BY is what orders the page: SQLite keeps it under an aggregate
    // that depends on order (it drops it only for count, min and max), and the key's index
    // serves it with no sort. `group_concat(… ORDER BY …)` sorted every page again, a large
    // share of the whole read (docs/PERFORMANCE.md, "Measurements behind the code").
    const lines = (where: string) =>
      db
        .prepare(
          `SELECT ${utf8 ? `CAST(${page} AS BLOB)` : page}, count(*) FROM (SELECT ${line} AS line FROM ${from} ${where} ORDER BY ${keys})`,
        )
        .raw(true);
    const bounded = { first: lines(`WHERE (${keys}) <= (${slots})`), next: lines(`${after} AND (${keys}) <= (${slots})`) };
    const open = { first: lines(''), next: lines(after) };
    return (last: unknown[] | null, end: unknown[] | undefined) =>
      (end ? (last ? bounded.next.get(...last, ...end) : bounded.first.get(...end)) : last ? open.next.get(...last) : open.first.get()) as [
        Buffer | string | null,
        bigint,
      ];
  };
  const textOnly = textAffinityColumns(db, table);
  const careful = pageQueries(sqliteLineExpression(table.columns));
  const fast = textOnly.size ? pageQueries(sqliteLineExpression(table.columns, textOnly)) : careful;
  const pageEnd = (where: string) =>
    db.prepare(`SELECT ${keys} FROM ${from} ${where} ORDER BY ${keys} LIMIT 1 OFFSET ${pageRows - 1}`).raw(true);
  const firstEnd = pageEnd('');
  const nextEnd = pageEnd(after);

  let last: unknown[] | null = null;
  for (;;) {
    const end = (last ? nextEnd.get(...last) : firstEnd.get()) as unknown[] | undefined;
    let result: [Buffer | string | null, bigint];
    try {
      result = fast(last, end);
    } catch (error) {
      // A blob in a text column: this page again, with every value checked.
      if (fast === careful || !BLOB_IN_JSON.test((error as Error).message)) throw error;
      result = careful(last, end);
    }
    const [text, rows] = result;
    if (text !== null) yield { bytes: typeof text === 'string' ? Buffer.from(text, 'utf8') : text, rows: Number(rows) };
    if (!end) return;
    last = end;
  }
}

/** The table's columns whose declared type gives them TEXT affinity. */
function textAffinityColumns(db: Database.Database, table: TableSpec): Set<string> {
  const declared = db.prepare(`SELECT name, type FROM pragma_table_info(?)`).raw(true).all(table.name) as [string, string][];
  return new Set(declared.filter(([, type]) => hasTextAffinity(type)).map(([name]) => name));
}

/**
 * The columns that give a table's storage order: its rowid, under a name no column of its own
 * shadows, or a WITHOUT ROWID table's primary key.
 */
function storageOrder(db: Database.Database, table: TableSpec): string[] {
  const withoutRowid = db.prepare('SELECT wr FROM pragma_table_list WHERE name = ?').pluck().get(table.name);
  if (withoutRowid === 1 || withoutRowid === 1n) return table.key;
  const taken = new Set(table.columns.map((column) => column.name.toLowerCase()));
  const alias = ['rowid', '_rowid_', 'oid'].find((name) => !taken.has(name));
  if (!alias) throw new Error(`table ${table.name} has columns named rowid, _rowid_ and oid: its rows cannot be read in storage order`);
  return [alias];
}
