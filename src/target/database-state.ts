// Whether the target's database is there to back up: a SQLite file may not exist yet, a new
// PostgreSQL database may hold no tables. Both wait for a restore, which creates the schema.
import { stat } from 'node:fs/promises';
import { BackupFailedError } from '../core/errors.ts';
import { connectAdapter } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { quoteIdentifier, sqlQuery } from '../prisma/sql.ts';

/** `missing`: a SQLite file not there; `empty`: a database with no tables; `present`: anything else. */
export type DatabaseState = 'present' | 'empty' | 'missing';

const TABLES_SQL = {
  sqlite: `SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND substr(name, 1, 7) <> 'sqlite_'`,
  // The connection's search path is the URL's `?schema=`; one that does not exist yet has no tables.
  postgresql: `SELECT count(*)::int FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
};

/** Looks without creating: a missing SQLite file is never opened (opening would create it). */
export async function databaseState(location: DatabaseLocation): Promise<DatabaseState> {
  if (location.provider === 'sqlite') {
    const file = await stat(location.filePath).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (!file) return 'missing';
    if (file.size === 0) return 'empty';
  }
  const connection = await connectAdapter(location);
  try {
    const { rows } = await connection.adapter.queryRaw(sqlQuery(TABLES_SQL[location.provider]));
    return Number(rows[0]?.[0] ?? 0) === 0 ? 'empty' : 'present';
  } finally {
    await connection.close();
  }
}

const TABLE_NAMES_SQL = {
  sqlite: `SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_' AND name <> '_prisma_migrations'`,
  postgresql: `SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname <> '_prisma_migrations'`,
};

/** Whether any table but the migration history holds a row: one indexed probe per table, never a count. */
export async function holdsRows(location: DatabaseLocation): Promise<boolean> {
  const connection = await connectAdapter(location);
  try {
    const { rows } = await connection.adapter.queryRaw(sqlQuery(TABLE_NAMES_SQL[location.provider]));
    for (const [name] of rows) {
      const probe = `SELECT 1 FROM ${quoteIdentifier(String(name))} LIMIT 1`;
      if ((await connection.adapter.queryRaw(sqlQuery(probe))).rows.length > 0) return true;
    }
    return false;
  } finally {
    await connection.close();
  }
}

/** A backup of a target database that is not there yet: nothing to back up until a restore creates it. */
export class TargetDatabaseMissingError extends BackupFailedError {
  constructor(
    readonly state: Exclude<DatabaseState, 'present'>,
    location: DatabaseLocation,
  ) {
    super(
      `the target database ${describeDatabase(location)} ${state === 'missing' ? 'does not exist yet' : 'holds no tables yet'}: ` +
        'there is nothing to back up; restore a backup to create it',
    );
  }
}

/** Throws TargetDatabaseMissingError unless the database is there. */
export async function requireTargetDatabase(location: DatabaseLocation): Promise<void> {
  const state = await databaseState(location);
  if (state !== 'present') throw new TargetDatabaseMissingError(state, location);
}

/** The file, or the database and schema: never a URL, which may hold a password. */
export function describeDatabase(location: DatabaseLocation): string {
  return location.provider === 'sqlite' ? location.filePath : `${location.database} (schema ${location.schema})`;
}
