// Backups as jobs through the real server: startBackup at once, backupProgress over websockets,
// cancelJob on a backup and on a restore (SQLite and PostgreSQL), and the jobs list.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { print, type DocumentNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { seedExampleLibrary } from '../../src/examples/seed.ts';
import {
  BackupJobDocument,
  BackupProgressDocument,
  CancelJobDocument,
  JobsDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  RestoreProgressDocument,
  StartBackupDocument,
  type BackupProgressSubscription,
  type JobsQuery,
  type RestoreProgressSubscription,
} from '../generated/graphql.ts';
import { dumpOf } from '../helpers/dumps.ts';
import { archivePath, createBackup, restoreAndWait } from '../helpers/scenarios.ts';
import { startServer, TEST_ADMIN, waitFor, wsAuth, type TestServer } from '../helpers/server.ts';

type BackupEvent = BackupProgressSubscription['backupProgress'];
type RestoreEvent = RestoreProgressSubscription['restoreProgress'];

/** Enough rows that a backup or a restore is still reading or loading when a cancel arrives. */
const ITEMS = 5000;

let server: TestServer;

before(async () => {
  server = await startServer();
  await seedExampleLibrary({ databaseUrl: server.targetUrl, items: ITEMS });
});

after(async () => {
  await server?.close();
});

