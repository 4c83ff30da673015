// Restores a backup into a scratch database at the backup's own schema version: to verify
// it (verifyBackup), or to bring an older backup forward, where the target's newer
// migrations then run there, so the data is migrated exactly as the live app's was.
import type { Readable } from 'node:stream';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { createAdapterFactory } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { applyMigrations, diffScript } from '../prisma/schema-engine.ts';
import type { SchemaFile } from '../prisma/schema-files.ts';
import type { TableSpec } from '../target/target-schema.ts';
import type { Manifest } from '../archive/manifest.ts';
import { archiveSource, manifestTables, replaceData, snapshotSource, type RowSource } from './restore.ts';
import { createScratchDatabase } from './scratch-database.ts';
import { openSnapshot } from './providers.ts';

export interface ScratchRestoreRequest {
  manifest: Manifest;
  openArchive: () => Readable;
  /**
   * `migrationsDir` null: an app without migrations, whose scratch database is made from the
   * schema. `tables`: the schema's, which a backup from the other kind of database fills.
   */
  target: { location: DatabaseLocation; schemaFiles: SchemaFile[]; migrationsDir: string | null; tables: TableSpec[] };
  scratchDir: string;
}

export interface ScratchRestore {
  location: DatabaseLocation;
  /** Applies the target's migrations the backup does not have yet. */
  migrateForward(): Promise<void>;
}

/**
 * Restores a backup whose archive has been checked (checkArchive) into a scratch database
 * of the target's kind, migrated to the backup's own schema version, runs `use` with it,
 * and drops it afterwards. A backup from the other kind of database names migrations of the
 * other provider's folder: the scratch gets the target's whole schema, and the target's tables.
 */
export async function withBackupInScratch<T>(request: ScratchRestoreRequest, use: (scratch: ScratchRestore) => Promise<T>): Promise<T> {
  const { manifest, target } = request;
  const scratch = await createScratchDatabase(target.location, request.scratchDir);
  const handle = createAdapterFactory(scratch.location);
  const { migrationsDir } = target;
  try {
    const tables = await createBackupSchema(handle.factory, manifest, target);
    await replaceData({ location: scratch.location, tables, source: archiveSource(manifest, tables, request.openArchive) });
    return await use({
      location: scratch.location,
      migrateForward: async () => {
        // Without migrations there is no newer version to go to: the scratch has the schema already.
        if (migrationsDir !== null) await applyMigrations(target.schemaFiles, migrationsDir, handle.factory);
      },
    });
  } finally {
    await handle.close();
    await scratch.drop();
  }
}

/**
 * Makes the backup's schema in an empty database of the target's kind and returns the tables
 * its rows go into: the backup's own migrations; a backup from the other kind of database
 * gets all the target's migrations and the target's tables; an app without migrations, its schema.
 */
export async function createBackupSchema(
  factory: SqlMigrationAwareDriverAdapterFactory,
  manifest: Manifest,
  target: ScratchRestoreRequest['target'],
): Promise<TableSpec[]> {
  const crossProvider = manifest.provider !== target.location.provider;
  if (target.migrationsDir === null) await pushSchema(target.schemaFiles, factory);
  else await applyMigrations(target.schemaFiles, target.migrationsDir, factory, crossProvider ? {} : { only: manifest.migrations });
  return crossProvider ? target.tables : manifestTables(manifest, target.tables);
}

/** Creates the schema's tables in an empty database, as `prisma db push` would. */
async function pushSchema(schemaFiles: SchemaFile[], factory: SqlMigrationAwareDriverAdapterFactory): Promise<void> {
  const script = await diffScript(null, schemaFiles, factory);
  const adapter = await factory.connect();
  try {
    await adapter.executeScript(script);
  } finally {
    await adapter.dispose();
  }
}

/** Runs `use` with the backup's rows, migrated to the target's version, as a row source. */
export async function withMigratedBackup<T>(request: ScratchRestoreRequest, use: (source: RowSource) => Promise<T>): Promise<T> {
  return withBackupInScratch(request, async (scratch) => {
    await scratch.migrateForward();
    const snapshot = await openSnapshot(scratch.location);
    try {
      return await use(snapshotSource(snapshot, request.target.tables));
    } finally {
      await snapshot.close();
    }
  });
}
