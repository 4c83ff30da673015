// Two processes on one PostgreSQL control database, backup folder and target, with Redis
// between them: each scheduled run happens on exactly one instance, a restore's progress
// reaches subscribers on the instance that did not start it, and so does a cancel; one restore runs at a time
// across instances (the restore lease), also for two instances on one data folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { seedExampleLibrary } from '../../src/examples/seed.ts';
import { MAX_FAILURES_PER_ACCOUNT } from '../../src/modules/access/login-throttle.ts';
import {
  BackupSettingsDocument,
  CancelJobDocument,
  CreateBackupDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
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
let b: Awaited<ReturnType<typeof spawnServer>>;

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
async function spawnServer(env: Record<string, string>, sharedDataDir?: string) {
  const dataDir = sharedDataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'bcp-test-b-')));
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
  const setupCode = sharedDataDir
    ? await readFile(path.join(dataDir, 'setup-code'), 'utf8').then(
        (code) => code.trim(),
        () => null,
      )
    : null;
  const token = await signInAt(url, setupCode).catch((error: unknown) => {
    child.kill('SIGTERM');
    throw error;
  });
  return {
    url,
    token,
    dataDir,
    process: child,
    /** Ends the process at once, as a crash would. */
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!sharedDataDir) await rm(dataDir, { recursive: true, force: true });
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

test('a cancel sent to instance A stops a restore running on instance B, through Redis', async () => {
  const created = await gqlAt(b.url, CreateBackupDocument, { input: { includeMedia: true } }, b.token);
  if (created.createBackup.__typename !== 'CreateBackupPayload') throw new Error(created.createBackup.__typename);
  const backupId = created.createBackup.backup.id;
  const outcomes: string[] = [];
  // A restore that ends before the cancel reaches B is repeated: the cancel must be seen to work.
  for (let attempt = 0; attempt < 5; attempt++) {
    const started = await gqlAt(b.url, RestoreBackupDocument, { input: { backupId } }, b.token);
    if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(started.restoreBackup.__typename);
    const jobId = started.restoreBackup.job.id;
    let cancelled: Promise<unknown> | null = null;
    const events = await subscribeOn(a.url, a.token, jobId, (event) => {
      if (event.phase !== 'DONE' && !cancelled) cancelled = gqlAt(a.url, CancelJobDocument, { input: { jobId } }, a.token);
    });
    await cancelled;
    const last = events.at(-1)!;
    outcomes.push(`${last.job.status}: ${last.job.error}`);
    if (last.job.status === 'FAILED') {
      assert.match(last.job.error ?? '', /cancelled by admin before the commit: the data was left as it was/);
      return;
    }
  }
  assert.fail(`the cancel never reached B: ${outcomes.join(' | ')}`);
});

async function subscribeOn(
  url: string,
  token: string | null,
  jobId: string,
  onEvent: (event: RestoreProgressSubscription['restoreProgress']) => void = () => {},
): Promise<RestoreProgressSubscription['restoreProgress'][]> {
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
          next: (value) => {
            if (!value.data) return;
            events.push(value.data.restoreProgress);
            onEvent(value.data.restoreProgress);
          },
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

/** What a restore or backup request answers, with the job id a RestoreInProgressError names. */
const RESTORE = `mutation($id: ID!) { restoreBackup(input: { backupId: $id }) {
  __typename ... on RestoreBackupPayload { job { id } } ... on RestoreInProgressError { jobId } ... on Error { message } } }`;
const BACKUP = `mutation { createBackup(input: {}) { __typename ... on RestoreInProgressError { jobId } ... on Error { message } } }`;
type Answer = { __typename: string; job?: { id: string }; jobId?: string; message?: string };

async function ask(url: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<Answer> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: Record<string, Answer>; errors?: unknown };
  assert.ok(!body.errors, JSON.stringify(body.errors));
  return Object.values(body.data)[0]!;
}

const jobOf = async (url: string, token: string | null, id: string) => (await gqlAt(url, RestoreJobDocument, { id }, token)).restoreJob;

