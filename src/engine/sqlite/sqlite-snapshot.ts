// SQLite's Snapshot: a read connection (sqlite-table-pages.ts) whose transaction pins it, and for
// a large database a second reader in a worker thread (worker-reader.ts) pinned to the same data:
// both begin while a third connection holds the write lock, so no commit falls between them.
import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { TableSpec } from '../../target/target-schema.ts';
import { hasAutoincrementCounters, openSqliteFile } from '../../prisma/sqlite-file.ts';
import type { ManifestSequence } from '../../archive/manifest.ts';
import type { Snapshot } from '../database/snapshot.ts';
import { quoteIdentifier as q } from '../../prisma/sql.ts';
import { readAppliedMigrations } from '../../target/applied-migrations.ts';
import { closeReadConnection, openIdleConnection, pinSnapshot, tablePages } from './sqlite-table-pages.ts';
import { WorkerReader } from './worker-reader.ts';

/**
 * Below this size one reader does: a second costs its thread's start and memory, and pays
 * back only on a database that takes long to read
 * (docs/PERFORMANCE.md, "Measurements behind the code").
 */
export const PARALLEL_READ_MIN_BYTES = 64 * 1024 * 1024;

/** How long the snapshot tries for the write lock, between the app's writes, before reading alone. */
const WRITE_LOCK_WAIT_MS = 2_000;
/** How long one try waits for the app's current write to end: the event loop waits as long. */
const WRITE_LOCK_TRY_MS = 50;
/** How long the worker may take to begin (it is idle, and a WAL reader does not wait). */
const WORKER_BEGIN_WAIT_MS = 5_000;

type ReadTable = (table: TableSpec, onPage: (text: string | Buffer, rows: number) => Promise<void>) => Promise<void>;
interface Reader {
  readTable: ReadTable;
  close(): Promise<void>;
}

export interface SqliteSnapshotOptions {
  pageRows: number;
  /**
   * Read two tables at once when the file is at least this large and the machine has a
   * second core (a backup passes PARALLEL_READ_MIN_BYTES); one reader when absent.
   */
  parallelFromBytes?: number;
}

export async function openSqliteSnapshot(filePath: string, options: SqliteSnapshotOptions): Promise<Snapshot> {
  const worker = wantsSecondReader(filePath, options.parallelFromBytes)
    ? await WorkerReader.start({ filePath, pageRows: options.pageRows }).catch(() => null)
    : null;
  const lock = worker ? await holdWriteLock(filePath) : null;
  let db: Database.Database | null = null;
  let joined = false;
  let migrations: string[];
  try {
    // Under the lock nothing yields to the event loop: both snapshots are pinned, then it is let go.
    try {
      db = openIdleConnection(filePath);
      pinSnapshot(db);
      // Without the lock the worker could see a later commit: then the first reader reads alone.
      joined = lock !== null && worker !== null && worker.beginNow(WORKER_BEGIN_WAIT_MS);
    } finally {
      lock?.release();
    }
    if (worker && !joined) await worker.close();
    const pinned = db;
    migrations = await readAppliedMigrations({
      queryRaw: async (query) => ({
        rows: pinned
          .prepare(query.sql)
          .raw(true)
          .all(...(query.args as unknown[])) as unknown[][],
      }),
    });
  } catch (error) {
    if (db) closeReadConnection(db);
    await worker?.close();
    throw error;
  }
  const first = db;
  const readers: Reader[] = [{ readTable: mainThreadReader(first, options.pageRows), close: async () => closeReadConnection(first) }];
  if (worker && joined) readers.push({ readTable: (table, onPage) => worker.readTableText(table, onPage), close: () => worker.close() });

  const idle = [...readers];
  const waiting: ((reader: Reader) => void)[] = [];
  return {
    provider: 'sqlite',
    readers: readers.length,
    sizes: async (tables) => new Map(tables.map((table) => [table.name, estimatedValues(first, table)])),
    appliedMigrations: async () => migrations,
    sequences: async (tables) => autoincrementCounters(first, tables),
    async readTableText(table, onPage) {
      const reader = idle.pop() ?? (await new Promise<Reader>((resolve) => waiting.push(resolve)));
      try {
        await reader.readTable(table, onPage);
      } finally {
        const next = waiting.shift();
        if (next) next(reader);
        else idle.push(reader);
      }
    },
    close: async () => {
      await Promise.all(readers.map((reader) => reader.close()));
    },
  };
}

/**
 * Rows (the span of rowids, read from the ends of the table's b-tree) times columns; 0 for
 * a table without rowids.
 */
function estimatedValues(db: Database.Database, table: TableSpec): number {
  try {
    const span = db
      .prepare(`SELECT max(rowid) - min(rowid) + 1 FROM ${q(table.name)}`)
      .pluck()
      .get() as bigint | null;
    return Number(span ?? 0) * table.columns.length;
  } catch {
    return 0;
  }
}

function wantsSecondReader(filePath: string, fromBytes: number | undefined): boolean {
  if (fromBytes === undefined || availableParallelism() < 2) return false;
  return (statSync(filePath, { throwIfNoEntry: false })?.size ?? 0) >= fromBytes;
}

/** Reads on this thread, yielding between pages so zlib and the other reader's pages get their turn. */
function mainThreadReader(db: Database.Database, pageRows: number): ReadTable {
  return async (table, onPage) => {
    for (const page of tablePages(db, table, pageRows)) {
      await onPage(page.bytes, page.rows);
      await setImmediate();
    }
  };
}

/**
 * Takes the database's write lock (`BEGIN IMMEDIATE`) so that no commit happens while the
 * readers begin, in WAL mode or not; null when it cannot be had soon (the app is in a long
 * write, or the file is read-only). Each try waits briefly for the app's write in hand to
 * commit, then the event loop gets its turn before the next. Released as soon as both
 * readers have begun: the app's writers wait that long
 * (docs/PERFORMANCE.md, "Measurements behind the code").
 */
async function holdWriteLock(filePath: string): Promise<{ release(): void } | null> {
  let db: Database.Database;
  try {
    db = openSqliteFile(filePath);
    db.pragma(`busy_timeout = ${WRITE_LOCK_TRY_MS}`);
  } catch {
    return null;
  }
  const deadline = Date.now() + WRITE_LOCK_WAIT_MS;
  for (;;) {
    try {
      db.exec('BEGIN IMMEDIATE');
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) {
        db.close();
        return null;
      }
      await sleep(WRITE_LOCK_TRY_MS);
    }
  }
  return {
    release() {
      if (db.inTransaction) db.exec('ROLLBACK');
      db.close();
    },
  };
}

/** Each AUTOINCREMENT table's counter in sqlite_sequence: the largest id it ever handed out. */
function autoincrementCounters(db: Database.Database, tables: TableSpec[]): Map<string, ManifestSequence[]> {
  const counters = new Map<string, ManifestSequence[]>();
  if (!hasAutoincrementCounters(db)) return counters;
  const names = new Set(tables.map((table) => table.name));
  for (const [name, seq] of db.prepare('SELECT name, CAST(seq AS TEXT) FROM sqlite_sequence ORDER BY rowid').raw(true).all() as [
    string,
    string,
  ][]) {
    if (names.has(name)) counters.set(name, [{ column: null, value: seq, called: true }]);
  }
  return counters;
}
