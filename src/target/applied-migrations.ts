// Reads which Prisma migrations a database has applied, from Prisma's own history table.
import { stat } from 'node:fs/promises';
import type { SqlQuery } from '@prisma/driver-adapter-utils';
import { connectAdapter } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { sqlQuery } from '../prisma/sql.ts';

const MIGRATIONS_SQL = `SELECT migration_name FROM _prisma_migrations
  WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`;

/** Anything that runs a query: an adapter, a transaction, or a connection of our own. */
export interface RowQuery {
  /** Runs one query and resolves with its rows, each an array of column values. */
  queryRaw(query: SqlQuery): Promise<{ rows: unknown[][] }>;
}

/** Applied migration names, oldest first; none for an app that never used Prisma Migrate. */
export async function readAppliedMigrations(queryable: RowQuery): Promise<string[]> {
  try {
    const result = await queryable.queryRaw(sqlQuery(MIGRATIONS_SQL));
    return result.rows.map((row) => String(row[0]));
  } catch (error) {
    // The adapters word it differently: a message naming the table, or a kind such as TableDoesNotExist.
    if (/_prisma_migrations|does not exist|no such table|TableDoesNotExist/i.test(String((error as Error).message ?? error))) return [];
    throw error;
  }
}

/** None for a SQLite file that does not exist: it is not opened, which would create it. */
export async function listAppliedMigrations(location: DatabaseLocation): Promise<string[]> {
  if (location.provider === 'sqlite' && !(await stat(location.filePath).catch(() => null))) return [];
  const connection = await connectAdapter(location);
  try {
    return await readAppliedMigrations(connection.adapter);
  } finally {
    await connection.close();
  }
}
