// The application being backed up: its database, its Prisma schema and migrations, its files.
import { stat } from 'node:fs/promises';
import type { TargetConfig } from '../core/config.ts';
import { createAdapterFactory } from '../prisma/adapters.ts';
import { listMigrationNames } from '../prisma/migrations-folder.ts';
import { applyMigrations } from '../prisma/schema-engine.ts';
import { readSchemaFiles, type SchemaFile } from '../prisma/schema-files.ts';
import { viewNames } from '../prisma/schema-text.ts';
import { parseDatamodel } from './dmmf.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { buildTargetSchema, type TargetSchema } from './target-schema.ts';
import { listAppliedMigrations } from './applied-migrations.ts';

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
  /**
   * The migrations folder; null for an app without migrations (no folder, or an empty
   * one: `prisma db push`), whose backups are matched by their data model instead.
   */
  migrationsDir: string | null;
}

export async function loadTarget(config: TargetConfig): Promise<Target> {
  const schemaFiles = await readSchemaFiles(config.schemaPath);
  const views = schemaFiles.flatMap((file) => viewNames(file.content));
  const schema: TargetSchema = buildTargetSchema(await parseDatamodel(schemaFiles), config.location.provider, views);
  const hasFolder = await stat(config.migrationsDir).then(
    () => true,
    () => false,
  );
  const knownMigrations = hasFolder ? await listMigrationNames(config.migrationsDir) : [];
  return {
    location: config.location,
    schema,
    files: config.files,
    name: config.name,
    schemaFiles,
    knownMigrations,
    migrationsDir: knownMigrations.length > 0 ? config.migrationsDir : null,
  };
}

/** Applies the target's pending migrations, as `prisma migrate deploy` would; none without a migrations folder. */
export async function migrateTarget(target: Target): Promise<string[]> {
  if (target.migrationsDir === null) return [];
  const handle = createAdapterFactory(target.location);
  try {
    return await applyMigrations(target.schemaFiles, target.migrationsDir, handle.factory);
  } finally {
    await handle.close();
  }
}

/** Migrations in the folder that the database has not applied, oldest first. */
export async function pendingMigrations(target: Target): Promise<string[]> {
  if (target.migrationsDir === null) return [];
  const applied = new Set(await listAppliedMigrations(target.location));
  return target.knownMigrations.filter((name) => !applied.has(name));
}
