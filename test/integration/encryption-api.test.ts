// Encrypted backups through the real server: created, listed without the passphrase,
// readable by an independent reader, restored, verified, downloaded and uploaded; a wrong
// or missing passphrase and an altered file change nothing; the passphrase never leaks.
// The age format itself, against the `age` command, is age-encryption.test.ts's.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  CreateBackupDocument,
  GetBackupDocument,
  ListBackupsDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  SystemDocument,
  UpdateBackupSettingsDocument,
  VerifyBackupDocument,
  type UploadBackupMutation,
} from '../generated/graphql.ts';
import { readEncryptedBackup } from '../helpers/independent-reader.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { archivePath } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { uploadArchive } from '../helpers/upload.ts';

const PASSPHRASE = 'Tr0ub4dor & the long walk home';
const SAVED_PASSPHRASE = 'the saved one, for the nightly backups';
const NOTE = 'kept inside the ciphertext';

let server: TestServer;
let ledgerFile: string;
let encrypted: { id: string; fileName: string };
const responses: Buffer[] = [];
const logs: string[] = [];
const restoreOutput: (() => void)[] = [];

before(async () => {
  recordEverythingSaid();
  const target = await ledgerTarget();
  ledgerFile = target.file;
  await writeFile(path.join(target.dataDir, 'app.toml'), 'token = "original"\n');
  server = await startServer({ dataDir: target.dataDir, env: { ...target.env, TARGET_FILES: path.join(target.dataDir, 'app.toml') } });
  fillLedger(ledgerFile, 20, 5);
});

after(async () => {
  for (const undo of restoreOutput) undo();
  await server.close();
});

test('an encrypted backup is listed with its date, kind and size, but its contents stay sealed', async () => {
  const backupsBefore = await readdir(server.app.config.backupDir);
  const short = await server.gql(CreateBackupDocument, { input: { passphrase: 'seven77' } });
  assert.equal(short.createBackup.__typename, 'ValidationError');
  assert.equal(short.createBackup.__typename === 'ValidationError' && short.createBackup.field, 'passphrase');
  assert.deepEqual(await readdir(server.app.config.backupDir), backupsBefore, 'a refused backup writes nothing');

  const created = await server.gql(CreateBackupDocument, { input: { passphrase: PASSPHRASE, includeMedia: true, note: NOTE } });
  assert.equal(created.createBackup.__typename, 'CreateBackupPayload', JSON.stringify(created.createBackup));
  if (created.createBackup.__typename !== 'CreateBackupPayload') return;
  const backup = created.createBackup.backup;
  encrypted = backup;
  assert.match(backup.fileName, /^app-backup-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-manual\.tar\.gz\.enc$/);

  const listed = (await server.gql(ListBackupsDocument, {})).backups.edges.map((e) => e.node).find((b) => b.id === backup.id);
  assert.ok(listed, 'listed');
  const file = await readFile(archivePath(server, backup.fileName));
  assert.equal(listed.encrypted, true);
  assert.equal(listed.kind, 'MANUAL');
  assert.equal(listed.sizeBytes, file.length);
  assert.ok(Math.abs(Date.parse(listed.createdAt) - Date.now()) < 60_000, 'dated now');
  assert.equal(listed.sha256, createHash('sha256').update(file).digest('hex'));
  assert.equal(listed.restorable.ok, true, listed.restorable.reason ?? '');
  // An age file shows nothing of what it holds without its passphrase (docs/FORMAT.md).
  assert.equal(listed.schemaVersion, null);
  assert.equal(listed.appVersion, null);
  assert.equal(listed.includesMedia, null);
  assert.equal(listed.note, null, 'the note is inside the ciphertext');
  assert.deepEqual(listed.tables, []);

  assert.throws(() => gunzipSync(file), 'not a readable gzip');
  for (const secret of ['manifest.json', NOTE, 'token = "original"', 'account 1']) {
    assert.ok(!file.includes(Buffer.from(secret)), `${secret} does not appear in the file`);
  }
});

test('an independent reader following docs/FORMAT.md decrypts it and finds every table intact', async () => {
  const file = await readFile(archivePath(server, encrypted.fileName));
  const read = await readEncryptedBackup(file, PASSPHRASE);
  const manifest = JSON.parse(read.entries.get('manifest.json')!.toString('utf8'));
  assert.equal(read.format, 'age');
  assert.equal(manifest.note, NOTE);
  const { system } = await server.gql(SystemDocument);
  assert.equal(manifest.schemaVersion, system.schemaVersion);
  assert.equal(manifest.includesMedia, true);
  const db = new Database(ledgerFile, { readonly: true });
  try {
    for (const table of manifest.tables) {
      const bytes = read.entries.get(table.path)!;
      assert.equal(createHash('sha256').update(bytes).digest('hex'), table.sha256, table.name);
      const { n } = db.prepare(`SELECT count(*) AS n FROM "${table.name}"`).get() as { n: number };
      assert.equal(table.rows, n, `${table.name} rows`);
    }
  } finally {
    db.close();
  }
  assert.equal(read.entries.get('files/app.toml')?.toString(), 'token = "original"\n');
  await assert.rejects(readEncryptedBackup(file, 'some other passphrase'), /wrong passphrase/);
});

