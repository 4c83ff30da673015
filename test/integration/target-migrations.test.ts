// The app owns its migrations: start-up reports the pending ones and changes nothing in the
// database, unless TARGET_MIGRATE=deploy asks it to apply them, after a pre-upgrade backup.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { sqliteDump } from '../helpers/dumps.ts';
import { ConfigError, PROJECT_ROOT } from '../../src/core/config.ts';
import { fillLedger, LEDGER_DIR, ledgerTarget } from '../helpers/ledger.ts';
import { createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

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

test('TARGET_MIGRATE=deploy keeps a pre-upgrade backup of the older data before migrating, or migrates nothing', async () => {
  const v1 = await ledgerTarget();
  fillLedger(v1.file, 6, 3);
  const v2 = path.join(PROJECT_ROOT, 'test/fixtures/ledger-v2-sqlite');
  const upgraded = {
    ...v1.env,
    TARGET_SCHEMA: path.join(v2, 'schema.prisma'),
    TARGET_MIGRATIONS: path.join(v2, 'migrations'),
    TARGET_MIGRATE: 'deploy',
  };
  const query = async (server: TestServer, document: string, variables: Record<string, unknown> = {}) => {
    const response = await server.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: document, variables }),
    });
    return ((await response.json()) as { data: Record<string, unknown> }).data;
  };
  try {
    // No backup yet says how the database's tables look at its version: nothing is migrated.
    const before = sqliteDump(v1.file);
    await assert.rejects(startServer({ dataDir: v1.dataDir, env: upgraded }), (error: Error) => {
      assert.ok(error instanceof ConfigError && error.variable === 'TARGET_MIGRATE', String(error));
      assert.match(error.message, /20261101000000_init/);
      return true;
    });
    assert.equal(sqliteDump(v1.file), before, 'the refused deploy changed nothing');

    // The app at its older version takes a backup (as the schedule does every day)...
    const old = await startServer({ dataDir: v1.dataDir, env: v1.env });
    try {
      await createBackup(old);
    } finally {
      await old.stop();
    }
    // ...then its upgrade: the database is kept as it was, and only then migrated.
    const server = await startServer({ dataDir: v1.dataDir, env: upgraded });
    try {
      const { system } = await query(server, '{ system { schemaVersion pendingMigrations } }');
      assert.deepEqual(system, { schemaVersion: '20261201000000_add_currency', pendingMigrations: [] });
      const { backups } = await query(
        server,
        '{ backups(kind: PRE_UPGRADE) { edges { node { id schemaVersion tables { name rows } } } } }',
      );
      type Listed = { id: string; schemaVersion: string; tables: { name: string; rows: number }[] };
      const [kept] = (backups as { edges: { node: Listed }[] }).edges.map((edge) => edge.node);
      assert.ok(kept, 'a pre-upgrade backup is listed');
      assert.equal(kept.schemaVersion, '20261101000000_init');
      assert.deepEqual(
        kept.tables.map((t) => [t.name, t.rows]),
        [
          ['Account', 6],
          ['Entry', 18],
        ],
      );
      // It restores: the older data migrated forward again, as the app's own migration did.
      const { restoreBackup } = await query(
        server,
        'mutation($id: ID!) { restoreBackup(input: { backupId: $id }) { ... on RestoreBackupPayload { job { id } } } }',
        { id: kept.id },
      );
      const jobId = (restoreBackup as { job: { id: string } }).job.id;
      let status = 'PENDING';
      while (status === 'PENDING' || status === 'RUNNING') {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (
          (await query(server, 'query($id: ID!) { restoreJob(id: $id) { status } }', { id: jobId })).restoreJob as { status: string }
        ).status;
      }
      assert.equal(status, 'SUCCEEDED');
      const db = new Database(v1.file, { readonly: true });
      try {
        assert.deepEqual(db.prepare('SELECT id, currency FROM "Account" ORDER BY id LIMIT 2').all(), [
          { id: 1, currency: 'EUR' },
          { id: 2, currency: 'USD' },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await rm(v1.dataDir, { recursive: true, force: true });
  }
});
