// The one place that picks a database's implementation of the engine's interfaces.
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { openPostgresSnapshot } from './postgres/postgres-snapshot.ts';
import { openPostgresLoader } from './postgres/postgres-table-loader.ts';
import { SNAPSHOT_PAGE_ROWS, type Snapshot } from './database/snapshot.ts';
import { openSqliteSnapshot, PARALLEL_READ_MIN_BYTES } from './sqlite/sqlite-snapshot.ts';
import { openSqliteLoader } from './sqlite/sqlite-table-loader.ts';
import type { TableLoader, TransactionOutcome } from './database/table-loader.ts';
import { postgresTransactionOutcome } from './postgres/postgres-transaction-outcome.ts';

/**
 * `parallel`: a backup reads tables at once where the database allows it; a restore's
 * scratch database and verifyBackup's read one at a time.
 */
export async function openSnapshot(location: DatabaseLocation, options: { parallel?: boolean } = {}): Promise<Snapshot> {
  if (location.provider === 'postgresql') return openPostgresSnapshot(location);
  return openSqliteSnapshot(location.filePath, {
    pageRows: SNAPSHOT_PAGE_ROWS,
    parallelFromBytes: options.parallel ? PARALLEL_READ_MIN_BYTES : undefined,
  });
}

/** `tables`: every table the restore will replace (PostgreSQL locks them all first). */
export function openTableLoader(location: DatabaseLocation, tables: TableSpec[]): Promise<TableLoader> {
  return location.provider === 'sqlite' ? openSqliteLoader(location.filePath) : openPostgresLoader(location, tables);
}

/** Whether a restore's transaction (`TableLoader.transactionId`) committed; SQLite keeps no such record. */
export function transactionOutcome(location: DatabaseLocation, transactionId: string): Promise<TransactionOutcome> {
  return location.provider === 'postgresql' ? postgresTransactionOutcome(location, transactionId) : Promise.resolve(null);
}
