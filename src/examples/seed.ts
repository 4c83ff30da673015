// Fills the example app's database with a generated library (`npm run seed`, and a small
// one on the first start of the bundled example).
import path from 'node:path';
import { EXAMPLE_APP_DIR } from '../core/config.ts';
import { createAdapterFactory } from '../prisma/adapters.ts';
import { parseDatabaseUrl, type DatabaseLocation } from '../prisma/database-url.ts';
import { applyMigrations } from '../prisma/schema-engine.ts';
import { readSchemaFiles } from '../prisma/schema-files.ts';
import { generateConfiguration, generateMedia } from './library-generator.ts';
import { openRowWriter } from './row-writers.ts';

/** Applies the example's migrations (its SQLite or PostgreSQL variant) to a database, as the app does at start-up. */
export async function migrateExampleDatabase(location: DatabaseLocation): Promise<void> {
  const variantDir = path.join(EXAMPLE_APP_DIR, location.provider);
  const handle = createAdapterFactory(location);
  try {
    await applyMigrations(await readSchemaFiles(path.join(variantDir, 'schema.prisma')), path.join(variantDir, 'migrations'), handle.factory);
  } finally {
    await handle.close();
  }
}

/** Items per transaction: big enough to be fast, small enough to keep memory flat. */
const ITEMS_PER_BATCH = 2_000;

export interface SeedOptions {
  databaseUrl: string;
  items: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedReport {
  items: number;
  rows: Record<string, number>;
}

/** Adds `items` media items (and their related rows) after the ones already there. */
export async function seedExampleLibrary(options: SeedOptions): Promise<SeedReport> {
  const location = parseDatabaseUrl(options.databaseUrl);
  const writer = await openRowWriter(location);
  const rows: Record<string, number> = {};
  const emit = (table: string, row: Parameters<typeof writer.add>[1]) => {
    rows[table] = (rows[table] ?? 0) + 1;
    writer.add(table, row);
  };
  try {
    if ((await writer.count('MediaServer')) === 0) {
      generateConfiguration(location.provider, emit);
      await writer.flush();
    }
    // After the highest item rather than the count: deleted items would make ids collide.
    const runOffset = Math.max(await writer.count('MediaItem'), await writer.lastNumberedId('MediaItem', 'item-'));
    for (let done = 0; done < options.items; done += ITEMS_PER_BATCH) {
      const batch = Math.min(ITEMS_PER_BATCH, options.items - done);
      generateMedia({ provider: location.provider, offset: runOffset + done, runOffset }, batch, emit);
      await writer.flush();
      options.onProgress?.(done + batch, options.items);
    }
    return { items: options.items, rows };
  } finally {
    await writer.close();
  }
}

/** True before the first seed: no media server has been configured yet. */
export async function isExampleDatabaseEmpty(databaseUrl: string): Promise<boolean> {
  const writer = await openRowWriter(parseDatabaseUrl(databaseUrl));
  try {
    return (await writer.count('MediaServer')) === 0;
  } finally {
    await writer.close();
  }
}
