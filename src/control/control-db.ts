// The control plane's own database: a Prisma client over SQLite or PostgreSQL, migrated
// at start-up by the WebAssembly schema engine.
import path from 'node:path';
import { PROJECT_ROOT } from '../core/config.ts';
import { createAdapterFactory } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { listMigrationNames } from '../prisma/migrations-folder.ts';
import { applyMigrations } from '../prisma/schema-engine.ts';
import { readSchemaFiles } from '../prisma/schema-files.ts';
import { PrismaClient as SqliteControlClient, type Prisma } from '../generated/control-sqlite/client.ts';
import { PrismaClient as PostgresControlClient } from '../generated/control-postgresql/client.ts';
import { listAppliedMigrations } from '../target/applied-migrations.ts';

/** Both generated clients have the same models and API; the SQLite one names the type. */
export type ControlClient = SqliteControlClient;

/** A write built but not yet sent, for `$transaction([...])` with others. */
export type ControlWrite = Prisma.PrismaPromise<unknown>;

export interface ControlDatabase {
  /** The Prisma client, migrated and connected. */
  client: ControlClient;
  /** Disconnects the client and closes its adapter's connections. */
  close(): Promise<void>;
}

export async function openControlDatabase(location: DatabaseLocation): Promise<ControlDatabase> {
  const schemaDir = path.join(PROJECT_ROOT, 'prisma', location.provider);
  const migrationsDir = path.join(schemaDir, 'migrations');
  // Most starts find every migration applied: the schema engine, a WebAssembly module that
  // takes most of a second to load (each run of the command-line tool), runs only when one is
  // not, or when the history cannot be read (then the engine says why).
  const [wanted, applied] = await Promise.all([
    listMigrationNames(migrationsDir),
    listAppliedMigrations(location).catch((): string[] => []),
  ]);
  if (!wanted.every((name) => applied.includes(name))) {
    // Migrations get connections of their own, closed when they are done: on PostgreSQL the
    // engine holds an advisory lock for its session, and a pooled connection kept open would
    // keep it, so a second instance sharing this database would wait for it forever.
    const migrations = createAdapterFactory(location);
    try {
      await applyMigrations(await readSchemaFiles(path.join(schemaDir, 'schema.prisma')), migrationsDir, migrations.factory);
    } finally {
      await migrations.close();
    }
  }
  const handle = createAdapterFactory(location);
  try {
    const client =
      location.provider === 'sqlite'
        ? new SqliteControlClient({ adapter: handle.factory })
        : (new PostgresControlClient({ adapter: handle.factory }) as unknown as ControlClient);
    await client.$connect();
    return {
      client,
      async close() {
        await client.$disconnect();
        await handle.close();
      },
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
