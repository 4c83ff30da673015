// restoreBackup through the real server: a job that runs in the background, progress over
// websockets, a safety backup first, refusals before any change.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CreateBackupDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  RestoreProgressDocument,
  type RestoreProgressSubscription,
} from '../generated/graphql.ts';
import { editManifest, pack, readEntries } from '../helpers/archive-edit.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, wsAuth, type TestServer } from '../helpers/server.ts';
import Database from 'better-sqlite3';

let server: TestServer;

before(async () => {
  server = await startServer({ provider: 'sqlite' });
});

after(async () => {
  await server.close();
});

function subscribe(jobId: string): Promise<RestoreProgressSubscription['restoreProgress'][]> {
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: wsAuth(server.token),
  });
  const events: RestoreProgressSubscription['restoreProgress'][] = [];
  return new Promise((resolve, reject) => {
    client.subscribe<RestoreProgressSubscription>(
      { query: print(RestoreProgressDocument), variables: { jobId } },
      {
        next: (value) => value.data && events.push(value.data.restoreProgress),
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(events),
      },
    );
  }).finally(() => client.dispose()) as never;
}

function deleteServers() {
  const db = new Database(server.targetUrl.slice('file:'.length));
  db.prepare(`DELETE FROM "MediaServer"`).run();
  db.close();
}

test('a restore runs in the background, reports every phase over websockets, and keeps a way back', async () => {
  const backup = await createBackup(server, { includeMedia: true });
  deleteServers();
  const started = await server.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
  assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload');
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return;
  const job = started.restoreBackup.job;
  const events = await subscribe(job.id);
  const last = events.at(-1)!;
  assert.equal(last.job.status, 'SUCCEEDED', JSON.stringify(last));
  // The first event is the state at subscribe time; from there the phases only move forward.
  const order = ['QUEUED', 'VERIFYING', 'SAFETY_BACKUP', 'MIGRATING', 'RESTORING', 'FINISHING', 'DONE'];
  const positions = events.map((e) => order.indexOf(e.phase));
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
    `phases in order: ${events.map((e) => e.phase)}`,
  );
  assert.equal(last.phase, 'DONE');
  assert.equal(last.rowsDone, last.rowsTotal);
  const { restoreJob } = await server.gql(RestoreJobDocument, { id: job.id });
  assert.equal(restoreJob?.status, 'SUCCEEDED');
  assert.equal(restoreJob?.preRestoreBackup?.kind, 'PRE_RESTORE');
  assert.equal(restoreJob?.preRestoreBackup?.includesMedia, true);
  const again = await createBackup(server, { includeMedia: true });
  assert.deepEqual(
    again.tables.map((t) => t.sha256),
    backup.tables.map((t) => t.sha256),
    'the data is the backup again',
  );
  // A subscriber that arrives late gets the final state and completion at once.
  assert.equal((await subscribe(job.id)).at(-1)?.job.status, 'SUCCEEDED');
});

test('the target files come back too, each replaced in place', async () => {
  const exampleDir = path.join(server.dataDir, 'example');
  const backup = await createBackup(server, { includeMedia: true });
  const original = await readFile(path.join(exampleDir, 'config.toml'), 'utf8');
  await writeFile(path.join(exampleDir, 'config.toml'), 'broken = true\n');
  await rm(path.join(exampleDir, 'secrets', 'plex-token'));
  await writeFile(path.join(exampleDir, 'secrets', 'added-later'), 'kept');
  const started = await server.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(started.restoreBackup.__typename);
  assert.equal((await subscribe(started.restoreBackup.job.id)).at(-1)?.job.status, 'SUCCEEDED');
  assert.equal(await readFile(path.join(exampleDir, 'config.toml'), 'utf8'), original);
  assert.match(await readFile(path.join(exampleDir, 'secrets', 'plex-token'), 'utf8'), /plex-token/);
  assert.equal(
    await readFile(path.join(exampleDir, 'secrets', 'added-later'), 'utf8'),
    'kept',
    'files the backup does not hold are left alone',
  );
  assert.deepEqual(
    (await readdir(exampleDir)).filter((name) => name.includes('.restoring-')),
    [],
    'no staged file is left behind',
  );
});