/** Every event of a subscription until it completes; `onEvent` sees each as it comes. */
function follow<T>(on: TestServer, document: DocumentNode, jobId: string, onEvent: (event: T) => void = () => {}): Promise<T[]> {
  const client = createClient({
    url: `${on.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: wsAuth(on.token),
  });
  const events: T[] = [];
  return new Promise<T[]>((resolve, reject) => {
    client.subscribe<Record<string, T>>(
      { query: print(document), variables: { jobId } },
      {
        next: (value) => {
          if (value.errors?.length) return reject(new Error(JSON.stringify(value.errors)));
          const event = Object.values(value.data ?? {})[0];
          if (event) {
            events.push(event);
            onEvent(event);
          }
        },
        error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(events),
      },
    );
  }).finally(() => client.dispose());
}

async function startBackup(on: TestServer, input: { includeMedia?: boolean } = { includeMedia: true }) {
  const started = await on.gql(StartBackupDocument, { input });
  if (started.startBackup.__typename !== 'StartBackupPayload') throw new Error(JSON.stringify(started.startBackup));
  return started.startBackup.job;
}

async function cancel(on: TestServer, jobId: string) {
  return (await on.gql(CancelJobDocument, { input: { jobId } })).cancelJob;
}

/** What the backup folder holds, temporary files (dot-named) included. */
async function backupFolder(on: TestServer): Promise<string[]> {
  return (await readdir(archivePath(on, '.'))).sort();
}

test('startBackup returns the job at once; backupProgress reports tables, rows and bytes until SUCCEEDED', async () => {
  const job = await startBackup(server);
  assert.equal(job.__typename, 'BackupJob');
  assert.ok(job.status === 'PENDING' || job.status === 'RUNNING', job.status);
  assert.equal(job.kind, 'BACKUP');
  assert.equal(job.backupKind, 'MANUAL');
  assert.equal(job.startedBy, TEST_ADMIN.username);
  assert.equal(job.fileName, null);
  const events = await follow<BackupEvent>(server, BackupProgressDocument, job.id);
  const last = events.at(-1)!;
  assert.equal(last.job.status, 'SUCCEEDED', JSON.stringify(last));
  assert.equal(last.phase, 'DONE');
  const order = ['QUEUED', 'READING', 'WRITING', 'DONE'];
  const positions = events.map((e) => order.indexOf(e.phase));
  assert.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
    `phases in order: ${events.map((e) => e.phase)}`,
  );
  assert.ok(
    events.some((e) => e.phase === 'READING' && e.table),
    'events name the table being read',
  );
  for (const [name, values] of [
    ['rowsDone', events.map((e) => e.rowsDone)],
    ['bytesRead', events.map((e) => e.bytesRead)],
    ['bytesWritten', events.map((e) => e.bytesWritten)],
  ] as const) {
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      `${name} only grows`,
    );
  }
  assert.ok(new Set(events.filter((e) => e.phase === 'READING').map((e) => e.rowsDone)).size > 2, 'rows are reported as they are read');
  assert.equal(last.tablesDone, last.tablesTotal);
  assert.equal(last.rowsTotal, last.rowsDone);
  assert.ok(last.job.fileName);

  const { backupJob } = await server.gql(BackupJobDocument, { id: job.id });
  assert.equal(backupJob?.status, 'SUCCEEDED');
  assert.equal(backupJob?.backup?.id, last.job.fileName, 'the job links to its backup');
  assert.ok(backupJob?.sizeBytes && backupJob.sizeBytes > 0);
  assert.ok(backupJob?.durationMs !== null && backupJob!.durationMs! >= 0);
  // A late subscriber gets the final state and completion at once.
  assert.equal((await follow<BackupEvent>(server, BackupProgressDocument, job.id)).at(-1)?.job.status, 'SUCCEEDED');
});

test('cancelJob stops a backup midway: FAILED, no archive nor temporary file, and the next backup works', async () => {
  const before = await backupFolder(server);
  const job = await startBackup(server);
  let cancelled: Promise<Awaited<ReturnType<typeof cancel>>> | null = null;
  const events = await follow<BackupEvent>(server, BackupProgressDocument, job.id, (event) => {
    if (event.phase === 'READING' && !cancelled) cancelled = cancel(server, job.id);
  });
  const answer = await cancelled!;
  assert.equal(answer.__typename, 'CancelJobPayload', JSON.stringify(answer));
  const last = events.at(-1)!;
  assert.equal(last.job.status, 'FAILED');
  assert.match(last.job.error ?? '', new RegExp(`cancelled by ${TEST_ADMIN.username}: no backup was kept`));
  if (answer.__typename === 'CancelJobPayload') assert.equal(answer.job.status, 'FAILED', 'the answer waits for the job to end');
  assert.deepEqual(await backupFolder(server), before, 'no archive and no temporary file left');
  const listed = await server.gql(JobsDocument, { first: 1 });
  assert.equal(listed.jobs.edges[0]?.node.id, job.id);
  assert.equal(listed.jobs.edges[0]?.node.backup, null);

  const next = await startBackup(server);
  const done = (await follow<BackupEvent>(server, BackupProgressDocument, next.id)).at(-1)!;
  assert.equal(done.job.status, 'SUCCEEDED', JSON.stringify(done));
});

test('cancelJob on a finished job and on an unknown id answers typed errors', async () => {
  const job = await startBackup(server, {});
  await follow<BackupEvent>(server, BackupProgressDocument, job.id);
  const finished = await cancel(server, job.id);
  assert.equal(finished.__typename, 'JobFinishedError');
  if (finished.__typename === 'JobFinishedError') assert.equal(finished.status, 'SUCCEEDED');
  const unknown = await cancel(server, 'no-such-job');
  assert.equal(unknown.__typename, 'NotFoundError');
});

test('a backup cancelled while it waits for the one ahead ends at once; the one ahead goes on', async () => {
  const ahead = await startBackup(server);
  const queued = await startBackup(server);
  assert.equal(queued.status, 'PENDING');
  const answer = await cancel(server, queued.id);
  assert.equal(answer.__typename, 'CancelJobPayload');
  if (answer.__typename === 'CancelJobPayload') {
    assert.equal(answer.job.status, 'FAILED');
    assert.equal(answer.job.startedAt, null, 'it never started');
  }
  assert.equal((await follow<BackupEvent>(server, BackupProgressDocument, ahead.id)).at(-1)?.job.status, 'SUCCEEDED');
});

test('startBackup refuses at once what createBackup would refuse', async () => {
  const weak = await server.gql(StartBackupDocument, { input: { passphrase: 'short' } });
  assert.equal(weak.startBackup.__typename, 'ValidationError');
  const note = await server.gql(StartBackupDocument, { input: { note: 'x'.repeat(501) } });
  assert.equal(note.startBackup.__typename, 'ValidationError');
  if (note.startBackup.__typename === 'ValidationError') assert.equal(note.startBackup.field, 'note');
});

/**
 * Takes a backup, changes the target, starts a restore and cancels it while its rows load:
 * the job fails saying so, the target is as it was, and the same restore then succeeds.
 */
async function cancelRestoreMidway(on: TestServer) {
  const backup = await createBackup(on, { includeMedia: true });
  await seedExampleLibrary({ databaseUrl: on.targetUrl, items: 50 });
  const before = dumpOf(on.targetUrl);
  const started = await restoreAndStart(on, backup.id);
  let cancelled: Promise<Awaited<ReturnType<typeof cancel>>> | null = null;
  const events = await follow<RestoreEvent>(on, RestoreProgressDocument, started, (event) => {
    if (event.phase === 'RESTORING' && event.rowsDone > 0 && !cancelled) cancelled = cancel(on, started);
  });
  const answer = await cancelled!;
  assert.equal(answer.__typename, 'CancelJobPayload', JSON.stringify(answer));
  const last = events.at(-1)!;
  assert.equal(last.job.status, 'FAILED', JSON.stringify(last));
  assert.match(last.job.error ?? '', new RegExp(`cancelled by ${TEST_ADMIN.username} before the commit: the data was left as it was`));
  assert.ok(last.rowsDone < last.rowsTotal, 'cancelled while rows were loading');
  assert.equal(dumpOf(on.targetUrl), before, 'the target is exactly as it was');
  const { restoreJob } = await on.gql(RestoreJobDocument, { id: started });
  assert.equal(restoreJob?.status, 'FAILED');

  const { job } = await restoreAndWait(on, backup.id);
  assert.equal(job?.status, 'SUCCEEDED', job?.error ?? '');
  assert.notEqual(dumpOf(on.targetUrl), before, 'the restore then replaces the data');
}

async function restoreAndStart(on: TestServer, backupId: string): Promise<string> {
  const started = await on.gql(RestoreBackupDocument, { input: { backupId } });
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(JSON.stringify(started.restoreBackup));
  return started.restoreBackup.job.id;
}

test('cancelJob rolls a SQLite restore back midway; the target is unchanged and restores fine afterwards', async () => {
  await cancelRestoreMidway(server);
});

test('cancelJob rolls a PostgreSQL restore back midway; the target is unchanged and restores fine afterwards', async () => {
  const pg = await startServer({ provider: 'postgresql' });
  try {
    await seedExampleLibrary({ databaseUrl: pg.targetUrl, items: ITEMS });
    await cancelRestoreMidway(pg);
  } finally {
    await pg.close();
  }
});

test('jobs lists backups and restores, newest first, with who started them, durations, sizes and outcomes', async () => {
  // What the scheduler calls at a due time.
  await server.app.services.backups.create({ kind: 'scheduled', trigger: 'schedule' });
  const all = await server.gql(JobsDocument, { first: 100 });
  const jobs = all.jobs.edges.map((e) => e.node);
  assert.equal(all.jobs.totalCount, jobs.length);
  const times = jobs.map((j) => j.createdAt);
  assert.deepEqual(times, [...times].sort().reverse(), 'newest first');

  const scheduled = jobs[0]!;
  assert.equal(scheduled.__typename, 'BackupJob');
  if (scheduled.__typename === 'BackupJob') assert.equal(scheduled.backupKind, 'SCHEDULED');
  assert.equal(scheduled.startedBy, 'schedule');
  assert.equal(scheduled.status, 'SUCCEEDED');

  const restores = jobs.filter((j) => j.kind === 'RESTORE');
  assert.deepEqual(
    restores.map((j) => j.status),
    ['SUCCEEDED', 'FAILED'],
    'the restore that succeeded, then the cancelled one',
  );
  for (const job of restores) {
    assert.equal(job.__typename, 'RestoreJob');
    assert.equal(job.startedBy, TEST_ADMIN.username);
    assert.ok(job.sizeBytes && job.sizeBytes > 0, 'the size of the backup restored');
    assert.ok(job.backup, 'the backup restored');
  }
  const safety = jobs.filter((j) => j.__typename === 'BackupJob' && j.backupKind === 'PRE_RESTORE');
  assert.equal(safety.length, 2, 'each restore took a safety backup');
  assert.ok(safety.every((j) => j.startedBy === TEST_ADMIN.username));

  for (const job of jobs.filter((j) => j.status === 'SUCCEEDED')) {
    assert.ok(job.durationMs !== null && job.durationMs >= 0, `${job.id}: a duration`);
    assert.ok(job.sizeBytes && job.sizeBytes > 0, `${job.id}: a size`);
    assert.equal(job.error, null);
  }
  const failed = jobs.filter((j) => j.status === 'FAILED');
  assert.ok(failed.length >= 2 && failed.every((j) => /cancelled by/.test(j.error ?? '')));

  // Paged, and filtered by kind and status.
  const pages: string[] = [];
  let after: string | null | undefined = null;
  do {
    const page: JobsQuery = await server.gql(JobsDocument, { first: 3, after });
    pages.push(...page.jobs.edges.map((e) => e.node.id));
    after = page.jobs.pageInfo.hasNextPage ? page.jobs.pageInfo.endCursor : null;
  } while (after);
  assert.deepEqual(
    pages,
    jobs.map((j) => j.id),
    'pages of three give the same list',
  );
  const onlyRestores = await server.gql(JobsDocument, { first: 100, kind: 'RESTORE' });
  assert.deepEqual(
    onlyRestores.jobs.edges.map((e) => e.node.id),
    restores.map((j) => j.id),
  );
  const onlyFailed = await server.gql(JobsDocument, { first: 100, status: 'FAILED' });
  assert.deepEqual(
    onlyFailed.jobs.edges.map((e) => e.node.id),
    failed.map((j) => j.id),
  );

  // The same list over REST.
  const rest = (await (await server.fetch('/api/v1/jobs')).json()) as { jobs: { id: string; startedBy: string | null }[] };
  assert.deepEqual(
    rest.jobs.map((j) => [j.id, j.startedBy]),
    jobs.map((j) => [j.id, j.startedBy]),
  );
  const failedRestores = (await (await server.fetch('/api/v1/jobs?kind=RESTORE&status=FAILED')).json()) as { jobs: { id: string }[] };
  assert.deepEqual(
    failedRestores.jobs.map((j) => j.id),
    restores.filter((j) => j.status === 'FAILED').map((j) => j.id),
  );
  assert.equal((await server.fetch('/api/v1/jobs?kind=SOMETHING')).status, 400);
  const newest = (await (await server.fetch('/api/v1/jobs?limit=2')).json()) as { jobs: { id: string }[] };
  assert.deepEqual(
    newest.jobs.map((j) => j.id),
    jobs.slice(0, 2).map((j) => j.id),
  );
  for (const limit of ['0', '1001', 'ten', '-1']) assert.equal((await server.fetch(`/api/v1/jobs?limit=${limit}`)).status, 400, limit);
});

test('createBackup records who asked, and its job is watched like any other', async () => {
  const backup = await createBackup(server);
  const listed = (await server.gql(JobsDocument, { first: 1 })).jobs.edges[0]!.node;
  assert.equal(listed.startedBy, TEST_ADMIN.username);
  assert.equal(listed.backup?.id, backup.id);
  const events = await waitFor('the finished job', async () => follow<BackupEvent>(server, BackupProgressDocument, listed.id));
  assert.deepEqual(
    events.map((e) => e.job.status),
    ['SUCCEEDED'],
  );
});