async function aBackupId(): Promise<string> {
  const created = await gqlAt(a.url, CreateBackupDocument, { input: { includeMedia: true } }, a.token);
  if (created.createBackup.__typename !== 'CreateBackupPayload') throw new Error(created.createBackup.__typename);
  return created.createBackup.backup.id;
}

test('a restore on another instance refuses restores and backups here; killed -9, its lease ends with its process', async () => {
  const backupId = await aBackupId();
  const c = await spawnServer({ CONTROL_DATABASE_URL: control.url, BACKUP_DIR: backupDir, REDIS_URL, TARGET_DATABASE_URL: a.targetUrl });
  let cJob = '';
  try {
    // A restore is quick: should C's end before A asks, C restores again.
    for (let attempt = 0; attempt < 5 && !cJob; attempt++) {
      const started = await ask(c.url, c.token, RESTORE, { id: backupId });
      assert.equal(started.__typename, 'RestoreBackupPayload', started.message);
      const onA = await ask(a.url, a.token, RESTORE, { id: backupId });
      const backupOnA = await ask(a.url, a.token, BACKUP);
      if (onA.__typename === 'RestoreBackupPayload') {
        await waitFor('the restore on A to end', async () =>
          ['SUCCEEDED', 'FAILED'].includes((await jobOf(a.url, a.token, onA.job!.id))?.status ?? ''),
        );
        continue;
      }
      assert.deepEqual(
        [onA.__typename, onA.jobId],
        ['RestoreInProgressError', started.job!.id],
        "a restore on A is refused, naming C's job",
      );
      assert.deepEqual([backupOnA.__typename, backupOnA.jobId], ['RestoreInProgressError', started.job!.id], 'so is a backup on A');
      cJob = started.job!.id;
      await c.kill();
    }
    assert.ok(cJob, "A never asked while C's restore ran");
  } finally {
    await c.stop();
  }
  // C's process is gone: its lease goes with it, at once, and A's restore settles C's job first.
  const onA = await ask(a.url, a.token, RESTORE, { id: backupId });
  assert.equal(onA.__typename, 'RestoreBackupPayload', onA.message);
  const done = await waitFor('the restore on A to end', async () => {
    const job = await jobOf(a.url, a.token, onA.job!.id);
    return job?.status === 'SUCCEEDED' || job?.status === 'FAILED' ? job : null;
  });
  assert.equal(done.status, 'SUCCEEDED', done.error ?? '');
  const settled = await jobOf(a.url, a.token, cJob);
  assert.ok(settled?.status === 'SUCCEEDED' || settled?.status === 'FAILED', JSON.stringify(settled));
  assert.match(settled.error ?? '', /^interrupted/);
});