test('two restores at once: one runs, the other gets RestoreInProgressError', async () => {
  const backup = await createBackup(server, { includeMedia: true });
  const [first, second] = await Promise.all([
    server.gql(RestoreBackupDocument, { input: { backupId: backup.id } }),
    server.gql(RestoreBackupDocument, { input: { backupId: backup.id } }),
  ]);
  const kinds = [first.restoreBackup.__typename, second.restoreBackup.__typename].sort();
  assert.deepEqual(kinds, ['RestoreBackupPayload', 'RestoreInProgressError']);
  const running = [first, second].find((r) => r.restoreBackup.__typename === 'RestoreBackupPayload')!;
  if (running.restoreBackup.__typename === 'RestoreBackupPayload') await subscribe(running.restoreBackup.job.id);
});

test('a backup asked for during a restore is refused, never run at the same time', async () => {
  const backup = await createBackup(server, { includeMedia: true });
  const started = await server.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(started.restoreBackup.__typename);
  const during = await server.gql(CreateBackupDocument, {});
  const { restoreJob } = await server.gql(RestoreJobDocument, { id: started.restoreBackup.job.id });
  if (during.createBackup.__typename === 'CreateBackupPayload') {
    assert.ok(restoreJob?.finishedAt && restoreJob.finishedAt <= during.createBackup.backup.createdAt, 'only after the restore ended');
  } else {
    assert.equal(during.createBackup.__typename, 'RestoreInProgressError');
  }
  await subscribe(started.restoreBackup.job.id);
});

test('a backup from a newer schema is refused before any change', async () => {
  const backup = await createBackup(server, { includeMedia: true });
  const entries = editManifest(await readEntries(await readFile(archivePath(server, backup.fileName))), (m) => {
    m.migrations.push('20991231000000_from_the_future');
    m.schemaVersion = '20991231000000_from_the_future';
  });
  await writeFile(archivePath(server, 'from-the-future.tar.gz'), await pack(entries));
  const result = await server.gql(RestoreBackupDocument, { input: { backupId: 'from-the-future.tar.gz' } });
  assert.equal(result.restoreBackup.__typename, 'NewerSchemaError');
  if (result.restoreBackup.__typename === 'NewerSchemaError')
    assert.deepEqual(result.restoreBackup.unknownMigrations, ['20991231000000_from_the_future']);
});

test('truncated, flipped, extra, ../, symlink and lying archives are each refused and the target is unchanged', async () => {
  const backup = await createBackup(server, { includeMedia: true });
  const genuine = await readFile(archivePath(server, backup.fileName));
  const entries = await readEntries(genuine);
  const flipped = Buffer.from(genuine);
  flipped[Math.floor(flipped.length / 2)]! ^= 0x04;
  const fileEntry = entries.find((e) => e.name.startsWith('files/'))!;
  const variants: Record<string, Buffer> = {
    truncated: genuine.subarray(0, Math.floor(genuine.length * 0.7)),
    flipped,
    extra: await pack([...entries, { name: 'db/extra.ndjson', content: Buffer.from('[1]\n') }]),
    traversal: await pack([...entries, { name: '../../escape.txt', content: Buffer.from('x') }]),
    symlink: await pack(
      entries.map((e) => (e === fileEntry ? { ...e, type: 'symlink' as const, linkname: '/etc/passwd', content: Buffer.alloc(0) } : e)),
    ),
    lying: await pack(editManifest(entries, (m) => void (m.files[0]!.sha256 = 'a'.repeat(64)))),
  };
  deleteServers();
  const before = await createBackup(server, { includeMedia: true });
  for (const [name, bytes] of Object.entries(variants)) {
    await writeFile(archivePath(server, `${name}.tar.gz`), bytes);
    const started = await server.gql(RestoreBackupDocument, { input: { backupId: `${name}.tar.gz` } });
    if (started.restoreBackup.__typename === 'RestoreBackupPayload') {
      // Found in the one pass that loads and checks: the transaction rolls back.
      const last = (await subscribe(started.restoreBackup.job.id)).at(-1)!;
      assert.equal(last.job.status, 'FAILED', name);
      assert.ok(last.job.error, `${name}: the job says why`);
    } else {
      assert.equal(started.restoreBackup.__typename, 'InvalidArchiveError', name);
    }
  }
  const after = await createBackup(server, { includeMedia: true });
  assert.deepEqual(
    after.tables.map((t) => [t.name, t.sha256]),
    before.tables.map((t) => [t.name, t.sha256]),
    'every table as it was',
  );
  assert.equal(await readFile(path.join(server.dataDir, 'escape.txt')).catch(() => null), null);
});

