// A backup folder on a small tmpfs (the disk really is full; mounting needs root): a backup that
// cannot fit is refused up front, and a disk that fills mid-write fails the backup or upload
// with no partial file left and the backups already there untouched.
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import { seedExampleLibrary } from '../../src/examples/seed.ts';
import { CreateBackupDocument, ListBackupsDocument } from '../generated/graphql.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { leaveRoom, smallFilesystem } from '../helpers/small-filesystem.ts';
import { uploadArchive } from '../helpers/upload.ts';

/**
 * A server whose backup folder is a 4 MB filesystem holding one full backup of a small
 * library; null where mounting is not allowed.
 */
async function folderWithOneBackup(t: TestContext) {
  const folder = await smallFilesystem(t, 4 * 1024 * 1024);
  if (!folder) return null;
  const server = await startServer({ env: { BACKUP_DIR: folder } });
  t.after(() => server.close());
  await seedExampleLibrary({ databaseUrl: server.targetUrl, items: 200 });
  const backup = await createBackup(server, { includeMedia: true });
  return { folder, server, backup };
}

async function listedFileNames(server: TestServer): Promise<string[]> {
  const listed = await server.gql(ListBackupsDocument, { first: 50 });
  return listed.backups.edges.map((edge) => edge.node.fileName).sort();
}

test('a folder without room for another backup like the last refuses with InsufficientSpaceError and writes nothing', async (t) => {
  const setUp = await folderWithOneBackup(t);
  if (!setUp) return;
  const { folder, server, backup: first } = setUp;
  // Room for half of another backup of the same size.
  const filler = await leaveRoom(folder, Math.floor(first.sizeBytes / 2));
  const before = await readdir(folder);

  const refused = await server.gql(CreateBackupDocument, { input: { includeMedia: true } });
  assert.equal(refused.createBackup.__typename, 'InsufficientSpaceError', JSON.stringify(refused.createBackup));
  if (refused.createBackup.__typename === 'InsufficientSpaceError') assert.match(refused.createBackup.message, /not enough free space/);
  assert.deepEqual(await readdir(folder), before, 'nothing was written to the folder');
  assert.deepEqual(await listedFileNames(server), [first.fileName]);

  await rm(filler);
  const second = await createBackup(server, { includeMedia: true });
  assert.deepEqual(await listedFileNames(server), [first.fileName, second.fileName].sort());
});

test('a disk that fills up in the middle of a backup fails it, keeps the older backups and leaves no partial file', async (t) => {
  const folder = await smallFilesystem(t, 256 * 1024);
  if (!folder) return;
  const server = await startServer({ env: { BACKUP_DIR: folder } });
  t.after(() => server.close());
  const small = await createBackup(server, { includeMedia: false });
  // A full backup of a library this size is about 1 MB, four times the whole filesystem,
  // and no earlier backup with media says so in advance: the write itself runs out of space.
  await seedExampleLibrary({ databaseUrl: server.targetUrl, items: 3000 });

  const failed = await server.gql(CreateBackupDocument, { input: { includeMedia: true } });
  assert.equal(failed.createBackup.__typename, 'BackupFailedError', JSON.stringify(failed.createBackup));
  if (failed.createBackup.__typename === 'BackupFailedError') assert.match(failed.createBackup.message, /ENOSPC|no space/i);
  assert.deepEqual(await readdir(folder), [small.fileName], 'the older backup is there, and nothing else');
  assert.deepEqual(await listedFileNames(server), [small.fileName]);
  assert.deepEqual(await readdir(server.app.config.scratchDir), [], 'staging is cleaned up');
});

test('an upload onto a full disk is a BackupFailedError and stores nothing', async (t) => {
  const setUp = await folderWithOneBackup(t);
  if (!setUp) return;
  const { folder, server, backup: original } = setUp;
  const bytes = await readFile(archivePath(server, original.fileName));
  await leaveRoom(folder, Math.floor(bytes.length / 2));
  const before = await readdir(folder);

  const { body } = await uploadArchive(server, bytes);
  const result = body.data?.uploadBackup;
  assert.equal(result?.__typename, 'BackupFailedError', JSON.stringify(body));
  if (result?.__typename === 'BackupFailedError') assert.match(result.message, /upload could not be stored: the disk is full/);
  assert.deepEqual(await readdir(folder), before, 'no partial file is left');
  assert.deepEqual(await listedFileNames(server), [original.fileName]);
  assert.deepEqual(await readdir(server.app.config.scratchDir), [], 'no staged upload is left');
});
