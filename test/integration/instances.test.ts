// Two processes on one PostgreSQL control database, backup folder and target, with Redis
// between them: each scheduled run happens on exactly one instance, and a restore's progress
// reaches subscribers on the instance that did not start it.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { seedExampleLibrary } from '../../src/examples/seed.ts';
import {
  BackupSettingsDocument,
  CreateBackupDocument,
  RestoreBackupDocument,
  RestoreProgressDocument,
  UpdateBackupSettingsDocument,
  type RestoreProgressSubscription,
} from '../generated/graphql.ts';
import { createScratchDatabase, withPg, type ScratchDatabase } from '../helpers/postgres.ts';
import { gqlAt, signInAt, startServer, waitFor, wsAuth, type TestServer } from '../helpers/server.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let control: ScratchDatabase;
let backupDir: string;
let a: TestServer;
let b: { url: string; token: string; dataDir: string; process: ChildProcess; stop(): Promise<void> };

before(async () => {
  control = await createScratchDatabase('bcp_control');
  const shared = await mkdtemp(path.join(os.tmpdir(), 'bcp-instances-'));
  backupDir = path.join(shared, 'backups');
  const env = { CONTROL_DATABASE_URL: control.url, BACKUP_DIR: backupDir, REDIS_URL };
  a = await startServer({ env });
  // A library big enough that a restore lasts a moment.
  await seedExampleLibrary({ databaseUrl: a.targetUrl, items: 2000 });
  b = await spawnServer({ ...env, TARGET_DATABASE_URL: a.targetUrl });
});

after(async () => {
  await b?.stop();
  await a?.close();
  await control?.drop();
  if (backupDir) await rm(path.dirname(backupDir), { recursive: true, force: true });
});

/**
 * Instance B is its own process, started the way `npm start` starts it: the compiled build. The
 * test admin's account is in the shared control database already: B signs in to it.
 */
