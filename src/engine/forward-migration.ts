// Brings an older backup forward: its rows go into a scratch database migrated to the
// backup's own version, then the target's newer migrations run there, so the data is
// migrated exactly as the live app's was. The caller then copies the result over.
import type { Readable } from 'node:stream';
import { createAdapterFactory } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { applyMigrations } from '../prisma/schema-engine.ts';
import type { SchemaFile } from '../prisma/schema-files.ts';
import type { TableSpec } from '../target/target-schema.ts';
import type { Manifest } from './manifest.ts';
import { archiveSource, manifestTables, replaceData, snapshotSource, type RowSource } from './restore-writer.ts';
import { createScratchDatabase } from './scratch-database.ts';
import { openSnapshot } from './snapshot.ts';

export interface ForwardRequest {
  manifest: Manifest;
  openArchive: () => Readable;
  target: { location: DatabaseLocation; schemaFiles: SchemaFile[]; migrationsDir: string; tables: TableSpec[] };
  scratchDir: string;
}

/** Runs `use` with the migrated rows as a source; the scratch database is dropped after. */
export async function withMigratedBackup<T>(request: ForwardRequest, use: (source: RowSource) => Promise<T>): Promise<T> {
  const { manifest, target } = request;
  const scratch = await createScratchDatabase(target.location, request.scratchDir);
  const handle = createAdapterFactory(scratch.location);
  try {
    await applyMigrations(target.schemaFiles, target.migrationsDir, handle.factory, { only: manifest.migrations });
    const archived = manifestTables(manifest);
    await replaceData({ location: scratch.location, tables: archived, source: archiveSource(manifest, archived, request.openArchive) });
    await applyMigrations(target.schemaFiles, target.migrationsDir, handle.factory);
    const snapshot = await openSnapshot(scratch.location);
    try {
      return await use(snapshotSource(snapshot, target.tables));
    } finally {
      await snapshot.close();
    }
  } finally {
    await handle.close();
    await scratch.drop();
  }
}
