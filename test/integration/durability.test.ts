// Never a half archive: a failed or killed backup leaves nothing under a final name, and
// start-up removes what an interrupted write left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import Database from 'better-sqlite3';
import { print } from 'graphql';
import { CreateBackupDocument, ListBackupsDocument, RestoreBackupDocument, RestoreJobDocument } from '../generated/graphql.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
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

/** The real server in a process of its own, so that a test can kill it with SIGKILL; signed in as the test admin. */
async function spawnServer(env: Record<string, string>, dataDir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/main.ts')], {
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

async function waitFor(condition: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((resolve) => setTimeout(resolve, 10));
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
