// uploadBackup (GraphQL multipart request) stores an archive as kind UPLOADED only after
// the full check, under a name of its own, and within the size limit.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
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
