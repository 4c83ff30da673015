// Every damaged or hostile archive is refused before anything trusts it.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { editManifest, pack, readEntries, type Entry } from '../helpers/archive-edit.ts';
import { after, before, test } from 'node:test';
import { ArchiveRejectedError, checkArchive } from '../../src/archive/archive-check.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let genuine: Buffer;
let genuineEntries: Entry[];

before(async () => {
  const target = await ledgerTarget();
  await writeFile(path.join(target.dataDir, 'app.toml'), 'token = "x"\n');
  server = await startServer({ dataDir: target.dataDir, env: { ...target.env, TARGET_FILES: path.join(target.dataDir, 'app.toml') } });
  fillLedger(target.file, 50, 20);
  const backup = await createBackup(server, { includeMedia: true });
  genuine = await readFile(archivePath(server, backup.fileName));
  genuineEntries = await readEntries(genuine);
});

after(async () => {
  await server.close();
});

async function verifyBuffer(archive: Buffer) {
  return checkArchive(Readable.from([archive]), archive.length);
}

async function assertRejected(archive: Buffer, reason: RegExp) {
  await assert.rejects(verifyBuffer(archive), (error: unknown) => {
    assert.ok(error instanceof ArchiveRejectedError, `an ArchiveRejectedError, not ${String(error)}`);
    assert.match(error.message, reason);
    return true;
  });
}

test('a genuine archive passes, with its row counts', async () => {
  const [name] = (await readdir(server.app.config.backupDir)).filter((n) => n.endsWith('.tar.gz'));
  const file = archivePath(server, name!);
  const verified = await checkArchive(createReadStream(file), (await stat(file)).size);
  assert.equal(verified.rows.get('Account'), 50);
  assert.equal(verified.rows.get('Entry'), 1000);
  assert.deepEqual(await verifyBuffer(await pack(genuineEntries)).then((v) => v.manifest.tables.length), 2);
});

test('a truncated archive is refused, wherever it is cut', async () => {
  for (const fraction of [0.1, 0.5, 0.9, 0.999]) {
    await assertRejected(genuine.subarray(0, Math.floor(genuine.length * fraction)), /not valid gzip|cannot be read|lacks|SHA-256|rows/);
  }
});

test('a flipped bit is refused', async () => {
  for (const offset of [20, Math.floor(genuine.length / 2), genuine.length - 12]) {
    const damaged = Buffer.from(genuine);
    damaged[offset]! ^= 0x10;
    await assertRejected(damaged, /.+/);
  }
});

test('an entry the manifest does not list is refused', async () => {
  await assertRejected(await pack([...genuineEntries, { name: 'db/extra.ndjson', content: Buffer.from('[1]\n') }]), /not in the manifest/);
});

test('a missing entry is refused', async () => {
  await assertRejected(await pack(genuineEntries.slice(0, -1)), /lacks/);
});

test('a ../ entry is refused, listed or not', async () => {
  await assertRejected(
    await pack([...genuineEntries, { name: '../escape.txt', content: Buffer.from('x') }]),
    /not a plain relative path|not in the manifest/,
  );
  const listed = editManifest(genuineEntries, (m) => {
    m.files.push({ path: 'files/../../escape.txt', source: '/etc/escape', size: 1, sha256: 'a'.repeat(64), mode: 0o644 });
  });
  await assertRejected(await pack([...listed, { name: 'files/../../escape.txt', content: Buffer.from('x') }]), /not a plain relative path/);
  await assertRejected(
    await pack([...genuineEntries, { name: '/etc/passwd', content: Buffer.from('x') }]),
    /not a plain relative path|not in the manifest/,
  );
});

test('a symlink entry is refused even where the manifest lists its path', async () => {
  const file = genuineEntries.find((e) => e.name.startsWith('files/'))!;
  const swapped = genuineEntries.map((e) =>
    e === file ? { name: e.name, type: 'symlink' as const, linkname: '/etc/passwd', content: Buffer.alloc(0) } : e,
  );
  await assertRejected(await pack(swapped), /symlink/);
});

test('a manifest that lies about a hash or a row count is refused', async () => {
  await assertRejected(await pack(editManifest(genuineEntries, (m) => void (m.tables[0]!.sha256 = '0'.repeat(64)))), /SHA-256/);
  const table = genuineEntries.find((e) => e.name.startsWith('db/'))!;
  const lying = editManifest(genuineEntries, (m) => void (m.tables.find((t) => t.path === table.name)!.rows += 1));
  await assertRejected(await pack(lying), /rows/);
});

test('a gzip bomb stops early: data past what the manifest declares is refused', async () => {
  const tar = gunzipSync(await pack(genuineEntries));
  const bomb = gzipSync(Buffer.concat([tar, Buffer.alloc(64 * 1024 * 1024)]));
  assert.ok(bomb.length < 1024 * 1024, 'a small file that expands 64-fold and more');
  await assertRejected(bomb, /decompresses to more/);
  const huge = editManifest(genuineEntries, (m) => void (m.tables[0]!.bytes = 1024 ** 4 * 2));
  await assertRejected(await pack(huge), /declares/);
});
