// The seeds' fresh install after data loss, made safe: a new server with the old archives in
// its backup folder and no account restores one with the setup code (and only with it), then
// the owner creates the account.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { dumpOf, withoutMigrationHistory } from '../helpers/dumps.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';

let lost: TestServer;
let fresh: TestServer;
let archive: string;
let lostDump: string;

before(async () => {
  // The server that is lost: its data differs from a new install's seed, so a restore shows.
  lost = await startServer();
  const db = new Database(path.join(lost.dataDir, 'example', 'media-library.db'));
  db.prepare(`UPDATE "Library" SET "title" = 'from the lost server'`).run();
  db.close();
  archive = (await createBackup(lost, { includeMedia: true })).fileName;
  lostDump = withoutMigrationHistory(dumpOf(lost.targetUrl));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-first-run-'));
  await mkdir(path.join(dataDir, 'backups'), { recursive: true });
  await copyFile(archivePath(lost, archive), path.join(dataDir, 'backups', archive));
  await lost.stop();
  fresh = await startServer({ dataDir, signIn: false });
});

after(async () => {
  await fresh?.close();
  await lost?.close();
});

async function gql(query: string, variables: Record<string, unknown>, secret: string | null) {
  const response = await fetch(`${fresh.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, never> | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

const RESTORE = 'mutation($id: ID!) { restoreBackup(input: { backupId: $id }) { __typename ... on RestoreBackupPayload { job { id } } } }';

test('without the setup code a fresh install does nothing: no list, no restore, no websocket', async () => {
  const before = dumpOf(fresh.targetUrl);
  assert.notEqual(withoutMigrationHistory(before), lostDump);
  for (const secret of [null, 'AAAA-BBBB-CCCC-DDDD-EEEE-FFFF']) {
    const list = await gql('{ backups { totalCount } }', {}, secret);
    assert.equal(list.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    const restore = await gql(RESTORE, { id: archive }, secret);
    assert.equal(restore.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  }
  assert.equal((await fetch(`${fresh.url}/api/v1/backups`)).status, 401);
  assert.equal(dumpOf(fresh.targetUrl), before, 'nothing changed');
});

test('with the setup code it lists the archives, restores one and follows it; then the owner sets up', async () => {
  const code = fresh.setupCode!;
  const listed = await gql('{ backups { edges { node { id restorable { ok } } } } }', {}, code);
  assert.deepEqual(listed.data, { backups: { edges: [{ node: { id: archive, restorable: { ok: true } } }] } });
  const rest = await fetch(`${fresh.url}/api/v1/backups`, { headers: { authorization: `Bearer ${code}` } });
  assert.equal(rest.status, 200);

  const started = await gql(RESTORE, { id: archive }, code);
  const jobId = (started.data as unknown as { restoreBackup: { job: { id: string } } }).restoreBackup.job.id;
  const statuses = await followRestore(jobId, code);
  assert.equal(statuses.at(-1), 'SUCCEEDED');
  // Each install keeps its own migration history; the app's data is the lost server's.
  assert.equal(withoutMigrationHistory(dumpOf(fresh.targetUrl)), lostDump, 'the lost server’s data is back');

  // The code may not do anything else meanwhile: not even a backup.
  const create = await gql('mutation { createBackup { __typename } }', {}, code);
  assert.equal(create.errors?.[0]?.extensions?.code, 'FORBIDDEN');

  const setup = await gql(
    'mutation($input: SetupAccountInput!) { setupAccount(input: $input) { ... on LoginPayload { token } } }',
    { input: { ...TEST_ADMIN, setupCode: code.toLowerCase() } },
    null,
  );
  const token = (setup.data as unknown as { setupAccount: { token: string } }).setupAccount.token;
  assert.match(token, /^bcps_/);
  assert.equal((await gql('{ backups { totalCount } }', {}, code)).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'the code is spent');
  const audit = await gql('{ auditLog(first: 10) { edges { node { actor action target outcome } } } }', {}, token);
  const events = (audit.data as unknown as { auditLog: { edges: { node: Record<string, string> }[] } }).auditLog.edges.map((e) => e.node);
  assert.deepEqual(
    events.filter((e) => e.outcome === 'SUCCESS'),
    [
      { actor: 'admin', action: 'setupAccount', target: 'username=admin', outcome: 'SUCCESS' },
      { actor: 'setup code', action: 'restoreBackup', target: `backupId=${archive}`, outcome: 'SUCCESS' },
    ],
  );
});

/** restoreProgress over a websocket signed in with the setup code, until the job ends. */
async function followRestore(jobId: string, code: string): Promise<string[]> {
  const client = createClient({
    url: `${fresh.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: code },
  });
  const statuses: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ restoreProgress: { job: { status: string } } }>(
        { query: 'subscription($id: ID!) { restoreProgress(jobId: $id) { job { status } } }', variables: { id: jobId } },
        {
          next: (value) => {
            if (value.errors) reject(new Error(JSON.stringify(value.errors)));
            if (value.data) statuses.push(value.data.restoreProgress.job.status);
          },
          error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
          complete: resolve,
        },
      );
    });
  } finally {
    await client.dispose();
  }
  return statuses;
}
