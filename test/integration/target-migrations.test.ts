// The app owns its migrations: start-up reports the pending ones and changes nothing in the
// database, unless TARGET_MIGRATE=deploy asks it to apply them.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteDump } from '../helpers/dumps.ts';
import { LEDGER_DIR } from '../helpers/ledger.ts';
import { startServer } from '../helpers/server.ts';

test('pending migrations are reported, not applied; TARGET_MIGRATE=deploy applies them', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-migrate-'));
  const file = path.join(dir, 'ledger.db');
  // The app's database before its first deploy: no tables, no migration history.
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
  const env = {
    TARGET_SCHEMA: path.join(LEDGER_DIR, 'schema.prisma'),
    TARGET_MIGRATIONS: path.join(LEDGER_DIR, 'migrations'),
    TARGET_DATABASE_URL: `file:${file}`,
  };
  const system = '{ system { schemaVersion pendingMigrations } }';
  try {
    const before = sqliteDump(file);
    const reporting = await startServer({ dataDir: path.join(dir, 'data'), env: { ...env, TARGET_MIGRATE: 'off' } });
    try {
      const { body } = await reporting
        .fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: system }) })
        .then(async (response) => ({ body: (await response.json()) as { data: unknown } }));
      assert.deepEqual(body.data, { system: { schemaVersion: null, pendingMigrations: ['20261101000000_init'] } });
    } finally {
      await reporting.stop();
    }
    assert.equal(sqliteDump(file), before, 'start-up changed nothing in the database');

    const deploying = await startServer({ dataDir: path.join(dir, 'data'), env: { ...env, TARGET_MIGRATE: 'deploy' } });
    try {
      const response = await deploying.fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: system }),
      });
      assert.deepEqual(((await response.json()) as { data: unknown }).data, {
        system: { schemaVersion: '20261101000000_init', pendingMigrations: [] },
      });
    } finally {
      await deploying.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
