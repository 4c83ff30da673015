// The catalog is the backup folder itself: what is there is listed, what is not is not
// found, and nothing outside it is ever touched.
import assert from 'node:assert/strict';
import { copyFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import { print } from 'graphql';
import WebSocket from 'ws';
import {
  CreateBackupDocument,
  DeleteBackupDocument,
  GetBackupDocument,
  ListBackupsDocument,
  SystemDocument,
} from '../generated/graphql.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, wsAuth, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let decoy: string;

before(async () => {
  const target = await ledgerTarget();
  server = await startServer({ dataDir: target.dataDir, env: target.env });
  fillLedger(target.file, 20, 5);
  // A file beside the backup folder that no request may reach.
  decoy = path.join(target.dataDir, 'decoy.tar.gz');
  await writeFile(decoy, 'not yours');
});

after(async () => {
  await server.close();
});

test('ids that are not listed backups are not found and touch no file', async () => {
  const evilIds = ['../decoy.tar.gz', decoy, '..%2Fdecoy.tar.gz', 'backups/../../decoy.tar.gz', '', '.', '..'];
  for (const id of evilIds) {
    assert.equal((await server.gql(GetBackupDocument, { id })).backup, null, id);
    const deleted = await server.gql(DeleteBackupDocument, { input: { backupId: id } });
    assert.equal(deleted.deleteBackup.__typename, 'NotFoundError', id);
    // '', '.' and '..' are path syntax that clients resolve before sending: no id to test.
    for (const suffix of ['', '.', '..'].includes(id) ? [] : ['', '/download']) {
      for (const method of ['GET', 'DELETE']) {
        if (suffix && method === 'DELETE') continue;
        const response = await server.fetch(`/api/v1/backups/${encodeURIComponent(id)}${suffix}`, { method });
        assert.ok([404, 405].includes(response.status), `${method} ${id}${suffix}: ${response.status}`);
      }
    }
  }
  assert.equal((await stat(decoy)).size, 'not yours'.length, 'the decoy is untouched');
});

test('backups are listed newest first with cursors that survive new backups', async () => {
  const first = await createBackup(server);
  const second = await createBackup(server);
  assert.notEqual(first.fileName, second.fileName, 'two backups in the same second get distinct names');
  const page1 = await server.gql(ListBackupsDocument, { first: 1 });
  assert.equal(page1.backups.edges[0]?.node.id, second.id);
  assert.equal(page1.backups.pageInfo.hasNextPage, true);
  const page2 = await server.gql(ListBackupsDocument, { first: 1, after: page1.backups.pageInfo.endCursor });
  assert.equal(page2.backups.edges[0]?.node.id, first.id);
  const manual = await server.gql(ListBackupsDocument, { kind: 'MANUAL' });
  assert.ok(manual.backups.totalCount >= 2);
  assert.equal((await server.gql(ListBackupsDocument, { kind: 'SCHEDULED' })).backups.totalCount, 0);
});

test('an archive copied into the folder by hand is listed from its manifest; junk is listed as unreadable', async () => {
  const original = await createBackup(server, { note: 'copied' });
  await copyFile(archivePath(server, original.fileName), archivePath(server, 'copied-by-hand.tar.gz'));
  await writeFile(archivePath(server, 'junk.tar.gz'), 'this is not a tar.gz');
  await writeFile(archivePath(server, 'notes.txt'), 'not an archive at all');

  const { backups } = await server.gql(ListBackupsDocument, { first: 100 });
  const copy = backups.edges.find((e) => e.node.id === 'copied-by-hand.tar.gz')?.node;
  assert.ok(copy, 'the copy is listed');
  assert.equal(copy.kind, 'MANUAL');
  assert.equal(copy.note, 'copied');
  assert.deepEqual(copy.tables, original.tables);
  assert.equal(copy.restorable.ok, true);

  const junk = backups.edges.find((e) => e.node.id === 'junk.tar.gz')?.node;
  assert.ok(junk, 'unreadable archives are listed too');
  assert.equal(junk.restorable.ok, false);
  assert.ok(junk.problem);
  assert.ok(!backups.edges.some((e) => e.node.id === 'notes.txt'));
});

test('the REST API lists, creates, downloads and deletes', async () => {
  const created = await server.fetch('/api/v1/backups', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ includeMedia: true }),
  });
  assert.equal(created.status, 201);
  const backup = (await created.json()) as { id: string; sizeBytes: number; includesMedia: boolean; downloadUrl: string };
  assert.equal(backup.includesMedia, true);
  const list = (await (await server.fetch('/api/v1/backups')).json()) as { backups: { id: string }[] };
  assert.ok(list.backups.some((b) => b.id === backup.id));
  const download = await server.fetch(backup.downloadUrl);
  assert.equal(Buffer.from(await download.arrayBuffer()).length, backup.sizeBytes);
  const bad = await server.fetch('/api/v1/backups', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"includeMedia":"yes"}',
  });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { type: string } }).error.type, 'ValidationError');
  const deleted = await server.fetch(`/api/v1/backups/${encodeURIComponent(backup.id)}`, { method: 'DELETE' });
  assert.equal(deleted.status, 200);
  assert.equal((await server.fetch(backup.downloadUrl)).status, 404);
  const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(openapi.paths['/api/v1/backups/{id}/download']);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});

test('bad input is a typed error and writes nothing', async () => {
  const before = await readdir(server.app.config.backupDir);
  const result = await server.gql(CreateBackupDocument, { input: { note: 'x'.repeat(501) } });
  assert.equal(result.createBackup.__typename, 'ValidationError');
  if (result.createBackup.__typename === 'ValidationError') assert.equal(result.createBackup.field, 'note');
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
});

test('GraphQL works over websockets (graphql-ws) on /graphql', async () => {
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: wsAuth(server.token),
  });
  try {
    const result = await new Promise<unknown>((resolve, reject) => {
      let data: unknown;
      client.subscribe({ query: print(SystemDocument) }, { next: (value) => (data = value), error: reject, complete: () => resolve(data) });
    });
    assert.equal((result as { data: { system: { databaseProvider: string } } }).data.system.databaseProvider, 'sqlite');
  } finally {
    await client.dispose();
  }
});

test('GraphiQL is served at /graphql', async () => {
  const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
  assert.equal(response.status, 200);
  assert.match(await response.text(), /graphiql/i);
});