test('a restore needs the right passphrase; a missing or wrong one starts nothing', async () => {
  const countBefore = (await readdir(server.app.config.backupDir)).length;
  const missing = await server.gql(RestoreBackupDocument, { input: { backupId: encrypted.id } });
  assert.equal(missing.restoreBackup.__typename, 'ValidationError');
  assert.equal(missing.restoreBackup.__typename === 'ValidationError' && missing.restoreBackup.field, 'passphrase');
  const wrong = await server.gql(RestoreBackupDocument, { input: { backupId: encrypted.id, passphrase: 'not the right one' } });
  assert.equal(wrong.restoreBackup.__typename, 'WrongPassphraseError');
  assert.equal((await readdir(server.app.config.backupDir)).length, countBefore, 'no safety backup was taken');

  const db = new Database(ledgerFile);
  db.prepare('DELETE FROM "Entry" WHERE "accountId" > 10').run();
  db.close();
  await writeFile(path.join(server.dataDir, 'app.toml'), 'token = "changed"\n');

  const job = await restore(encrypted.id, PASSPHRASE);
  assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
  assert.equal(countEntries(), 100, 'every entry is back');
  const { backup: safety } = await server.gql(GetBackupDocument, { id: job.preRestoreBackup!.id });
  assert.equal(safety?.encrypted, true, 'the safety backup of an encrypted restore is encrypted too, with the same passphrase');
  const opened = await server.gql(VerifyBackupDocument, { input: { backupId: safety!.id, passphrase: PASSPHRASE } });
  assert.equal(opened.verifyBackup.__typename === 'VerifyBackupPayload' && opened.verifyBackup.report.ok, true);
  assert.equal(await readFile(path.join(server.dataDir, 'app.toml'), 'utf8'), 'token = "original"\n');
});

test('verify opens an encrypted backup with its passphrase and restores it into a scratch database', async () => {
  const ok = await server.gql(VerifyBackupDocument, { input: { backupId: encrypted.id, passphrase: PASSPHRASE } });
  assert.equal(ok.verifyBackup.__typename, 'VerifyBackupPayload', JSON.stringify(ok.verifyBackup));
  if (ok.verifyBackup.__typename !== 'VerifyBackupPayload') return;
  assert.equal(ok.verifyBackup.report.ok, true, ok.verifyBackup.report.problems.join('; '));
  assert.equal(ok.verifyBackup.report.restored, true);
  assert.ok(ok.verifyBackup.report.tables.every((t) => t.hashMatches && t.restoredRows === t.expectedRows));

  const wrong = await server.gql(VerifyBackupDocument, { input: { backupId: encrypted.id, passphrase: 'not the right one' } });
  assert.equal(wrong.verifyBackup.__typename, 'WrongPassphraseError');
  const missing = await server.gql(VerifyBackupDocument, { input: { backupId: encrypted.id } });
  assert.equal(missing.verifyBackup.__typename, 'ValidationError');
});

test('downloaded and uploaded again, it stays encrypted and restores', async () => {
  const { backup } = await server.gql(GetBackupDocument, { id: encrypted.id });
  const response = await server.fetch(backup!.downloadUrl);
  assert.equal(response.status, 200);
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.deepEqual(bytes, await readFile(archivePath(server, encrypted.fileName)));

  const wrong = await upload(bytes, 'not the right one');
  assert.equal(wrong.uploadBackup.__typename, 'WrongPassphraseError');
  const damaged = Buffer.from(bytes);
  damaged[damaged.length - 100]! ^= 0x01;
  assert.equal((await upload(damaged, PASSPHRASE)).uploadBackup.__typename, 'InvalidArchiveError', 'checked inside with the passphrase');
  const badHeader = Buffer.from(bytes);
  badHeader[20]! ^= 0x01;
  assert.equal((await upload(badHeader)).uploadBackup.__typename, 'InvalidArchiveError', 'the header is checked without it');

  const checked = await upload(bytes, PASSPHRASE);
  assert.equal(checked.uploadBackup.__typename, 'UploadBackupPayload', JSON.stringify(checked.uploadBackup));
  const unchecked = await upload(bytes);
  assert.equal(unchecked.uploadBackup.__typename, 'UploadBackupPayload', JSON.stringify(unchecked.uploadBackup));
  if (unchecked.uploadBackup.__typename !== 'UploadBackupPayload') return;
  const uploaded = unchecked.uploadBackup.backup;
  assert.match(uploaded.fileName, /-uploaded\.tar\.gz\.enc$/);
  assert.equal(uploaded.kind, 'UPLOADED');
  assert.equal(uploaded.encrypted, true);

  const job = await restore(uploaded.id, PASSPHRASE);
  assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
  assert.equal(countEntries(), 100);
});