test('a lease its holder stopped renewing (an instance on another host) is free once it expires; scheduled backups skip until then', async () => {
  const backupId = await aBackupId();
  const holder = 'elsewhere~4242~0badc0de';
  const at = (ms: number) => new Date(Date.now() + ms).toISOString().replace('T', ' ').replace('Z', ''); // as Prisma stores it: UTC
  await withPg(control.url, async (db) => {
    await db.query(
      `INSERT INTO "RestoreJob" (id, "backupId", status, phase, "createdAt", "startedAt", instance) VALUES ('remote-job', $1, 'RUNNING', 'RESTORING', $2, $2, $3)`,
      [backupId, at(0), holder],
    );
    await db.query(
      `INSERT INTO "RestoreLease" (id, holder, "jobId", "acquiredAt", "heartbeatAt", "expiresAt") VALUES (1, $1, 'remote-job', $2, $2, $3)`,
      [holder, at(0), at(12_000)],
    );
  });
  const refused = await ask(a.url, a.token, RESTORE, { id: backupId });
  assert.deepEqual([refused.__typename, refused.jobId], ['RestoreInProgressError', 'remote-job']);
  assert.deepEqual((await ask(b.url, b.token, BACKUP)).jobId, 'remote-job', 'a backup on B is refused too');
  // Scheduled backups on either instance are skipped while the lease holds.
  const every = await gqlAt(
    a.url,
    UpdateBackupSettingsDocument,
    { input: { frequency: 'CUSTOM', cron: '* * * * * *', keep: 100 } },
    a.token,
  );
  assert.equal(every.updateBackupSettings.__typename, 'UpdateBackupSettingsPayload');
  try {
    await waitFor('a scheduled run skipped for the restore', () =>
      withPg(control.url, async (db) => {
        const { rows } = await db.query<{ error: string }>(
          `SELECT error FROM "ScheduledRun" WHERE status = 'SKIPPED' AND error LIKE '%remote-job%'`,
        );
        return rows.length > 0;
      }),
    );
  } finally {
    await gqlAt(a.url, UpdateBackupSettingsDocument, { input: { frequency: 'OFF' } }, a.token);
  }
  // No one renews it: once expired, A takes it over and settles the job it was held for.
  const accepted = await waitFor(
    'the lease to expire',
    async () => {
      const answer = await ask(a.url, a.token, RESTORE, { id: backupId });
      return answer.__typename === 'RestoreBackupPayload' ? answer : null;
    },
    15_000,
  );
  const done = await waitFor('the restore on A to end', async () => {
    const job = await jobOf(a.url, a.token, accepted.job!.id);
    return job?.status === 'SUCCEEDED' || job?.status === 'FAILED' ? job : null;
  });
  assert.equal(done.status, 'SUCCEEDED', done.error ?? '');
  const remote = await jobOf(a.url, a.token, 'remote-job');
  assert.equal(remote?.status, 'FAILED');
  assert.match(remote?.error ?? '', /before the commit/);
});

test('two instances on one data folder: each its own scratch folder, one restore at a time', async () => {
  const first = await startServer();
  const second = await spawnServer({ TARGET_DATABASE_URL: first.targetUrl }, first.dataDir);
  try {
    const created = await first.gql(CreateBackupDocument, { input: { includeMedia: true } });
    if (created.createBackup.__typename !== 'CreateBackupPayload') throw new Error(created.createBackup.__typename);
    const started = await ask(second.url, second.token, RESTORE, { id: created.createBackup.backup.id });
    assert.equal(started.__typename, 'RestoreBackupPayload', started.message);
    const onFirst = await ask(first.url, first.token, RESTORE, { id: created.createBackup.backup.id });
    assert.deepEqual([onFirst.__typename, onFirst.jobId], ['RestoreInProgressError', started.job!.id]);
    await waitFor('the restore to end', async () => (await jobOf(first.url, first.token, started.job!.id))?.status === 'SUCCEEDED');
    const scratch = await readdir(path.dirname(first.app.config.scratchDir));
    assert.equal(scratch.length, 2, `one scratch folder per instance: ${scratch.join(', ')}`);
  } finally {
    await second.stop();
    await first.close();
  }
});

test('failed sign-ins count across instances: the limit reached on A holds on B, and through a restart', async () => {
  const username = `guesser-${Date.now()}`;
  const login = async (url: string) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation($input: LoginInput!) { login(input: $input) { __typename ... on Error { message } } }`,
        variables: { input: { username, password: 'not the password, however long' } },
      }),
    });
    return ((await response.json()) as { data: { login: { __typename: string; message: string } } }).data.login;
  };
  for (let attempt = 0; attempt < MAX_FAILURES_PER_ACCOUNT; attempt++) {
    assert.equal((await login(a.url)).__typename, 'InvalidCredentialsError');
  }
  const onB = await login(b.url);
  assert.equal(onB.__typename, 'TooManyAttemptsError', onB.message);
  const restarted = await spawnServer({ CONTROL_DATABASE_URL: control.url, BACKUP_DIR: backupDir, TARGET_DATABASE_URL: a.targetUrl });
  try {
    assert.equal((await login(restarted.url)).__typename, 'TooManyAttemptsError', 'a new process remembers');
  } finally {
    await restarted.stop();
  }
});
