// Never a half archive: a failed or killed backup leaves nothing under a final name, and
// start-up removes what an interrupted write left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import Database from 'better-sqlite3';
import { print } from 'graphql';
import pg from 'pg';
import { CreateBackupDocument, ListBackupsDocument, RestoreBackupDocument, RestoreJobDocument } from '../generated/graphql.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { createScratchDatabase } from '../helpers/postgres.ts';
import { ARCHIVE_NAME } from '../helpers/scenarios.ts';
import { signInAt, startServer } from '../helpers/server.ts';

test('a missing target file fails the backup with a clear error and leaves no file', async () => {
  const missing = path.join(os.tmpdir(), 'bcp-does-not-exist', 'config.toml');
  const target = await ledgerTarget({ TARGET_FILES: missing });
  const server = await startServer({ dataDir: target.dataDir, env: target.env });
  try {
    const result = await server.gql(CreateBackupDocument, {});
    assert.equal(result.createBackup.__typename, 'BackupFailedError');
    if (result.createBackup.__typename === 'BackupFailedError') assert.match(result.createBackup.message, /config\.toml.*TARGET_FILES/);
    assert.deepEqual(await readdir(server.app.config.backupDir), []);
    assert.deepEqual(await readdir(server.app.config.scratchDir), [], 'staging is cleaned up');
  } finally {
    await server.close();
  }
});

test('start-up removes temporary files of dead writers and keeps everything else', async () => {
  const target = await ledgerTarget();
  const first = await startServer({ dataDir: target.dataDir, env: target.env });
  const backupDir = first.app.config.backupDir;
  await first.stop();
  const host = os.hostname();
  const deadPid = 2 ** 22 + 17; // above Linux's pid_max default: never alive
  const leftovers = [`.partial~${host}~${deadPid}~0badc0de~app-backup-2026-01-01T00-00-00-manual.tar.gz`];
  const kept = [`.partial~${host}~1~0badc0de~app-backup-2026-01-01T00-00-00-manual.tar.gz`, 'keep-me.tar.gz'];
  for (const name of [...leftovers, ...kept]) await writeFile(path.join(backupDir, name), 'partial');
  const second = await startServer({ dataDir: target.dataDir, env: target.env });
  try {
    const names = await readdir(backupDir);
    for (const name of leftovers) assert.ok(!names.includes(name), `${name} is removed`);
    for (const name of kept) assert.ok(names.includes(name), `${name} is kept (its writer, pid 1, is alive)`);
  } finally {
    await second.close();
  }
});

test('each instance stages in its own scratch folder; start-up removes only those of instances that are gone', async () => {
  const target = await ledgerTarget();
  const first = await startServer({ dataDir: target.dataDir, env: target.env });
  const root = path.dirname(first.app.config.scratchDir);
  const host = os.hostname();
  const deadPid = 2 ** 22 + 17; // above Linux's pid_max default: never alive
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  const gone = [`${host}~${deadPid}~0badc0de`, 'other-host~123~0badc0de', 'backup-0123456789ab'];
  const alive = [`${host}~1~0badc0de`, 'other-host~124~0badc0de', 'upload-fresh'];
  for (const name of [...gone, ...alive]) {
    await mkdir(path.join(root, name));
    await writeFile(path.join(root, name, 'staged'), 'rows');
  }
  // Another host's folder and one of a version that shared tmp/ are gone once untouched for an hour.
  for (const name of gone.slice(1)) await utimes(path.join(root, name), twoHoursAgo, twoHoursAgo);
  await writeFile(path.join(first.app.config.scratchDir, 'staged'), 'the first instance at work');
  // A second instance on the same data folder.
  const second = await startServer({ dataDir: target.dataDir, env: target.env });
  try {
    assert.notEqual(second.app.config.scratchDir, first.app.config.scratchDir);
    assert.equal(path.dirname(second.app.config.scratchDir), root);
    const names = await readdir(root);
    for (const name of gone) assert.ok(!names.includes(name), `${name} is removed`);
    for (const name of alive) assert.ok(names.includes(name), `${name} is kept`);
    assert.equal(await readFile(path.join(first.app.config.scratchDir, 'staged'), 'utf8'), 'the first instance at work');
  } finally {
    await second.stop();
    await first.close();
  }
});

/**
 * The real server in a process of its own, so that a test can kill it with SIGKILL; signed in as
 * the test admin. `built`: the compiled build, as `npm start` runs it (quicker to start).
 */
