// Encrypted backups in the age v1 format through the real server: the `age` command opens what
// the server writes and the server opens what `age -p` writes; a wrong passphrase and a damaged
// file are told apart; a hostile work factor is refused at once; BCPCRYPT archives still restore.
// Needs the `age` command (Debian: apt-get install age) and `script` from util-linux.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { createBcpcryptEncryptStream } from '../../src/archive/encryption/bcpcrypt-chunk-cipher.ts';
import { prepareBcpcrypt, sealBcpcrypt } from '../../src/archive/encryption/bcpcrypt-header.ts';
import { publicMetadataOf, unlockArchive } from '../../src/archive/encryption/encrypted-archive.ts';
import {
  CreateBackupDocument,
  GetBackupDocument,
  ListBackupsDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  SystemDocument,
  VerifyBackupDocument,
  type UploadBackupMutation,
} from '../generated/graphql.ts';
import { readEncryptedBackup } from '../helpers/independent-reader.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { uploadArchive } from '../helpers/upload.ts';

const run = promisify(execFile);
const PASSPHRASE = 'a long walk home, under the age of reason';
/** Decomposed (NFD), as a keyboard may type it: `age -p` keeps the bytes, the server must try them as given. */
const AGE_PASSPHRASE = 'cafe\u0301 au lait, typed into age -p';
const OLD_PASSPHRASE = 'sealed before age came along';
const NOTE = 'kept inside the ciphertext';
const ENTRIES = 20 * 5;

let server: TestServer;
let ledgerFile: string;
let workDir: string;
let encrypted: { id: string; fileName: string };

before(async () => {
  const target = await ledgerTarget();
  ledgerFile = target.file;
  server = await startServer({ dataDir: target.dataDir, env: target.env });
  fillLedger(ledgerFile, 20, 5);
  workDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-age-'));
});

