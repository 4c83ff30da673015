// SQLite's TableLoader: one write transaction on a better-sqlite3 connection of its own, foreign
// keys off for that connection so clearing and loading cost no per-row checks or cascades; every
// key is checked in full before the commit.
import type Database from 'better-sqlite3';
import { hasAutoincrementCounters, openSqliteFile } from '../../prisma/sqlite-file.ts';
import { quoteIdentifier as q } from '../../prisma/sql.ts';
import type { ManifestSequence } from '../../archive/manifest.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import type { TableLoader } from '../database/table-loader.ts';
import { decodeForSqlite } from '../../ndjson/value-decoder.ts';
import { InvalidRowError, RowChecker } from '../../ndjson/row-check.ts';

const NOT_FITTING = "the archive's rows do not fit the schema:";

export async function openSqliteLoader(filePath: string): Promise<TableLoader> {
  const db = openSqliteFile(filePath);
  try {
    // The pragma cannot change inside a transaction, and applies to this connection only.
    db.pragma('foreign_keys = OFF');
    db.exec('BEGIN IMMEDIATE');
  } catch (error) {
    db.close();
    throw error;
  }
  const inserts = new Map<string, Database.Statement>();
  // SQLite stores whatever it is given: every row is checked against its columns first.
  const checkers = new Map<string, RowChecker>();
  // Secondary indexes are dropped for the load and built once at the end, as a dump
  // script does; all inside the transaction, so a failure puts them back as they were.
  let setAside: { name: string; sql: string }[] = [];
  const end = (sql: 'COMMIT' | 'ROLLBACK') => {
    if (!db.open) return;
    try {
      if (db.inTransaction) db.exec(sql);
    } finally {
      db.close();
    }
  };
  return {
    async clear(tables) {
      const names = new Set(tables.map((table) => table.name));
      setAside = (
        db.prepare(`SELECT name, tbl_name AS "table", sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`).all() as {
          name: string;
          table: string;
          sql: string;
        }[]
      ).filter((index) => names.has(index.table));
      for (const index of setAside) db.prepare(`DROP INDEX ${q(index.name)}`).run();
      for (const table of tables) db.prepare(`DELETE FROM ${q(table.name)}`).run();
    },
    async insert(table, rows) {
      // One prepared INSERT per table, run row by row: SQLite's fastest bulk path, faster than
      // the adapter's statement per batch (docs/PERFORMANCE.md, "Measurements behind the code").
      let insert = inserts.get(table.name);
      if (!insert) {
        const columns = table.columns.map((c) => q(c.name)).join(', ');
        insert = db.prepare(`INSERT INTO ${q(table.name)} (${columns}) VALUES (${table.columns.map(() => '?').join(', ')})`);
        inserts.set(table.name, insert);
      }
      const columns = table.columns;
      const values = new Array<unknown>(columns.length);
      let checker = checkers.get(table.name);
      if (!checker) checkers.set(table.name, (checker = new RowChecker(table)));
      for (const row of rows) {
        checker.check(row);
        for (let i = 0; i < columns.length; i++) values[i] = decodeForSqlite(columns[i]!, row[i] ?? null);
        try {
          insert.run(values);
        } catch (error) {
          // A duplicate key or a CHECK the app's migrations added: the archive's fault, typed as such.
          if ((error as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
            throw new InvalidRowError(`${NOT_FITTING} table ${table.name}: ${(error as Error).message}`);
          }
          throw error;
        }
      }
    },
    async commit(tables, sequences) {
      for (const index of setAside) db.exec(index.sql);
      if (sequences) setCounters(db, tables, sequences);
      const violations = db.prepare('PRAGMA foreign_key_check').raw().all() as unknown[][];
      if (violations.length > 0) {
        const [table, rowid, parent] = violations[0]!;
        end('ROLLBACK');
        throw new InvalidRowError(
          `${NOT_FITTING} ${violations.length} row(s) reference missing rows, e.g. ${table} row ${rowid} references a missing ${parent}`,
        );
      }
      end('COMMIT');
    },
    async rollback() {
      end('ROLLBACK');
    },
  };
}

/**
 * Puts each table's AUTOINCREMENT counter back as the source left it, so ids its deleted rows
 * held are not handed out again: updated in place (sqlite_sequence keeps its row order, as
 * `.dump` lists it), added, or removed where the source had none. Without sequences SQLite
 * moves the counters past the loaded ids by itself.
 */
function setCounters(db: Database.Database, tables: TableSpec[], sequences: Map<string, ManifestSequence[]>): void {
  if (!hasAutoincrementCounters(db)) return;
  const update = db.prepare('UPDATE sqlite_sequence SET seq = ? WHERE name = ?');
  const insert = db.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)');
  const remove = db.prepare('DELETE FROM sqlite_sequence WHERE name = ?');
  for (const table of tables) {
    const counter = sequences.get(table.name)?.[0];
    if (!counter) remove.run(table.name);
    else if (update.run(BigInt(counter.value), table.name).changes === 0) insert.run(table.name, BigInt(counter.value));
  }
}
