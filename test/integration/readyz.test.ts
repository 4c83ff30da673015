// /readyz tells a monitor whether scheduled backups are happening: not ready once one failed,
// ready again after the next succeeds; /healthz (liveness) stays ok throughout.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BackupSettingsDocument, UpdateBackupSettingsDocument } from '../generated/graphql.ts';
import { ledgerTarget } from '../helpers/ledger.ts';
import { startServer, waitFor, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let configFile: string;

before(async () => {
  const target = await ledgerTarget();
  configFile = path.join(target.dataDir, 'app-config', 'config.toml');
  server = await startServer({ dataDir: target.dataDir, env: { ...target.env, TARGET_FILES: configFile } });
});

after(async () => {
  await server?.close();
});

const readyz = async () => {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason: string | null } };
};
const lastRun = async () => (await server.gql(BackupSettingsDocument)).backupSettings.lastRun;

test('a failed scheduled backup makes /readyz answer 503 until one succeeds', async () => {
  assert.equal((await readyz()).status, 200, 'ready before the schedule has run');
  // Every second, while TARGET_FILES names a file that is not there: each run fails.
  await server.gql(UpdateBackupSettingsDocument, { input: { frequency: 'CUSTOM', cron: '* * * * * *', keep: 3 } });
  await waitFor('a failed scheduled run', async () => (await lastRun())?.status === 'FAILED');
  const failing = await readyz();
  assert.equal(failing.status, 503);
  assert.match(failing.body.reason ?? '', /^the scheduled backup due at .+ failed$/);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'alive all the same');

  await mkdir(path.dirname(configFile), { recursive: true });
  await writeFile(configFile, 'name = "ledger"\n');
  await waitFor('a successful scheduled run', async () => (await lastRun())?.status === 'SUCCEEDED');
  // A daily schedule now: the last run succeeded moments ago, well within two days.
  await server.gql(UpdateBackupSettingsDocument, { input: { frequency: 'DAILY' } });
  await waitFor('the runs under way to end', async () => (await lastRun())?.status !== 'RUNNING');
  assert.deepEqual(await readyz(), { status: 200, body: { status: 'ready', reason: null } });
  await rm(path.dirname(configFile), { recursive: true, force: true });
});