async function spawnServer(env: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-test-b-'));
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'dist/src/main.js')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`instance B exited with ${code}: ${stderr}`)));
  });
  const token = await signInAt(url).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  return {
    url,
    token,
    dataDir,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const nextRunOf = async (url: string, token: string | null) =>
  (await gqlAt(url, BackupSettingsDocument, undefined, token)).backupSettings.nextRunAt;

test('two instances on one PostgreSQL with an every-second schedule run each scheduled backup once, never two at once', async (t) => {
  const result = await gqlAt(
    a.url,
    UpdateBackupSettingsDocument,
    { input: { frequency: 'CUSTOM', cron: '* * * * * *', keep: 100 } },
    a.token,
  );
  assert.equal(result.updateBackupSettings.__typename, 'UpdateBackupSettingsPayload');
  // B hears of the change from the shared database within seconds, without a restart.
  await waitFor('instance B to take up the schedule', async () => {
    const next = await nextRunOf(b.url, b.token);
    return next !== null && new Date(next).getTime() - Date.now() <= 1500;
  });
  const claims = () =>
    withPg(
      control.url,
      async (db) => (await db.query<{ instance: string; status: string }>(`SELECT "instance", "status" FROM "ScheduledRun"`)).rows,
    );
  await waitFor('six successful scheduled runs', async () => (await claims()).filter((row) => row.status === 'SUCCEEDED').length >= 6);
  // Both instances race for every slot, and which one wins is up to their timers. Then A's
  // scheduler leaves and B, which was racing all along, goes on alone.
  const winners = new Map<string, number>();
  for (const row of await claims()) winners.set(row.instance, (winners.get(row.instance) ?? 0) + 1);
  t.diagnostic(`slots won per instance while both ran: ${JSON.stringify(Object.fromEntries(winners))}`);
  await a.app.services.scheduler.stop();
  const instanceA = a.app.services.scheduler.instance;
  await waitFor(
    'instance B to run slots alone',
    async () => (await claims()).filter((row) => row.instance !== instanceA && row.status === 'SUCCEEDED').length >= 2,
  );
  assert.equal(
    (await gqlAt(a.url, UpdateBackupSettingsDocument, { input: { frequency: 'OFF' } }, a.token)).updateBackupSettings.__typename,
    'UpdateBackupSettingsPayload',
  );
  await waitFor('both instances to stop scheduling and finish', async () => {
    if ((await nextRunOf(a.url, a.token)) !== null || (await nextRunOf(b.url, b.token)) !== null) return false;
    const running = await withPg(control.url, (db) => db.query(`SELECT 1 FROM "ScheduledRun" WHERE "status" = 'RUNNING'`));
    return running.rowCount === 0;
  });

  const { runs, backups } = await withPg(control.url, async (db) => ({
    runs: (
      await db.query<{ slot: Date; status: string; fileName: string | null; error: string | null }>(
        `SELECT * FROM "ScheduledRun" ORDER BY "slot"`,
      )
    ).rows,
    backups: (
      await db.query<{ fileName: string | null; status: string; startedAt: Date; finishedAt: Date | null }>(
        `SELECT "fileName", "status", "startedAt", "finishedAt" FROM "BackupRun" WHERE "trigger" = 'schedule' ORDER BY "startedAt"`,
      )
    ).rows,
  }));
  const succeeded = runs.filter((run) => run.status === 'SUCCEEDED');
  assert.deepEqual(
    runs.filter((run) => run.status === 'FAILED'),
    [],
    'no scheduled run failed',
  );
  // Every backup the schedule started belongs to exactly one claimed slot: none ran twice.
  assert.equal(backups.length, succeeded.length, 'one backup per successful slot');
  assert.deepEqual(backups.map((run) => run.fileName).sort(), succeeded.map((run) => run.fileName).sort());
  const files = (await readdir(backupDir)).filter((name) => name.endsWith('-scheduled.tar.gz'));
  assert.deepEqual(files.sort(), succeeded.map((run) => run.fileName).sort(), 'the folder holds exactly those archives');
  // And never two at once: each scheduled backup ended before the next began.
  for (let i = 1; i < backups.length; i++) {
    assert.ok(backups[i - 1]!.finishedAt! <= backups[i]!.startedAt, `scheduled backups ${i - 1} and ${i} overlap`);
  }
  for (const run of runs.filter((r) => r.status === 'SKIPPED')) assert.match(run.error ?? '', /still running/);
});

test('a subscriber on instance A sees the progress of a restore started on instance B, through Redis', async () => {
  const created = await gqlAt(b.url, CreateBackupDocument, { input: { includeMedia: true } }, b.token);
  assert.equal(created.createBackup.__typename, 'CreateBackupPayload');
  if (created.createBackup.__typename !== 'CreateBackupPayload') return;
  const backupId: string = created.createBackup.backup.id;
  const live = ['VERIFYING', 'SAFETY_BACKUP', 'MIGRATING', 'RESTORING', 'FINISHING'];
  const seen: string[] = [];
  // A subscriber can only ask once it knows the job's id, and a fast restore may be nearly
  // done by then: restores are repeated until A has seen events of B's run itself.
  for (let attempt = 0; attempt < 5; attempt++) {
    const started = await gqlAt(b.url, RestoreBackupDocument, { input: { backupId } }, b.token);
    if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(started.restoreBackup.__typename);
    const jobId: string = started.restoreBackup.job.id;
    const events = await subscribeOn(a.url, a.token, jobId);
    const last = events.at(-1)!;
    assert.equal(last.job.id, jobId);
    assert.equal(last.job.status, 'SUCCEEDED', JSON.stringify(last));
    seen.push(events.map((e) => `${e.phase}/${e.job.status}`).join(', '));
    // Phases and rows as they happened on B, not only A's look at the finished job in the database.
    if (events.some((event) => live.includes(event.phase) && event.rowsTotal > 0)) return;
  }
  assert.fail(`A never saw B's progress: ${seen.join(' | ')}`);
});

async function subscribeOn(url: string, token: string | null, jobId: string): Promise<RestoreProgressSubscription['restoreProgress'][]> {
  const client = createClient({
    url: `${url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: wsAuth(token),
  });
  const events: RestoreProgressSubscription['restoreProgress'][] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      client.subscribe<RestoreProgressSubscription>(
        { query: print(RestoreProgressDocument), variables: { jobId } },
        {
          next: (value) => value.data && events.push(value.data.restoreProgress),
          error: (error) => reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
          complete: () => resolve(),
        },
      );
    });
  } finally {
    await client.dispose();
  }
  return events;
}
