// uploadBackup (GraphQL multipart request) stores an archive as kind UPLOADED only after
// the full check, under a name of its own, and within the size limit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { editManifest, pack, readEntries } from '../helpers/archive-edit.ts';
import { ARCHIVE_NAME, archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { uploadArchive, type UploadResponse } from '../helpers/upload.ts';

let server: TestServer;

before(async () => {
  const target = await ledgerTarget({ UPLOAD_MAX_BYTES: String(256 * 1024) });
  server = await startServer({ dataDir: target.dataDir, env: target.env });
  fillLedger(target.file, 30, 10);
});

after(async () => {
  await server.close();
});

/** The GraphQL multipart request spec, as browser clients send it. */
function upload(bytes: Buffer, clientName: string): Promise<UploadResponse> {
  return uploadArchive(server, bytes, { clientName });
}

test('a genuine archive is stored as an upload, under a name of our own', async () => {
  const original = await createBackup(server, { includeMedia: true });
  const { body } = await upload(await readFile(archivePath(server, original.fileName)), '../../../etc/evil.tar.gz');
  const result = body.data?.uploadBackup;
  assert.equal(result?.__typename, 'UploadBackupPayload', JSON.stringify(body));
  if (result?.__typename !== 'UploadBackupPayload') return;
  assert.equal(result.backup.kind, 'UPLOADED');
  assert.match(result.backup.fileName, ARCHIVE_NAME);
  assert.deepEqual(result.backup.tables, original.tables);
  assert.equal(result.backup.restorable.ok, true);
});

test('a damaged archive is refused and nothing is stored', async () => {
  const original = await createBackup(server);
  const before = await readdir(server.app.config.backupDir);
  const entries = editManifest(await readEntries(await readFile(archivePath(server, original.fileName))), (m) => {
    m.tables[0]!.rows += 1;
  });
  const { body } = await upload(await pack(entries), 'backup.tar.gz');
  assert.equal(body.data?.uploadBackup.__typename, 'InvalidArchiveError');
  const junk = await upload(Buffer.from('definitely not a backup'), 'backup.tar.gz');
  assert.equal(junk.body.data?.uploadBackup.__typename, 'InvalidArchiveError');
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
  assert.deepEqual(await readdir(server.app.config.scratchDir), [], 'no staged upload is left');
});

test('a file over UPLOAD_MAX_BYTES is refused and nothing is stored', async () => {
  const before = await readdir(server.app.config.backupDir);
  const { status, body } = await upload(Buffer.alloc(300 * 1024, 7), 'big.tar.gz');
  assert.ok(
    status >= 400 || body.data?.uploadBackup.__typename === 'ValidationError',
    `refused: ${status} ${JSON.stringify(body).slice(0, 200)}`,
  );
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
});

test('an archive over 25 MB uploads (no request limit below UPLOAD_MAX_BYTES)', async () => {
  // The example app with 40 MB of incompressible bytes in its secrets folder: a real archive of that size.
  const big = await startServer();
  try {
    await writeFile(path.join(big.dataDir, 'example', 'secrets', 'large.bin'), randomBytes(40 * 1024 * 1024));
    const original = await createBackup(big);
    const bytes = await readFile(archivePath(big, original.fileName));
    assert.ok(bytes.length > 40 * 1024 * 1024, `${bytes.length} bytes`);
    const { status, body } = await uploadArchive(big, bytes);
    assert.equal(body.data?.uploadBackup.__typename, 'UploadBackupPayload', JSON.stringify(body).slice(0, 300));
    assert.equal(status, 200);
    // The REST upload takes the archive as the request body, streamed to disk.
    const rest = await big.fetch('/api/v1/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(rest.status, 201);
    assert.equal(((await rest.json()) as { kind: string }).kind, 'uploaded');
  } finally {
    await big.close();
  }
});

test('the REST upload refuses what the GraphQL one does, before reading what it can', async () => {
  const tooLarge = await server.fetch('/api/v1/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: Buffer.alloc(256 * 1024 + 1),
  });
  assert.equal(tooLarge.status, 413);
  const notAnArchive = await server.fetch('/api/v1/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: Buffer.from('not a tar.gz'),
  });
  assert.equal(notAnArchive.status, 422);
  assert.equal(((await notAnArchive.json()) as { error: { type: string } }).error.type, 'InvalidArchiveError');
  const form = await server.fetch('/api/v1/uploads', { method: 'POST', body: new URLSearchParams({ a: 'b' }) });
  assert.equal(form.status, 415);
});