test('an altered header is refused at the request, a flipped bit fails the restore before the data is touched', async () => {
  const original = await readFile(archivePath(server, encrypted.fileName));
  const headerLength = original.indexOf('\n', original.indexOf('\n---') + 1) + 1;
  const edited = Buffer.from(original);
  edited[headerLength - 10] = edited[headerLength - 10] === 0x41 ? 0x42 : 0x41; // in the header's MAC
  const editedName = 'app-backup-2001-01-01T00-00-00-uploaded.tar.gz.enc';
  await writeFile(path.join(server.app.config.backupDir, editedName), edited);
  const flipped = Buffer.from(original);
  flipped[headerLength + 16 + 40]! ^= 0x04; // in the first chunk's ciphertext
  const flippedName = 'app-backup-2001-01-01T00-00-01-uploaded.tar.gz.enc';
  await writeFile(path.join(server.app.config.backupDir, flippedName), flipped);

  const db = new Database(ledgerFile);
  db.prepare('DELETE FROM "Entry" WHERE "accountId" = 1').run();
  db.close();
  const refused = await server.gql(RestoreBackupDocument, { input: { backupId: editedName, passphrase: PASSPHRASE } });
  assert.equal(refused.restoreBackup.__typename, 'InvalidArchiveError');
  // Refused at the request (the manifest read early) or failed in the job: either way before the data.
  const started = await server.gql(RestoreBackupDocument, { input: { backupId: flippedName, passphrase: PASSPHRASE } });
  const failure =
    started.restoreBackup.__typename === 'RestoreBackupPayload'
      ? await waitForJob(started.restoreBackup.job.id)
      : {
          status: started.restoreBackup.__typename === 'InvalidArchiveError' ? 'FAILED' : 'REFUSED',
          error: JSON.stringify(started.restoreBackup),
        };
  assert.equal(failure.status, 'FAILED');
  assert.match(failure.error ?? '', /damaged|altered/);
  assert.equal(countEntries(), 95, 'the data was left as it was');
  for (const name of [editedName, flippedName]) {
    const verified = await server.gql(VerifyBackupDocument, { input: { backupId: name, passphrase: PASSPHRASE } });
    const ok =
      verified.verifyBackup.__typename === 'VerifyBackupPayload' ? verified.verifyBackup.report.ok : verified.verifyBackup.__typename;
    assert.ok(ok === false || ok === 'InvalidArchiveError', `${name}: verify reports it (${ok})`);
  }
});

