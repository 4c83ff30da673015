// Runs Prisma's schema engine as WebAssembly, so migrations need no native binary download.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { ErrorRegistry, SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type * as SchemaEngineWasm from '@prisma/schema-engine-wasm';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import type { SchemaFile } from './schema-files.ts';
import { readMigrationList } from './migrations-folder.ts';

/**
 * The schema engine failed: the database's own message, on one line, and the migration that
 * was being applied, if one was. The engine's error is the cause, or the driver's when the
 * engine only had an id for it.
 */
export class SchemaEngineError extends Error {
  override name = 'SchemaEngineError';

  constructor(
    readonly migration: string | null,
    readonly databaseMessage: string,
    options: { cause: unknown },
  ) {
    super(migration ? `migration ${migration} failed: ${databaseMessage}` : databaseMessage, options);
  }
}

type SchemaEngineModule = typeof SchemaEngineWasm;
let loaded: Promise<SchemaEngineModule> | undefined;

/**
 * The package's ESM entry imports its `.wasm` file directly, which Node 20 allows only
 * behind a flag, so we instantiate the module ourselves (once per process).
 */
function loadSchemaEngineModule(): Promise<SchemaEngineModule> {
  loaded ??= (async () => {
    const bg = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as unknown as SchemaEngineModule & {
      __wbg_set_wasm(exports: unknown): void;
    };
    const bgPath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(bgPath.replace(/\.js$/, '.wasm'));
    const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg as never });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports as { __wbindgen_start(): void }).__wbindgen_start();
    return bg;
  })();
  return loaded;
}

/** A script the engine ran that the database refused, with the driver's error. */
interface FailedScript {
  script: string;
  error: unknown;
}

async function withEngine<T>(
  schema: SchemaFile[],
  factory: SqlMigrationAwareDriverAdapterFactory,
  work: (engine: SchemaEngine) => Promise<T>,
  migrationOf: (script: string) => string | null = () => null,
): Promise<T> {
  const { SchemaEngine } = await loadSchemaEngineModule();
  // The engine never closes the connections it opens; we track them and close them, or
  // a SQLite connection would keep its lock after the migrations are done.
  const opened: SqlDriverAdapter[] = [];
  const tracking: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => track(await factory.connect()),
    connectToShadowDb: async () => track(await factory.connectToShadowDb()),
  };
  // The engine words a refused script its own way: the driver's error, kept here, has the database's.
  let failed: FailedScript | null = null;
  const track = (adapter: SqlDriverAdapter) => {
    opened.push(adapter);
    const executeScript = adapter.executeScript.bind(adapter);
    adapter.executeScript = async (script) => {
      failed = null;
      try {
        return await executeScript(script);
      } catch (error) {
        failed = { script, error };
        throw error;
      }
    };
    return adapter;
  };
  const bound = bindMigrationAwareSqlAdapterFactory(tracking);
  let engine: SchemaEngine | undefined;
  try {
    engine = await SchemaEngine.new({ datamodels: schema.map((file) => [file.path, file.content]) }, () => {}, bound);
    return await work(engine);
  } catch (error) {
    throw engineFailure(error, bound.errorRegistry, failed, migrationOf);
  } finally {
    engine?.free();
    await Promise.all(opened.map((adapter) => adapter.dispose().catch(() => {})));
  }
}

/**
 * The engine's message may end in a span trace (`0: sql_schema_connector::apply_migration
 * … with migration_name="…"`) naming the migration; else the script that failed names it.
 * An error the driver threw as plain JavaScript (pg's) reaches the engine only as an id
 * ("external connector error / External error id#0"), kept in the registry.
 */
function engineFailure(
  error: unknown,
  registry: ErrorRegistry,
  failed: FailedScript | null,
  migrationOf: (script: string) => string | null,
): SchemaEngineError {
  const text = error instanceof Error ? error.message : String(error);
  const [head = '', trace = ''] = text.split(/\n\s*0: /, 2);
  const migration = /migration_name="([^"]+)"/.exec(trace)?.[1] ?? (failed ? migrationOf(failed.script) : null);
  const externalId = /External error id#(\d+)/.exec(head)?.[1];
  const driverError = externalId === undefined ? failed?.error : registry.consumeError(Number(externalId))?.error;
  const message = (driverError === undefined ? null : databaseMessage(driverError)) ?? head;
  return new SchemaEngineError(migration, message.replace(/\s*\n\s*/g, ' ').trim(), { cause: driverError ?? error });
}

/** The database's own words in a driver's error: a driver adapter's original message, or pg's with its detail. */
function databaseMessage(error: unknown): string | null {
  const original = (error as { cause?: { originalMessage?: unknown } } | null)?.cause?.originalMessage;
  if (typeof original === 'string' && original) return original;
  if (!(error instanceof Error)) return null;
  const detail = (error as { detail?: unknown }).detail;
  return typeof detail === 'string' && detail ? `${error.message} (${detail})` : error.message;
}

/** Applies pending migrations and records them in `_prisma_migrations`, as `prisma migrate deploy` does. */
export async function applyMigrations(
  schema: SchemaFile[],
  migrationsDir: string,
  factory: SqlMigrationAwareDriverAdapterFactory,
  options: { only?: string[] } = {},
): Promise<string[]> {
  const migrationsList = await readMigrationList(migrationsDir);
  if (options.only) {
    // Up to a given version: as `migrate deploy` at an older checkout of the app would.
    const wanted = new Set(options.only);
    migrationsList.migrationDirectories = migrationsList.migrationDirectories.filter((m) => wanted.has(m.path));
  }
  const scripts = new Map(migrationsList.migrationDirectories.map((m) => [m.migrationFile.content.value, m.path]));
  const migrationOf = (script: string) => scripts.get(script) ?? null;
  return withEngine(
    schema,
    factory,
    async (engine) => {
      const result = await engine.applyMigrations({
        migrationsList,
        filters: { externalTables: [], externalEnums: [] },
      });
      return result.appliedMigrationNames;
    },
    migrationOf,
  );
}

/**
 * The SQL that takes `fromSchema` (or an empty database) to `toSchema`. Both sides are
 * datamodels: diffing from a live database or a migrations folder needs a shadow
 * database and introspection, which the WebAssembly engine does not handle reliably.
 */
export async function diffScript(
  fromSchema: SchemaFile[] | null,
  toSchema: SchemaFile[],
  factory: SqlMigrationAwareDriverAdapterFactory,
): Promise<string> {
  return withEngine(toSchema, factory, async (engine) => {
    const result = await engine.diff({
      from: fromSchema ? { tag: 'schemaDatamodel', files: fromSchema } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: toSchema },
      script: true,
      exitCode: null,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.stdout ?? '';
  });
}
