// Schema versions: an older backup is restored at its own version and brought forward by
// the target's newer migrations; a newer one is refused before anything changes.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { RestoreBackupDocument, RestoreProgressDocument, SystemDocument, type RestoreProgressSubscription } from '../generated/graphql.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { countRows } from '../helpers/inspect.ts';
import { withPg } from '../helpers/postgres.ts';
import { startServer, wsAuth, type TestServer } from '../helpers/server.ts';

const fixture = (version: 'ledger' | 'ledger-v2', provider: string) => {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures', `${version}-${provider}`);
  return { TARGET_SCHEMA: path.join(dir, 'schema.prisma'), TARGET_MIGRATIONS: path.join(dir, 'migrations') };
};

async function ledgerServer(version: 'ledger' | 'ledger-v2', provider: 'sqlite' | 'postgresql'): Promise<TestServer> {
  if (provider === 'postgresql') return startServer({ provider, env: fixture(version, provider) });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-versions-'));
  const file = path.join(dataDir, 'ledger.db');
  new Database(file).close();
  return startServer({ dataDir, env: { ...fixture(version, provider), TARGET_DATABASE_URL: `file:${file}` } });
}

async function sql(server: TestServer, statement: string): Promise<unknown[]> {
  if (server.targetUrl.startsWith('file:')) {
    const db = new Database(server.targetUrl.slice('file:'.length));
    try {
      return statement.trim().startsWith('SELECT') ? db.prepare(statement).all() : (db.exec(statement), []);
    } finally {
      db.close();
    }
  }
  return withPg(server.targetUrl, async (client) => (await client.query(statement)).rows);
}

async function restoreAndWatch(server: TestServer, backupId: string) {
  const started = await server.gql(RestoreBackupDocument, { input: { backupId } });
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return { refused: started.restoreBackup, events: [] };
  const jobId = started.restoreBackup.job.id;
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: wsAuth(server.token),
  });
  const events: RestoreProgressSubscription['restoreProgress'][] = [];
  await new Promise<void>((resolve, reject) => {
    client.subscribe<RestoreProgressSubscription>(
      { query: print(RestoreProgressDocument), variables: { jobId } },
      { next: (value) => void (value.data && events.push(value.data.restoreProgress)), error: reject, complete: resolve },
    );
  });
  await client.dispose();
  return { refused: null, events };
}

for (const provider of ['sqlite', 'postgresql'] as const) {
  describe(`schema versions on ${provider}`, () => {
    let v1: TestServer;
    let v2: TestServer;

    before(async () => {
      v1 = await ledgerServer('ledger', provider);
      v2 = await ledgerServer('ledger-v2', provider);
      const accounts = Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'account ${i + 1}', ${i * 10})`).join(', ');
      await sql(v1, `INSERT INTO "Account" (id, name, balance) VALUES ${accounts}`);
      await sql(v1, `INSERT INTO "Entry" ("accountId", amount, memo) SELECT id, balance, 'opening' FROM "Account"`);
    });

    after(async () => {
      await v1.close();
      await v2.close();
    });

    test('an older backup is restored and migrated forward, as the live app was', async () => {
      const old = await createBackup(v1, { includeMedia: true });
      assert.equal(old.schemaVersion, '20261101000000_init');
      await copyFile(archivePath(v1, old.fileName), archivePath(v2, old.fileName));
      const { refused, events } = await restoreAndWatch(v2, old.fileName);
      assert.equal(refused, null);
      assert.equal(events.at(-1)?.job.status, 'SUCCEEDED', JSON.stringify(events.at(-1)));
      const rows = (await sql(v2, `SELECT id, currency FROM "Account" ORDER BY id`)) as { id: number; currency: string }[];
      assert.equal(rows.length, 40);
      for (const row of rows) assert.equal(row.currency, Number(row.id) % 2 === 0 ? 'USD' : 'EUR', `account ${row.id}`);
      assert.equal(await countRows(v2.targetUrl, 'Entry'), 40);
      assert.equal((await v2.gql(SystemDocument)).system.schemaVersion, '20261201000000_add_currency');
    });

    test('a newer backup is refused with NewerSchemaError and nothing changes', async () => {
      const newer = await createBackup(v2, { includeMedia: true });
      await copyFile(archivePath(v2, newer.fileName), archivePath(v1, newer.fileName));
      const before = await createBackup(v1, { includeMedia: true });
      const { refused } = await restoreAndWatch(v1, newer.fileName);
      assert.equal(refused?.__typename, 'NewerSchemaError');
      const after = await createBackup(v1, { includeMedia: true });
      assert.deepEqual(
        after.tables.map((t) => t.sha256),
        before.tables.map((t) => t.sha256),
      );
    });
  });
}