test('REST takes a passphrase too, and refuses a short one', async () => {
  const post = (body: unknown) =>
    server.fetch('/api/v1/backups', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const short = await post({ passphrase: 'short' });
  assert.equal(short.status, 400);
  const created = await post({ passphrase: PASSPHRASE });
  assert.equal(created.status, 201);
  const body = (await created.json()) as { fileName: string; encrypted: boolean };
  assert.equal(body.encrypted, true);
  assert.match(body.fileName, /\.tar\.gz\.enc$/);
});

test('a saved passphrase is kept sealed, never shown, and encrypts the safety backup', async () => {
  const short = await server.gql(UpdateBackupSettingsDocument, { input: { passphrase: 'short', keep: 3 } });
  assert.equal(short.updateBackupSettings.__typename, 'ValidationError');
  assert.equal(short.updateBackupSettings.__typename === 'ValidationError' && short.updateBackupSettings.field, 'passphrase');

  const saved = await server.gql(UpdateBackupSettingsDocument, { input: { passphrase: SAVED_PASSPHRASE } });
  assert.equal(saved.updateBackupSettings.__typename, 'UpdateBackupSettingsPayload', JSON.stringify(saved.updateBackupSettings));
  if (saved.updateBackupSettings.__typename !== 'UpdateBackupSettingsPayload') return;
  assert.equal(saved.updateBackupSettings.settings.passphraseSet, true);
  assert.notEqual(saved.updateBackupSettings.settings.keep, 3, 'the refused update changed nothing');
  const keyFile = await stat(path.join(server.dataDir, 'secret.key'));
  assert.equal(keyFile.mode & 0o777, 0o600, 'the key file is readable by its owner only');

  // A plain backup restored: the safety copy of the current state uses the saved passphrase.
  const created = await server.gql(CreateBackupDocument, { input: { includeMedia: true } });
  assert.equal(created.createBackup.__typename, 'CreateBackupPayload');
  if (created.createBackup.__typename !== 'CreateBackupPayload') return;
  assert.equal(created.createBackup.backup.encrypted, false, 'a manual backup is encrypted only when asked');
  const job = await restore(created.createBackup.backup.id);
  assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
  const safety = job.preRestoreBackup!;
  const wrong = await server.gql(VerifyBackupDocument, { input: { backupId: safety.id, passphrase: PASSPHRASE } });
  assert.equal(wrong.verifyBackup.__typename, 'WrongPassphraseError', 'the safety backup is sealed with the saved passphrase');
  const right = await server.gql(VerifyBackupDocument, { input: { backupId: safety.id, passphrase: SAVED_PASSPHRASE } });
  assert.equal(right.verifyBackup.__typename === 'VerifyBackupPayload' && right.verifyBackup.report.ok, true);

  // Scheduled backups use it too.
  const every = await server.gql(UpdateBackupSettingsDocument, { input: { frequency: 'CUSTOM', cron: '* * * * * *' } });
  assert.equal(every.updateBackupSettings.__typename, 'UpdateBackupSettingsPayload', JSON.stringify(every.updateBackupSettings));
  let scheduled;
  for (let waited = 0; !scheduled && waited < 30_000; waited += 200) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    scheduled = (await server.gql(ListBackupsDocument, { kind: 'SCHEDULED' })).backups.edges[0]?.node;
  }
  await server.gql(UpdateBackupSettingsDocument, { input: { frequency: 'OFF' } });
  assert.ok(scheduled, 'a scheduled backup was made');
  assert.match(scheduled.fileName, /-scheduled\.tar\.gz\.enc$/);
  const opensScheduled = await server.gql(VerifyBackupDocument, { input: { backupId: scheduled.id, passphrase: SAVED_PASSPHRASE } });
  assert.equal(opensScheduled.verifyBackup.__typename === 'VerifyBackupPayload' && opensScheduled.verifyBackup.report.ok, true);

  const cleared = await server.gql(UpdateBackupSettingsDocument, { input: { passphrase: '' } });
  assert.equal(
    cleared.updateBackupSettings.__typename === 'UpdateBackupSettingsPayload' && cleared.updateBackupSettings.settings.passphraseSet,
    false,
  );
});

test('the passphrase never appears in logs, responses or the files the server keeps', async () => {
  assert.ok(responses.length > 20, 'responses were recorded');
  for (const passphrase of [PASSPHRASE, SAVED_PASSPHRASE]) {
    const secret = Buffer.from(passphrase, 'utf8');
    for (const [index, body] of responses.entries()) assert.ok(!body.includes(secret), `response ${index} holds a passphrase`);
    assert.ok(!logs.join('').includes(passphrase), 'a log line holds a passphrase');
    for (const file of await listFiles(server.dataDir)) {
      assert.ok(!(await readFile(file)).includes(secret), `${file} holds a passphrase`);
    }
  }
});

async function restore(backupId: string, passphrase?: string) {
  const started = await server.gql(RestoreBackupDocument, { input: { backupId, passphrase } });
  assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload', JSON.stringify(started.restoreBackup));
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error('unreachable');
  return waitForJob(started.restoreBackup.job.id);
}

async function waitForJob(id: string) {
  for (;;) {
    const { restoreJob } = await server.gql(RestoreJobDocument, { id });
    if (restoreJob?.status === 'SUCCEEDED' || restoreJob?.status === 'FAILED') return restoreJob;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function countEntries(): number {
  const db = new Database(ledgerFile, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM "Entry"').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function upload(bytes: Buffer, passphrase?: string): Promise<UploadBackupMutation> {
  const { body } = await uploadArchive(server, bytes, { clientName: 'backup.tar.gz.enc', passphrase });
  assert.ok(body.data, JSON.stringify(body.errors));
  return body.data;
}

/** Keeps a copy of every HTTP response body and everything written to stdout and stderr. */
function recordEverythingSaid(): void {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const response = await realFetch(...args);
    responses.push(Buffer.from(await response.clone().arrayBuffer()));
    return response;
  };
  restoreOutput.push(() => (globalThis.fetch = realFetch));
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restoreOutput.push(() => (stream.write = write));
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await listFiles(full)));
    else if (entry.isFile()) found.push(full);
  }
  return found;
}
