// Archives whose rows lie about the schema, with every hash made consistent so that only the
// row check can catch them: restore, verify and upload each refuse them, on SQLite and on
// PostgreSQL, and the target's data stays exactly as it was.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Manifest } from '../../src/archive/manifest.ts';
import { VerifyBackupDocument } from '../generated/graphql.ts';
import { editManifest, pack, readEntries, replaceTableRows, type Entry } from '../helpers/archive-edit.ts';
import { dumpOf } from '../helpers/dumps.ts';
import { archivePath, createBackup, restoreAndWait } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { uploadArchive } from '../helpers/upload.ts';

type Row = unknown[];
/** One lie per case, told in the first MediaItem row (or the manifest). */
const CASES: Record<string, (entries: Entry[], column: (name: string) => number) => Entry[]> = {
  'a string in an Int column': (e, c) => firstRow(e, (row) => (row[c('year')] = '1999')),
  '1.5 in an Int column': (e, c) => firstRow(e, (row) => (row[c('year')] = 1.5)),
  '2^40 in an Int column': (e, c) => firstRow(e, (row) => (row[c('year')] = 2 ** 40)),
  'a word in a BigInt column': (e, c) => firstRow(e, (row) => (row[c('sizeBytes')] = 'twelve')),
  'an unknown enum value': (e, c) => firstRow(e, (row) => (row[c('type')] = 'PODCAST')),
  'not-a-date in a DateTime column': (e, c) => firstRow(e, (row) => (row[c('addedAt')] = 'not-a-date')),
  'null in a required column': (e, c) => firstRow(e, (row) => (row[c('title')] = null)),
  'an extra value': (e) => firstRow(e, (row) => row.push('extra')),
  'a missing value': (e) => firstRow(e, (row) => row.pop()),
  'a duplicate primary key': (e, c) =>
    replaceTableRows(e, 'MediaItem', (rows) => [rows[0]!, rows[0]!.map((v, i) => (i === c('id') ? v : rows[1]![i])), ...rows.slice(2)]),
  'format version 99': (e) => editManifest(e, (manifest) => (manifest.formatVersion = 99)),
};

function firstRow(entries: Entry[], edit: (row: Row) => void): Entry[] {
  return replaceTableRows(entries, 'MediaItem', (rows) => {
    const first = [...rows[0]!];
    edit(first);
    return [first, ...rows.slice(1)];
  });
}

for (const provider of ['sqlite', 'postgresql'] as const) {
  describe(`hostile rows on ${provider}`, () => {
    let server: TestServer;
    let entries: Entry[];
    let column: (name: string) => number;

    before(async () => {
      server = await startServer({ provider });
      const backup = await createBackup(server, { includeMedia: true });
      entries = await readEntries(await readFile(archivePath(server, backup.fileName)));
      const manifest = JSON.parse(entries[0]!.content.toString()) as Manifest;
      const names = manifest.tables.find((t) => t.name === 'MediaItem')!.columns.map((c) => c.name);
      column = (name) => names.indexOf(name);
    });

    after(async () => {
      await server?.close();
    });

    let day = 0;
    for (const [name, lie] of Object.entries(CASES)) {
      test(`${name}: restore, verify and upload refuse it; nothing changes`, async () => {
        const bytes = await pack(lie(entries, column));
        day++;
        const fileName = `app-backup-2020-01-${String(day).padStart(2, '0')}T00-00-00-manual.tar.gz`;
        await writeFile(archivePath(server, fileName), bytes);
        const before = dumpOf(server.targetUrl);

        const { refused, job } = await restoreAndWait(server, fileName);
        const why = refused ? (refused as { message?: string }).message : job?.error;
        assert.ok(refused || job?.status === 'FAILED', `${name}: the restore was not refused`);
        assert.match(String(why), /do not fit the schema|format version 99/, `${name}: ${why}`);
        assert.equal(dumpOf(server.targetUrl), before, `${name}: the target changed`);

        const verified = await server.gql(VerifyBackupDocument, { input: { backupId: fileName } });
        assert.equal(verified.verifyBackup.__typename, 'VerifyBackupPayload');
        if (verified.verifyBackup.__typename === 'VerifyBackupPayload') assert.equal(verified.verifyBackup.report.ok, false, name);

        const uploaded = await uploadArchive(server, bytes);
        assert.equal(uploaded.body.data?.uploadBackup.__typename, 'InvalidArchiveError', `${name}: ${JSON.stringify(uploaded.body)}`);
        assert.equal(dumpOf(server.targetUrl), before, `${name}: the target changed`);
      });
    }

    test('the untouched archive still uploads (the checks refuse lies, not backups)', async () => {
      const uploaded = await uploadArchive(server, await pack(entries));
      assert.equal(uploaded.body.data?.uploadBackup.__typename, 'UploadBackupPayload', JSON.stringify(uploaded.body));
    });
  });
}
