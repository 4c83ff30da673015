// Never a half archive: a failed or killed backup leaves nothing under a final name, and
// start-up removes what an interrupted write left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../src/config.ts';
import { CreateBackupDocument, ListBackupsDocument } from './generated/graphql.ts';
import { fillLedger, ledgerTarget } from './helpers/ledger.ts';
import { ARCHIVE_NAME } from './helpers/scenarios.ts';
import { startServer } from './helpers/server.ts';

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

test('a server killed in the middle of a backup leaves no archive, and the next start cleans up', async () => {
  const target = await ledgerTarget();
  fillLedger(target.file, 2_000, 400); // 800,000 rows: long enough to be caught mid-write
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/main.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...target.env, DATA_DIR: target.dataDir, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const backupDir = path.join(target.dataDir, 'backups');
  try {
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
    void fetch(`${url}/api/v1/backups`, { method: 'POST', body: '{"includeMedia":true}' }).catch(() => {});
    // Kill it once the archive is being written: the most delicate moment.
    const deadline = Date.now() + 60_000;
    while (!(await readdir(backupDir)).some((name) => name.startsWith('.partial~'))) {
      assert.ok(Date.now() < deadline, 'the archive write started');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const afterKill = await readdir(backupDir);
    assert.ok(!afterKill.some((name) => ARCHIVE_NAME.test(name)), `no archive under a final name: ${afterKill}`);
  } finally {
    child.kill('SIGKILL');
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