after(async () => {
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test('an encrypted backup is an age file that `age -d` opens, giving the tar.gz the server restores', async () => {
  const created = await server.gql(CreateBackupDocument, { input: { passphrase: PASSPHRASE, includeMedia: true, note: NOTE } });
  assert.equal(created.createBackup.__typename, 'CreateBackupPayload', JSON.stringify(created.createBackup));
  if (created.createBackup.__typename !== 'CreateBackupPayload') return;
  encrypted = created.createBackup.backup;
  assert.match(encrypted.fileName, /^app-backup-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-manual\.tar\.gz\.enc$/);
  const file = await readFile(archivePath(server, encrypted.fileName));
  assert.match(file.subarray(0, 60).toString('latin1'), /^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 16\n/);

  // Listed without the passphrase: the date and kind from the name, the size from the file.
  const listed = (await server.gql(ListBackupsDocument, {})).backups.edges.map((e) => e.node).find((b) => b.id === encrypted.id);
  assert.ok(listed, 'listed');
  assert.equal(listed.encrypted, true);
  assert.equal(listed.kind, 'MANUAL');
  assert.equal(listed.sizeBytes, file.length);
  assert.ok(Math.abs(Date.parse(listed.createdAt) - Date.now()) < 60_000, 'dated now');
  assert.equal(listed.problem, null);
  assert.equal(listed.schemaVersion, null, 'an age file shows nothing of its contents without the passphrase');
  assert.equal(listed.restorable.ok, true, listed.restorable.reason ?? '');

  const fromAge = path.join(workDir, 'from-age.tar.gz');
  const opened = await ageOnTerminal(['-d', '-o', fromAge, archivePath(server, encrypted.fileName)], PASSPHRASE);
  assert.equal(opened.code, 0, opened.output);
  const manifest = JSON.parse((await run('tar', ['-xzO', '-f', fromAge, 'manifest.json'])).stdout);
  const { system } = await server.gql(SystemDocument);
  assert.equal(manifest.note, NOTE);
  assert.equal(manifest.kind, 'manual');
  assert.equal(manifest.schemaVersion, system.schemaVersion);

  // The server's own reading of the file gives the same tar.gz, byte for byte.
  const unlocked = await unlockArchive(() => createReadStream(archivePath(server, encrypted.fileName)), PASSPHRASE);
  assert.equal(sha256(await buffer(unlocked.open())), sha256(await readFile(fromAge)));
  // And a reader written from docs/FORMAT.md alone.
  const independent = await readEncryptedBackup(file, PASSPHRASE);
  assert.equal(independent.format, 'age');
  assert.deepEqual(JSON.parse(independent.entries.get('manifest.json')!.toString('utf8')), manifest);

  const verified = await server.gql(VerifyBackupDocument, { input: { backupId: encrypted.id, passphrase: PASSPHRASE } });
  assert.equal(verified.verifyBackup.__typename, 'VerifyBackupPayload', JSON.stringify(verified.verifyBackup));
  if (verified.verifyBackup.__typename !== 'VerifyBackupPayload') return;
  const { report } = verified.verifyBackup;
  assert.equal(report.ok, true, report.problems.join('; '));
  for (const table of manifest.tables as { name: string; rows: number }[]) {
    assert.equal(report.tables.find((t) => t.name === table.name)?.restoredRows, table.rows, table.name);
  }

  const wrong = await ageOnTerminal(['-d', '-o', path.join(workDir, 'wrong.tar.gz'), archivePath(server, encrypted.fileName)], 'not it');
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.output, /incorrect passphrase/);
});

test('an archive encrypted with `age -p` uploads and restores with its passphrase', async () => {
  const plain = await createBackup(server, { includeMedia: true });
  const byAge = path.join(workDir, 'by-age.tar.gz.age');
  const made = await ageOnTerminal(['-p', '-o', byAge, archivePath(server, plain.fileName)], AGE_PASSPHRASE);
  assert.equal(made.code, 0, made.output);
  const bytes = await readFile(byAge);
  assert.match(bytes.subarray(0, 60).toString('latin1'), /^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/, "age's own work factor");

  assert.equal((await upload(bytes, 'not the passphrase')).uploadBackup.__typename, 'WrongPassphraseError');
  const uploaded = await upload(bytes, AGE_PASSPHRASE);
  assert.equal(uploaded.uploadBackup.__typename, 'UploadBackupPayload', JSON.stringify(uploaded.uploadBackup));
  if (uploaded.uploadBackup.__typename !== 'UploadBackupPayload') return;
  const backup = uploaded.uploadBackup.backup;
  assert.match(backup.fileName, /-uploaded\.tar\.gz\.enc$/);
  assert.equal(backup.encrypted, true);
  assert.equal(backup.kind, 'UPLOADED');

  deleteEntries('"accountId" > 10');
  const job = await restore(backup.id, AGE_PASSPHRASE);
  assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
  assert.equal(countEntries(), ENTRIES, 'every entry is back');
});

test('a wrong passphrase is found before any data is read; a damaged file is told apart from it', async () => {
  const original = await readFile(archivePath(server, encrypted.fileName));
  const headerLength = original.indexOf('\n', original.indexOf('\n---') + 1) + 1;

  const namesBefore = await readdir(server.app.config.backupDir);
  const wrongRestore = await server.gql(RestoreBackupDocument, { input: { backupId: encrypted.id, passphrase: 'not the right one' } });
  assert.equal(wrongRestore.restoreBackup.__typename, 'WrongPassphraseError');
  const wrongVerify = await server.gql(VerifyBackupDocument, { input: { backupId: encrypted.id, passphrase: 'not the right one' } });
  assert.equal(wrongVerify.verifyBackup.__typename, 'WrongPassphraseError');
  assert.deepEqual(await readdir(server.app.config.backupDir), namesBefore, 'no safety backup was taken');

  // A payload byte flipped: the passphrase opens the header, the chunk fails its check.
  const flipped = Buffer.from(original);
  flipped[headerLength + 16 + 40]! ^= 0x04;
  const flippedName = 'app-backup-2001-01-01T00-00-01-uploaded.tar.gz.enc';
  await writeFile(path.join(server.app.config.backupDir, flippedName), flipped);
  deleteEntries('"accountId" = 1');
  const before = countEntries();
  assert.match(await restoreFailure(flippedName, PASSPHRASE), /damaged|altered/);
  assert.equal(countEntries(), before, 'the data was left as it was');
  const verified = await server.gql(VerifyBackupDocument, { input: { backupId: flippedName, passphrase: PASSPHRASE } });
  assert.equal(verified.verifyBackup.__typename === 'VerifyBackupPayload' && verified.verifyBackup.report.ok, false);

  // The header MAC changed: the right passphrase unwraps the key, the MAC tells the damage.
  const badMac = Buffer.from(original);
  badMac[headerLength - 10] = badMac[headerLength - 10] === 0x41 ? 0x42 : 0x41;
  const badMacName = 'app-backup-2001-01-01T00-00-02-uploaded.tar.gz.enc';
  await writeFile(path.join(server.app.config.backupDir, badMacName), badMac);
  const refused = await server.gql(RestoreBackupDocument, { input: { backupId: badMacName, passphrase: PASSPHRASE } });
  assert.equal(refused.restoreBackup.__typename, 'InvalidArchiveError');
  assert.match(refused.restoreBackup.__typename === 'InvalidArchiveError' ? refused.restoreBackup.message : '', /MAC/);

  for (const [what, bytes] of [
    ['cut short', original.subarray(0, original.length - 1)],
    ['cut at the header', original.subarray(0, headerLength + 16)],
    ['with a byte appended', Buffer.concat([original, Buffer.from([0])])],
    ['with its version line changed', Buffer.concat([Buffer.from('age-encryption.org/v2'), original.subarray(21)])],
  ] as const) {
    assert.equal((await upload(bytes, PASSPHRASE)).uploadBackup.__typename, 'InvalidArchiveError', what);
  }
});

test('an archive in the BCPCRYPT format before age still lists its metadata and restores', async () => {
  const entries = countEntries();
  const plain = await createBackup(server, { includeMedia: true });
  const tarGz = await readFile(archivePath(server, plain.fileName));
  const manifest = JSON.parse((await run('tar', ['-xzO', '-f', archivePath(server, plain.fileName), 'manifest.json'])).stdout);
  const envelope = sealBcpcrypt(await prepareBcpcrypt(OLD_PASSPHRASE), publicMetadataOf(manifest));
  const old = await buffer(Readable.from([tarGz]).pipe(createBcpcryptEncryptStream(envelope)));
  const name = 'app-backup-2026-11-30T03-00-00-manual.tar.gz.enc';
  await writeFile(path.join(server.app.config.backupDir, name), old);

  const { backup } = await server.gql(GetBackupDocument, { id: name });
  assert.equal(backup?.encrypted, true);
  assert.equal(backup?.schemaVersion, manifest.schemaVersion, 'its header shows the public metadata');
  assert.equal(backup?.includesMedia, true);
  assert.deepEqual(backup?.restorable, { ok: true, reason: null });
  const independent = await readEncryptedBackup(old, OLD_PASSPHRASE);
  assert.equal(independent.format, 'bcpcrypt');
  assert.deepEqual(independent.publicMetadata, publicMetadataOf(manifest));
  assert.deepEqual(JSON.parse(independent.entries.get('manifest.json')!.toString('utf8')), manifest);

  const wrong = await server.gql(RestoreBackupDocument, { input: { backupId: name, passphrase: PASSPHRASE } });
  assert.equal(wrong.restoreBackup.__typename, 'WrongPassphraseError');
  deleteEntries('"accountId" > 5');
  const job = await restore(name, OLD_PASSPHRASE);
  assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
  assert.equal(countEntries(), entries);
});

test('a hostile work factor is refused at once, before any key is derived', async () => {
  const original = await readFile(archivePath(server, encrypted.fileName));
  for (const logN of ['19', '22', '64']) {
    const hostile = Buffer.from(
      original.toString('latin1').replace(/^(age-encryption\.org\/v1\n-> scrypt \S+ )16\n/, `$1${logN}\n`),
      'latin1',
    );
    assert.notDeepEqual(hostile, original);
    const started = performance.now();
    const result = await upload(hostile, PASSPHRASE);
    const elapsed = performance.now() - started;
    assert.equal(result.uploadBackup.__typename, 'InvalidArchiveError', `2^${logN}`);
    assert.match(result.uploadBackup.__typename === 'InvalidArchiveError' ? result.uploadBackup.message : '', /refuses/);
    // scrypt at 2^22 alone would take 4 GiB and many seconds.
    assert.ok(elapsed < 3000, `2^${logN} refused in ${Math.round(elapsed)} ms`);
  }
  const name = 'app-backup-2001-01-01T00-00-03-uploaded.tar.gz.enc';
  await writeFile(
    path.join(server.app.config.backupDir, name),
    Buffer.from(original.toString('latin1').replace(/ 16\n/, ' 30\n'), 'latin1'),
  );
  const { backup } = await server.gql(GetBackupDocument, { id: name });
  assert.match(backup?.problem ?? '', /refuses/, 'listed, with the reason it cannot be opened');
  const refused = await server.gql(RestoreBackupDocument, { input: { backupId: name, passphrase: PASSPHRASE } });
  assert.equal(refused.restoreBackup.__typename, 'InvalidArchiveError');
});

/**
 * Runs `age` with its passphrase typed on a terminal: age reads a passphrase from /dev/tty only,
 * never from stdin or an argument, so `script` (util-linux) gives it a pseudo-terminal and the
 * passphrase is written there each time age prompts for it ("Enter passphrase", "Confirm
 * passphrase"). Resolves with age's exit code (`--return`) and everything it printed.
 */
function ageOnTerminal(args: string[], passphrase: string): Promise<{ code: number; output: string }> {
  const command = ['age', ...args].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`age did not finish: ${output}`));
    }, 120_000);
    const read = (data: Buffer) => {
      output += data.toString('utf8');
      const prompts = output.match(/passphrase(?: \([^)]*\))?: /gi)?.length ?? 0;
      for (; answered < prompts; answered++) child.stdin.write(`${passphrase}\n`);
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.stdin.on('error', () => {});
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ code: code ?? -1, output });
    });
  });
}

