// Runs Prisma's schema engine as WebAssembly, so migrations need no native binary download.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type * as SchemaEngineWasm from '@prisma/schema-engine-wasm';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import type { SchemaFile } from './schema-files.ts';
import { readMigrationList } from './migrations-folder.ts';

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

async function withEngine<T>(
  schema: SchemaFile[],
  factory: SqlMigrationAwareDriverAdapterFactory,
  work: (engine: SchemaEngine) => Promise<T>,
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
  const track = (adapter: SqlDriverAdapter) => (opened.push(adapter), adapter);
  const engine = await SchemaEngine.new(
    { datamodels: schema.map((file) => [file.path, file.content]) },
    () => {},
    bindMigrationAwareSqlAdapterFactory(tracking),
  );
  try {
    return await work(engine);
  } finally {
    engine.free();
    await Promise.all(opened.map((adapter) => adapter.dispose().catch(() => {})));
  }
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
  return withEngine(schema, factory, async (engine) => {
    const result = await engine.applyMigrations({
      migrationsList,
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.appliedMigrationNames;
  });
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
