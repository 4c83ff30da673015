// A small non-example target (the ledger fixture) for tests about the catalog and start-up.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { createAdapterFactory } from '../../src/prisma/adapters.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { applyMigrations } from '../../src/prisma/schema-engine.ts';
import { readSchemaFiles } from '../../src/prisma/schema-files.ts';

export const LEDGER_DIR = path.join(PROJECT_ROOT, 'test/fixtures/ledger-sqlite');

/** A data folder with an empty, migrated ledger database in it, and the environment that targets it. */
export async function ledgerTarget(extraEnv: Record<string, string> = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-ledger-'));
  const file = path.join(dataDir, 'ledger.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
  const handle = createAdapterFactory(parseDatabaseUrl(`file:${file}`));
  try {
    await applyMigrations(
      await readSchemaFiles(path.join(LEDGER_DIR, 'schema.prisma')),
      path.join(LEDGER_DIR, 'migrations'),
      handle.factory,
    );
  } finally {
    await handle.close();
  }
  const env = {
    TARGET_SCHEMA: path.join(LEDGER_DIR, 'schema.prisma'),
    TARGET_MIGRATIONS: path.join(LEDGER_DIR, 'migrations'),
    TARGET_DATABASE_URL: `file:${file}`,
    ...extraEnv,
  };
  return { dataDir, file, env };
}

/** Fills the ledger with `accounts` accounts of `entriesPerAccount` entries each, fast. */
export function fillLedger(file: string, accounts: number, entriesPerAccount: number): void {
  const db = new Database(file);
  const addAccount = db.prepare('INSERT INTO "Account" (id, name, balance) VALUES (?, ?, 0)');
  const addEntry = db.prepare('INSERT INTO "Entry" ("accountId", amount, memo) VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let a = 1; a <= accounts; a++) {
      addAccount.run(a, `account ${a}`);
      for (let e = 0; e < entriesPerAccount; e++) addEntry.run(a, e, `entry ${e} of account ${a}, with some text to make rows realistic`);
    }
  })();
  db.close();
}
