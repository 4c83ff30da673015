// The target's SQLite file on a better-sqlite3 connection of our own, for the bulk paths
// (a snapshot's reads, a restore's writes); Prisma's adapter waits for locks as long.
import Database from 'better-sqlite3';

/** How long a connection waits for another one's lock (the app's own writes) before giving up. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export function openSqliteFile(filePath: string): Database.Database {
  return new Database(filePath, { timeout: SQLITE_BUSY_TIMEOUT_MS, fileMustExist: true });
}

/** Whether the file has SQLite's AUTOINCREMENT counters table (created with the first such table). */
export function hasAutoincrementCounters(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'`).get() !== undefined;
}