test('a table that does not match its hash fails the restore once read, and the rollback leaves the target as it was', async () => {
  const backup = await createBackup(server, { includeMedia: true });
  const entries = editManifest(await readEntries(await readFile(archivePath(server, backup.fileName))), (m) => {
    m.tables[0]!.sha256 = 'f'.repeat(64);
  });
  await writeFile(archivePath(server, 'damaged.tar.gz'), await pack(entries));
  deleteServers();
  const started = await server.gql(RestoreBackupDocument, { input: { backupId: 'damaged.tar.gz' } });
  assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload');
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return;
  const last = (await subscribe(started.restoreBackup.job.id)).at(-1)!;
  assert.equal(last.job.status, 'FAILED');
  assert.match(last.job.error ?? '', /SHA-256/);
  // The table was loaded, inside the transaction, before its last byte could be checked.
  assert.ok(last.rowsDone > 0, 'rows went in before the hash was known');
  const { restoreJob } = await server.gql(RestoreJobDocument, { id: started.restoreBackup.job.id });
  assert.ok(restoreJob?.preRestoreBackup, 'the safety backup from before the load is listed');
  const db = new Database(server.targetUrl.slice('file:'.length));
  assert.equal((db.prepare('SELECT count(*) AS n FROM "MediaServer"').get() as { n: number }).n, 0, 'the target is as it was');
  db.close();
});

test('when the safety backup cannot be made, the restore does not start', async () => {
  const target = await ledgerTarget();
  const configFile = path.join(target.dataDir, 'ledger.toml');
  await writeFile(configFile, 'currency = "EUR"\n');
  const ledger = await startServer({ dataDir: target.dataDir, env: { ...target.env, TARGET_FILES: configFile } });
  try {
    fillLedger(target.file, 10, 3);
    const backup = await createBackup(ledger, { includeMedia: true });
    const db = new Database(target.file);
    db.prepare('DELETE FROM "Account" WHERE id > 5').run();
    db.close();
    await rm(configFile); // the next backup, the safety one, cannot be taken
    const started = await ledger.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
    if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(started.restoreBackup.__typename);
    const final = await waitForEnd(ledger, started.restoreBackup.job.id);
    assert.equal(final?.status, 'FAILED');
    assert.match(final?.error ?? '', /ledger\.toml/);
    assert.equal(final?.preRestoreBackup, null);
    const check = new Database(target.file, { readonly: true });
    assert.equal((check.prepare('SELECT count(*) AS n FROM "Account"').get() as { n: number }).n, 5, 'the data was not touched');
    check.close();
  } finally {
    await ledger.close();
  }
});

async function waitForEnd(on: TestServer, jobId: string) {
  for (;;) {
    const { restoreJob } = await on.gql(RestoreJobDocument, { id: jobId });
    if (restoreJob?.status === 'SUCCEEDED' || restoreJob?.status === 'FAILED') return restoreJob;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