async function restore(backupId: string, passphrase?: string) {
  const started = await server.gql(RestoreBackupDocument, { input: { backupId, passphrase } });
  assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload', JSON.stringify(started.restoreBackup));
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error('unreachable');
  for (;;) {
    const { restoreJob } = await server.gql(RestoreJobDocument, { id: started.restoreBackup.job.id });
    if (restoreJob?.status === 'SUCCEEDED' || restoreJob?.status === 'FAILED') return restoreJob;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Why a restore did not happen: refused at the request, or failed in the job, before the data changed. */
async function restoreFailure(backupId: string, passphrase: string): Promise<string> {
  const started = await server.gql(RestoreBackupDocument, { input: { backupId, passphrase } });
  if (started.restoreBackup.__typename === 'InvalidArchiveError') return started.restoreBackup.message;
  assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload', JSON.stringify(started.restoreBackup));
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error('unreachable');
  for (;;) {
    const { restoreJob } = await server.gql(RestoreJobDocument, { id: started.restoreBackup.job.id });
    assert.notEqual(restoreJob?.status, 'SUCCEEDED');
    if (restoreJob?.status === 'FAILED') return restoreJob.error ?? '';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function upload(bytes: Buffer, passphrase?: string): Promise<UploadBackupMutation> {
  const { body } = await uploadArchive(server, bytes, { clientName: 'backup.tar.gz.age', passphrase });
  assert.ok(body.data, JSON.stringify(body.errors));
  return body.data;
}

function deleteEntries(where: string): void {
  const db = new Database(ledgerFile);
  db.prepare(`DELETE FROM "Entry" WHERE ${where}`).run();
  db.close();
}

function countEntries(): number {
  const db = new Database(ledgerFile, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM "Entry"').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
