// The application being backed up: its database, its Prisma schema and migrations, its files.
import type { TargetConfig } from '../core/config.ts';
import { createAdapterFactory } from '../prisma/adapters.ts';
import { listMigrationNames } from '../prisma/migrations-folder.ts';
import { applyMigrations } from '../prisma/schema-engine.ts';
import { readSchemaFiles, type SchemaFile } from '../prisma/schema-files.ts';
import { parseDatamodel } from './dmmf.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { buildTargetSchema, type TargetSchema } from './target-schema.ts';

export interface Target {
  location: DatabaseLocation;
  schema: TargetSchema;
  /** Files and folders that go into every backup as they are (TARGET_FILES). */
  files: string[];
  /** The prefix of archive names (TARGET_NAME). */
  name: string;
  schemaFiles: SchemaFile[];
  /** Migration names in the target's migrations folder: the schema versions it knows. */
  knownMigrations: string[];
  migrationsDir: string;
}

export async function loadTarget(config: TargetConfig): Promise<Target> {
  const schemaFiles = await readSchemaFiles(config.schemaPath);
  const schema: TargetSchema = buildTargetSchema(await parseDatamodel(schemaFiles), config.location.provider);
  const knownMigrations = await listMigrationNames(config.migrationsDir);
  return {
    location: config.location,
    schema,
    files: config.files,
    name: config.name,
    schemaFiles,
    knownMigrations,
    migrationsDir: config.migrationsDir,
  };
}

/** Applies the target's pending migrations, as `prisma migrate deploy` would. */
export async function migrateTarget(target: Target): Promise<string[]> {
  const handle = createAdapterFactory(target.location);
  try {
    return await applyMigrations(target.schemaFiles, target.migrationsDir, handle.factory);
  } finally {
    await handle.close();
  }
}
