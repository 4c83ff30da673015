// verifyBackup checks every hash and restores into a scratch database, comparing each
// table with the manifest, without touching the target.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { VerifyBackupDocument } from '../generated/graphql.ts';
import { editManifest, pack, readEntries } from '../helpers/archive-edit.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { withPg, POSTGRES_ADMIN_URL } from '../helpers/postgres.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

async function scratchDatabases(): Promise<string[]> {
  return withPg(POSTGRES_ADMIN_URL, async (client) =>
    (await client.query(`SELECT datname FROM pg_database WHERE datname LIKE 'bcp_scratch_%'`)).rows.map((r) => String(r.datname)),
  );
}

for (const provider of ['sqlite', 'postgresql'] as const) {
  describe(`verifying on ${provider}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ provider });
    });
    after(async () => {
      await server.close();
    });

    test('a good backup verifies table by table and the target is untouched', async () => {
      const scratchBefore = provider === 'postgresql' ? await scratchDatabases() : [];
      const backup = await createBackup(server, { includeMedia: true });
      const result = await server.gql(VerifyBackupDocument, { input: { backupId: backup.id } });
      assert.equal(result.verifyBackup.__typename, 'VerifyBackupPayload');
      if (result.verifyBackup.__typename !== 'VerifyBackupPayload') return;
      const { report } = result.verifyBackup;
      assert.deepEqual(report.problems, []);
      assert.equal(report.ok, true);
      assert.equal(report.restored, true);
      assert.equal(report.tables.length, backup.tables.length);
      for (const table of report.tables) {
        assert.equal(table.restoredRows, table.expectedRows, table.name);
        assert.equal(table.hashMatches, true, table.name);
      }
      const after = await createBackup(server, { includeMedia: true });
      assert.deepEqual(
        after.tables.map((t) => t.sha256),
        backup.tables.map((t) => t.sha256),
        'the target is as it was',
      );
      assert.deepEqual(await readdir(server.app.config.scratchDir), [], 'the scratch database is gone');
      if (provider === 'postgresql') assert.deepEqual(await scratchDatabases(), scratchBefore, 'the scratch database is dropped');
    });

    test('a damaged backup is reported, not restored', async () => {
      const backup = await createBackup(server);
      const entries = editManifest(await readEntries(await readFile(archivePath(server, backup.fileName))), (m) => {
        m.tables[1]!.sha256 = '0'.repeat(64);
      });
      await writeFile(archivePath(server, 'tampered.tar.gz'), await pack(entries));
      const result = await server.gql(VerifyBackupDocument, { input: { backupId: 'tampered.tar.gz' } });
      if (result.verifyBackup.__typename !== 'VerifyBackupPayload') throw new Error(result.verifyBackup.__typename);
      assert.equal(result.verifyBackup.report.ok, false);
      assert.equal(result.verifyBackup.report.restored, false);
      assert.match(result.verifyBackup.report.problems.join(' '), /SHA-256/);
      const missing = await server.gql(VerifyBackupDocument, { input: { backupId: '../nope.tar.gz' } });
      assert.equal(missing.verifyBackup.__typename, 'NotFoundError');
    });
  });
}