async function spawnServer(env: Record<string, string>, dataDir: string, options: { built?: boolean } = {}) {
  const entry = options.built ? [path.join(PROJECT_ROOT, 'dist/src/main.js')] : ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/main.ts')];
  const child = spawn(process.execPath, entry, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, DATA_DIR: dataDir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+?) /.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  // A fresh control database has a setup code to create the account with; else the account exists.
  const setupCode = await readFile(path.join(dataDir, 'setup-code'), 'utf8').then(
    (code) => code.trim(),
    () => null,
  );
  const token = await signInAt(url, setupCode).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    authHeaders: { authorization: `Bearer ${token}` },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

async function waitFor(condition: () => Promise<boolean>, what: string, intervalMs = 10) {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

test('a server killed in the middle of a backup leaves no archive, and the next start cleans up', async () => {
  const target = await ledgerTarget();
  fillLedger(target.file, 2_000, 400); // 800,000 rows: long enough to be caught mid-write
  const backupDir = path.join(target.dataDir, 'backups');
  const server = await spawnServer(target.env, target.dataDir);
  try {
    const url = server.url;
    void fetch(`${url}/api/v1/backups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...server.authHeaders },
      body: '{"includeMedia":true}',
    }).catch(() => {});
    // Kill it once the archive is being written: the most delicate moment.
    await waitFor(async () => (await readdir(backupDir)).some((name) => name.startsWith('.partial~')), 'the archive write started');
    await server.kill();
    const afterKill = await readdir(backupDir);
    assert.ok(!afterKill.some((name) => ARCHIVE_NAME.test(name)), `no archive under a final name: ${afterKill}`);
  } finally {
    await server.kill();
  }
  const restarted = await startServer({ dataDir: target.dataDir, env: target.env });
  try {
    assert.deepEqual(await readdir(backupDir), [], 'the partial file is gone');
    assert.deepEqual(await readdir(restarted.app.config.scratchDir), [], 'so is the staging folder');
    assert.equal((await restarted.gql(ListBackupsDocument, {})).backups.totalCount, 0);
  } finally {
    await restarted.close();
    await rm(target.dataDir, { recursive: true, force: true });
  }
});

test('a server killed in the middle of a restore: after restart the old data is intact and the pre-restore backup is listed', async () => {
  const target = await ledgerTarget();
  fillLedger(target.file, 2_000, 400);
  const first = await startServer({ dataDir: target.dataDir, env: target.env });
  const backup = (await first.gql(CreateBackupDocument, { input: { includeMedia: true } })).createBackup;
  await first.stop();
  if (backup.__typename !== 'CreateBackupPayload') throw new Error(backup.__typename);
  // The state to keep: half the accounts gone since the backup.
  const db = new Database(target.file);
  db.prepare('DELETE FROM "Account" WHERE id % 2 = 0').run();
  const before = db.prepare('SELECT (SELECT count(*) FROM "Account") AS accounts, (SELECT count(*) FROM "Entry") AS entries').get();
  db.close();

  const server = await spawnServer(target.env, target.dataDir);
  const backupDir = path.join(target.dataDir, 'backups');
  let jobId = '';
  try {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...server.authHeaders },
      body: JSON.stringify({ query: print(RestoreBackupDocument), variables: { input: { backupId: backup.backup.id } } }),
    });
    const result = (await response.json()) as { data: { restoreBackup: { job: { id: string } } } };
    jobId = result.data.restoreBackup.job.id;
    // Once the safety backup is written, the rows are being replaced: kill it then.
    await waitFor(
      async () => (await readdir(backupDir)).some((name) => !name.startsWith('.') && name.endsWith('-pre-restore.tar.gz')),
      'the safety backup was written',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.kill();
  } finally {
    await server.kill();
  }
  const restarted = await startServer({ dataDir: target.dataDir, env: target.env });
  try {
    const check = new Database(target.file, { readonly: true });
    assert.deepEqual(
      check.prepare('SELECT (SELECT count(*) FROM "Account") AS accounts, (SELECT count(*) FROM "Entry") AS entries').get(),
      before,
    );
    assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
    check.close();
    const { restoreJob } = await restarted.gql(RestoreJobDocument, { id: jobId });
    assert.equal(restoreJob?.status, 'FAILED', 'the kill came before the commit');
    assert.match(restoreJob?.error ?? '', /interrupted/);
    const listed = await restarted.gql(ListBackupsDocument, { kind: 'PRE_RESTORE' });
    assert.equal(listed.backups.totalCount, 1, 'the way back is listed');
  } finally {
    await restarted.close();
  }
});

// Kill -9 around a restore's commit, over and over, on both kinds of target. After each kill a
// new server settles the job at start-up: the target must hold exactly the data from before
// the restore or exactly the backup's, and the job's final status must say which.

/** One kind of target for the trials: how to change its data, read it whole, and see the backup's rows arrive. */
interface TrialTarget {
  env: Record<string, string>;
  /** Sets every balance to `value` (the backup's are 0) and drops a tenth of the entries. */
  mutate(value: number): Promise<void>;
  /** Every row of both tables, hashed: the test's own reading, not the product's. */
  digest(): Promise<string>;
  /** Whether the backup's rows are visible (account 1's balance back at 0), without waiting for the restore's locks. */
  restoredVisible(): Promise<boolean>;
  close(): Promise<void>;
}

const TRIAL_ACCOUNTS = 300;
const TRIAL_ENTRIES = 100; // 30,000 entries: a restore of a few hundred milliseconds

const hashRows = (rows: unknown[]) => createHash('sha256').update(JSON.stringify(rows)).digest('hex');

async function sqliteTrialTarget(): Promise<TrialTarget & { dataDir: string }> {
  const target = await ledgerTarget();
  fillLedger(target.file, TRIAL_ACCOUNTS, TRIAL_ENTRIES);
  // A connection only while it is used: the server's start-up migrates the target, which
  // waits for every other connection to the file to close (the schema engine's lock).
  const withDb = <T>(work: (db: Database.Database) => T): T => {
    const db = new Database(target.file, { timeout: 10_000 });
    try {
      return work(db);
    } finally {
      db.close();
    }
  };
  return {
    dataDir: target.dataDir,
    env: target.env,
    async mutate(value) {
      withDb((db) => {
        db.prepare('UPDATE "Account" SET balance = ?').run(value);
        db.prepare('DELETE FROM "Entry" WHERE id % 10 = ?').run(value % 10);
      });
    },
    async digest() {
      return withDb((db) =>
        hashRows([
          db.prepare('SELECT * FROM "Account" ORDER BY id').raw().all(),
          db.prepare('SELECT * FROM "Entry" ORDER BY id').raw().all(),
        ]),
      );
    },
    async restoredVisible() {
      return withDb(
        (db) => (db.prepare('SELECT balance FROM "Account" WHERE id = 1').get() as { balance: number } | undefined)?.balance === 0,
      );
    },
    async close() {
      await rm(target.dataDir, { recursive: true, force: true });
    },
  };
}

async function postgresTrialTarget(): Promise<TrialTarget & { dataDir: string }> {
  const database = await createScratchDatabase();
  const control = await createScratchDatabase('bcp_control');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-trials-'));
  const fixture = path.join(PROJECT_ROOT, 'test/fixtures/ledger-postgresql');
  const env = {
    TARGET_SCHEMA: path.join(fixture, 'schema.prisma'),
    TARGET_MIGRATIONS: path.join(fixture, 'migrations'),
    TARGET_DATABASE_URL: database.url,
    CONTROL_DATABASE_URL: control.url,
  };
  // The server applies the target's migrations as it starts; the rows go in after.
  const first = await startServer({ dataDir, env });
  await first.stop();
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  await db.query(`INSERT INTO "Account" (id, name, balance) SELECT a, 'account ' || a, 0 FROM generate_series(1, ${TRIAL_ACCOUNTS}) a`);
  await db.query(
    `INSERT INTO "Entry" ("accountId", amount, memo) SELECT a, e, 'entry ' || e || ' of account ' || a || ', with some text'
     FROM generate_series(1, ${TRIAL_ACCOUNTS}) a, generate_series(1, ${TRIAL_ENTRIES}) e`,
  );
  await db.query(`SELECT setval(pg_get_serial_sequence('"Account"', 'id'), ${TRIAL_ACCOUNTS})`);
  return {
    dataDir,
    env,
    async mutate(value) {
      await db.query('UPDATE "Account" SET balance = $1', [value]);
      await db.query('DELETE FROM "Entry" WHERE id % 10 = $1', [value % 10]);
    },
    async digest() {
      const read = async (sql: string) => (await db.query({ text: sql, rowMode: 'array' })).rows;
      return hashRows([await read('SELECT * FROM "Account" ORDER BY id'), await read('SELECT * FROM "Entry" ORDER BY id')]);
    },
    async restoredVisible() {
      // The restore locks every table until it commits: a read that would wait says "not yet".
      try {
        await db.query(`SET lock_timeout = '1ms'`);
        const { rows } = await db.query<{ balance: number }>('SELECT balance FROM "Account" WHERE id = 1');
        return rows[0]?.balance === 0;
      } catch (error) {
        if ((error as { code?: string }).code === '55P03') return false;
        throw error;
      } finally {
        await db.query(`SET lock_timeout = 0`);
      }
    },
    async close() {
      await db.end();
      await database.drop();
      await control.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function gqlAtServer<T>(server: { url: string; authHeaders: Record<string, string> }, query: string, variables: unknown): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.authHeaders },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: { message: string }[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

type JobState = { status: string; error: string | null } | null;
const jobState = (server: { url: string; authHeaders: Record<string, string> }, id: string) =>
  gqlAtServer<{ restoreJob: JobState }>(server, 'query($id: ID!) { restoreJob(id: $id) { status error } }', { id }).then(
    (data) => data.restoreJob,
  );

async function killAroundTheCommit(t: TestContext, target: TrialTarget & { dataDir: string }, trials: number) {
  let server = await spawnServer(target.env, target.dataDir, { built: true });
  const outcomes = new Map<string, number>();
  try {
    const created = await gqlAtServer<{ createBackup: { backup?: { id: string }; message?: string } }>(
      server,
      'mutation { createBackup(input: { includeMedia: true }) { ... on CreateBackupPayload { backup { id } } ... on Error { message } } }',
      {},
    );
    const backupId = created.createBackup.backup?.id;
    assert.ok(backupId, created.createBackup.message);
    const backupDigest = await target.digest();
    // A first restore, left to finish, measures how long one lasts: the random kills fall within it.
    await target.mutate(1);
    const measured = Date.now();
    const warmUp = await startRestore(server, backupId);
    await waitFor(async () => (await jobState(server, warmUp))?.status === 'SUCCEEDED', 'the first restore to succeed');
    const window = Date.now() - measured;
    assert.equal(await target.digest(), backupDigest);

    for (let trial = 2; trial < trials + 2; trial++) {
      await target.mutate(trial);
      const previousDigest = await target.digest();
      const jobId = await startRestore(server, backupId);
      // Even trials: the moment the backup's rows are visible, just after the commit. Odd: anywhere in the restore.
      if (trial % 2 === 0) await waitFor(() => target.restoredVisible(), 'the restore to commit', 1);
      else await new Promise((resolve) => setTimeout(resolve, Math.random() * window));
      await server.kill();
      server = await spawnServer(target.env, target.dataDir, { built: true });
      const settled = await jobState(server, jobId);
      const now = await target.digest();
      assert.ok(now === backupDigest || now === previousDigest, `trial ${trial}: the data is neither the backup's nor the previous`);
      const expected = now === backupDigest ? 'SUCCEEDED' : 'FAILED';
      assert.equal(
        settled?.status,
        expected,
        `trial ${trial}: ${now === backupDigest ? "the backup's" : 'the previous'} data, ${JSON.stringify(settled)}`,
      );
      const kind = settled?.error?.startsWith('interrupted') ? settled.error.replace(/[,:;(].*/, '') : 'finished before the kill';
      outcomes.set(`${expected}: ${kind}`, (outcomes.get(`${expected}: ${kind}`) ?? 0) + 1);
    }
  } finally {
    await server.kill();
  }
  t.diagnostic(`${trials} kills: ${JSON.stringify(Object.fromEntries(outcomes))}`);
}

async function startRestore(server: { url: string; authHeaders: Record<string, string> }, backupId: string): Promise<string> {
  const started = await gqlAtServer<{ restoreBackup: { job?: { id: string }; message?: string } }>(
    server,
    'mutation($id: ID!) { restoreBackup(input: { backupId: $id }) { ... on RestoreBackupPayload { job { id } } ... on Error { message } } }',
    { id: backupId },
  );
  assert.ok(started.restoreBackup.job, started.restoreBackup.message);
  return started.restoreBackup.job.id;
}

test('SQLite: killed -9 around the commit, a restore is settled at start-up as the data it left', async (t) => {
  const target = await sqliteTrialTarget();
  try {
    await killAroundTheCommit(t, target, 11);
  } finally {
    await target.close();
  }
});

test('PostgreSQL: killed -9 around the commit, a restore is settled at start-up as the data it left', async (t) => {
  const target = await postgresTrialTarget();
  try {
    await killAroundTheCommit(t, target, 11);
  } finally {
    await target.close();
  }
});
