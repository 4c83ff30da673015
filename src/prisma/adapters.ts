// Opens Prisma 7 driver adapters for a database location: the one way this project talks SQL.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import type { DatabaseLocation } from './database-url.ts';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite-file.ts';

export interface AdapterFactoryHandle {
  /** Connects adapters (and shadow databases) to the location, for clients and the schema engine. */
  factory: SqlMigrationAwareDriverAdapterFactory;
  /** Closes pools the factory owns. */
  close(): Promise<void>;
}

export function createAdapterFactory(
  location: DatabaseLocation,
  options: { sqliteShadowPath?: string } = {},
): AdapterFactoryHandle {
  if (location.provider === 'sqlite') {
    const factory = new PrismaBetterSqlite3(
      { url: location.filePath, timeout: SQLITE_BUSY_TIMEOUT_MS },
      { shadowDatabaseUrl: options.sqliteShadowPath },
    );
    return { factory, close: async () => {} };
  }
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    options: `-c search_path="${location.schema.replace(/"/g, '""')}"`,
    max: 4,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const inner = new PrismaPg(pool, { schema: location.schema });
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => wholeScriptExecution(await inner.connect(), pool),
    connectToShadowDb: () => inner.connectToShadowDb(),
  };
  return { factory, close: () => pool.end() };
}

/**
 * adapter-pg runs a migration script by splitting it on every `;`, which breaks
 * dollar-quoted bodies (functions, triggers, DO blocks). PostgreSQL's simple query
 * protocol runs a whole multi-statement script in one call, so we use that instead.
 */
function wholeScriptExecution(adapter: SqlDriverAdapter, pool: pg.Pool): SqlDriverAdapter {
  adapter.executeScript = async (script: string) => {
    await pool.query(script);
  };
  return adapter;
}

/** Connects once, for code that needs a single adapter rather than a factory. */
export async function connectAdapter(location: DatabaseLocation) {
  const handle = createAdapterFactory(location);
  const adapter = await handle.factory.connect();
  return {
    adapter,
    async close() {
      await adapter.dispose();
      await handle.close();
    },
  };
}
