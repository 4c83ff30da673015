// Backup scenarios shared by the SQLite and PostgreSQL suites: the same user story on both.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBackupDocument,
  DeleteBackupDocument,
  GetBackupDocument,
  ListBackupsDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  SystemDocument,
} from '../generated/graphql.ts';
import { countRows, extractWithTar } from './inspect.ts';
import { waitFor, type TestServer } from './server.ts';

export const ARCHIVE_NAME = /^app-backup-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-(scheduled|manual|pre-restore|uploaded)\.tar\.gz$/;

export async function createBackup(server: TestServer, input: { includeMedia?: boolean; note?: string } = {}) {
  const result = await server.gql(CreateBackupDocument, { input });
  assert.equal(result.createBackup.__typename, 'CreateBackupPayload', JSON.stringify(result.createBackup));
  if (result.createBackup.__typename !== 'CreateBackupPayload') throw new Error('unreachable');
  return result.createBackup.backup;
}

export function archivePath(server: TestServer, fileName: string) {
  return path.join(server.app.config.backupDir, fileName);
}

/** A config-only backup: listed, named, sized, readable with tar, counts equal to the database's. */
export async function configOnlyBackupMatchesDatabase(server: TestServer) {
  const { system } = await server.gql(SystemDocument);
  const mediaTables = system.tables
    .filter((t) => t.media)
    .map((t) => t.name)
    .sort();
  const configTables = system.tables
    .filter((t) => !t.media)
    .map((t) => t.name)
    .sort();
  assert.ok(mediaTables.length >= 9, `the example marks its media tables: ${mediaTables}`);

  const backup = await createBackup(server, { note: 'before the upgrade' });
  assert.match(backup.fileName, ARCHIVE_NAME);
  assert.equal(backup.kind, 'MANUAL');
  assert.equal(backup.includesMedia, false);
  assert.equal(backup.note, 'before the upgrade');
  assert.equal(backup.schemaVersion, system.schemaVersion);
  assert.deepEqual(backup.tables.map((t) => t.name).sort(), configTables, 'config-only leaves out exactly the media tables');

  const file = archivePath(server, backup.fileName);
  assert.equal(backup.sizeBytes, (await stat(file)).size, 'sizes are exact');

  const archive = extractWithTar(file);
  assert.equal(archive.entries[0], 'manifest.json', 'the manifest comes first');
  assert.equal(archive.manifest.provider, system.databaseProvider);
  for (const table of archive.manifest.tables) {
    assert.equal(table.rows, await countRows(server.targetUrl, table.name), `rows of ${table.name}`);
    assert.equal(archive.sha256(table.path), table.sha256, `hash of ${table.name}`);
    assert.equal(archive.rows(table.path).length, table.rows);
  }
  for (const entry of archive.manifest.files) assert.equal(archive.sha256(entry.path), entry.sha256, entry.path);
  assert.ok(archive.entries.includes('files/config.toml'), 'the config file is in');
  assert.ok(
    archive.entries.some((e) => e.startsWith('files/secrets/')),
    'the secrets folder is in',
  );
  assert.deepEqual([...archive.manifest.excludedTables].sort(), mediaTables);

  const listed = await server.gql(ListBackupsDocument, {});
  assert.equal(listed.backups.edges[0]?.node.id, backup.id, 'the new backup is listed first');
  return backup;
}

/** A full backup holds every table, media included, with the database's counts. */
export async function fullBackupHoldsEverything(server: TestServer) {
  const { system } = await server.gql(SystemDocument);
  const backup = await createBackup(server, { includeMedia: true });
  assert.equal(backup.includesMedia, true);
  assert.deepEqual(backup.tables.map((t) => t.name).sort(), system.tables.map((t) => t.name).sort());
  for (const table of backup.tables) {
    assert.equal(table.rows, await countRows(server.targetUrl, table.name), `rows of ${table.name}`);
  }
  assert.ok(
    backup.tables.some((t) => t.media && t.rows > 0),
    'the example has media rows',
  );
  return backup;
}

/** Download streams the same bytes; delete removes the file and the listing forgets it. */
export async function downloadAndDelete(server: TestServer, backupId: string) {
  const { backup } = await server.gql(GetBackupDocument, { id: backupId });
  assert.ok(backup);
  const response = await server.fetch(backup.downloadUrl);
  assert.equal(response.status, 200);
  const bytes = Buffer.from(await response.arrayBuffer());
  assert.equal(bytes.length, backup.sizeBytes);
  const { createHash } = await import('node:crypto');
  assert.equal(createHash('sha256').update(bytes).digest('hex'), backup.sha256);

  const deleted = await server.gql(DeleteBackupDocument, { input: { backupId } });
  assert.equal(deleted.deleteBackup.__typename, 'DeleteBackupPayload');
  await assert.rejects(stat(archivePath(server, backup.fileName)), { code: 'ENOENT' });
  assert.equal((await server.gql(GetBackupDocument, { id: backupId })).backup, null);
  const again = await server.gql(DeleteBackupDocument, { input: { backupId } });
  assert.equal(again.deleteBackup.__typename, 'NotFoundError');
}

/** Restores through the API and waits for the job's end: the refusal, or the finished job. */
export async function restoreAndWait(server: TestServer, backupId: string) {
  const started = await server.gql(RestoreBackupDocument, { input: { backupId } });
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return { refused: started.restoreBackup, job: null };
  const { id } = started.restoreBackup.job;
  const job = await waitFor('the restore to end', async () => {
    const { restoreJob } = await server.gql(RestoreJobDocument, { id });
    return restoreJob?.status === 'SUCCEEDED' || restoreJob?.status === 'FAILED' ? restoreJob : null;
  });
  return { refused: null, job };
}
