// The example app moved between SQLite and PostgreSQL through the real server, both ways: every
// value as Prisma reads it, ids that do not collide, and a verify that restores for real.
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Manifest } from '../../src/archive/manifest.ts';
import { GetBackupDocument, VerifyBackupDocument, type BackupFieldsFragment } from '../generated/graphql.ts';
import { editManifest, pack, readEntries, replaceTableRows } from '../helpers/archive-edit.ts';
import { extractWithTar } from '../helpers/inspect.ts';
import { withPg } from '../helpers/postgres.ts';
import { archivePath, createBackup, restoreAndWait } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { uploadArchive } from '../helpers/upload.ts';

/** Tables numbered by an autoincrement id in the example app. */
const NUMBERED = ['MediaStream', 'SyncJob', 'RuleMatch', 'LifecycleAction', 'LifecycleException', 'WatchHistory', 'LogEntry'];

async function sql(server: TestServer, statement: string): Promise<Record<string, unknown>[]> {
  if (!server.targetUrl.startsWith('file:')) return withPg(server.targetUrl, async (client) => (await client.query(statement)).rows);
  const db = new Database(server.targetUrl.slice('file:'.length));
  try {
    return /^\s*(SELECT|INSERT)/.test(statement) ? (db.prepare(statement).all() as Record<string, unknown>[]) : (db.exec(statement), []);
  } finally {
    db.close();
  }
}

async function verify(server: TestServer, backupId: string) {
  const result = await server.gql(VerifyBackupDocument, { input: { backupId } });
  assert.equal(result.verifyBackup.__typename, 'VerifyBackupPayload', JSON.stringify(result.verifyBackup));
  if (result.verifyBackup.__typename !== 'VerifyBackupPayload') throw new Error('unreachable');
  return result.verifyBackup.report;
}

/**
 * A value as Prisma reads it from either database: a SQLite stored form as its value, JSON
 * as its document, a decimal as a number where SQLite holds a double, else without the
 * zeros PostgreSQL's scale adds.
 */
function asRead(type: string, value: unknown, sqliteHolds: boolean): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return asRead(type, (value as { v: unknown }).v, sqliteHolds);
  if (value === null) return null;
  if (type === 'Json') return JSON.parse(value as string);
  if (type === 'Decimal')
    return sqliteHolds
      ? Number(value)
      : String(value)
          .replace(/(\.\d*?)0+$/, '$1')
          .replace(/\.$/, '');
  return value;
}

/** Each table's rows from a backup, as Prisma reads them, in key order. */
function readableRows(file: string, sqliteHolds: boolean): Map<string, unknown[][]> {
  const archive = extractWithTar(file);
  const tables = new Map<string, unknown[][]>();
  for (const table of archive.manifest.tables) {
    const key = table.key.map((name) => table.columns.findIndex((c) => c.name === name));
    const rows = archive.rows(table.path).map((row) => table.columns.map((column, i) => asRead(column.type, row[i], sqliteHolds)));
    const keyOf = (row: unknown[]) => JSON.stringify(key.map((i) => row[i]));
    tables.set(
      table.name,
      rows.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0)),
    );
  }
  return tables;
}

function manifestOf(server: TestServer, backup: BackupFieldsFragment): Manifest {
  return extractWithTar(archivePath(server, backup.fileName)).manifest;
}

/** Moves `backup` of `from` into `to`, then compares them and adds rows on `to`. */
async function moveAndCompare(from: TestServer, to: TestServer, backup: BackupFieldsFragment, backupId: string) {
  const source = manifestOf(from, backup);
  const listed = (await to.gql(GetBackupDocument, { id: backupId })).backup!;
  assert.deepEqual(listed.restorable, { ok: true, reason: null });

  const report = await verify(to, backupId);
  assert.deepEqual(report.problems, []);
  assert.equal(report.ok, true);
  assert.equal(report.restored, true, 'a real restore into a scratch database');
  assert.match(report.notes.join(' '), /values compared as/);
  for (const table of report.tables) {
    assert.equal(table.restoredRows, table.expectedRows, table.name);
    assert.equal(table.valuesMatch, true, table.name);
  }

  const { job } = await restoreAndWait(to, backupId);
  assert.equal(job?.status, 'SUCCEEDED', job?.error ?? '');
  const moved = await createBackup(to, { includeMedia: true });
  const target = manifestOf(to, moved);
  assert.deepEqual(
    target.tables.map((t) => [t.name, t.rows]),
    source.tables.map((t) => [t.name, t.rows]),
    'every table, every row',
  );
  const sqliteHolds = from.database === null || to.database === null;
  const before = readableRows(archivePath(from, backup.fileName), sqliteHolds);
  const afterMove = readableRows(archivePath(to, moved.fileName), sqliteHolds);
  for (const [name, rows] of before) assert.deepStrictEqual(afterMove.get(name), rows, name);

  // New rows after the move take ids past every id moved.
  for (const name of NUMBERED) {
    const spec = source.tables.find((t) => t.name === name)!;
    const maxId = Math.max(
      0,
      ...extractWithTar(archivePath(from, backup.fileName))
        .rows(spec.path)
        .map((row) => Number(row[0])),
    );
    if (to.database === null) {
      const [counter] = await sql(to, `SELECT seq FROM sqlite_sequence WHERE name = '${name}'`);
      assert.ok(Number(counter?.seq ?? 0) >= maxId, `${name}: sqlite_sequence at ${counter?.seq}, max id ${maxId}`);
    }
  }
  const [item] = await sql(to, `SELECT id FROM "MediaItem" ORDER BY id LIMIT 1`);
  const [log] = await sql(
    to,
    `INSERT INTO "LogEntry" (level, source, message, "createdAt") VALUES ('INFO', 'test', 'moved', '2026-12-06T00:00:00.000+00:00') RETURNING id`,
  );
  const [stream] = await sql(
    to,
    `INSERT INTO "MediaStream" ("mediaItemId", kind, codec, "isDefault") VALUES ('${String(item!.id)}', 'audio', 'aac', false) RETURNING id`,
  );
  for (const [name, row] of [
    ['LogEntry', log],
    ['MediaStream', stream],
  ] as const) {
    const spec = source.tables.find((t) => t.name === name)!;
    const maxId = Math.max(
      ...extractWithTar(archivePath(from, backup.fileName))
        .rows(spec.path)
        .map((r) => Number(r[0])),
    );
    assert.ok(Number(row!.id) > maxId, `${name}: new id ${row!.id} after ${maxId}`);
  }
}

describe('moving the example app between SQLite and PostgreSQL', () => {
  let lite: TestServer;
  let pg: TestServer;
  let fromSqlite: BackupFieldsFragment;
  let fromPostgres: BackupFieldsFragment;

  before(async () => {
    [lite, pg] = await Promise.all([startServer({ provider: 'sqlite' }), startServer({ provider: 'postgresql' })]);
    // A Prisma 6 integer DateTime and a row deleted before the backup: a stored form and a gap.
    await sql(lite, `UPDATE "LogEntry" SET "createdAt" = 1700000000123 WHERE id = (SELECT min(id) FROM "LogEntry")`);
    await sql(lite, `DELETE FROM "LogEntry" WHERE id = (SELECT max(id) FROM "LogEntry")`);
    [fromSqlite, fromPostgres] = await Promise.all([createBackup(lite, { includeMedia: true }), createBackup(pg, { includeMedia: true })]);
    assert.match(
      extractWithTar(archivePath(lite, fromSqlite.fileName)).read('db/LogEntry.ndjson').toString(),
      /\{"v":"2023-11-14T22:13:20\.123Z","i":"1700000000123"\}/,
    );
  });

  after(async () => {
    await Promise.all([lite?.close(), pg?.close()]);
  });

  test('a SQLite backup, copied into the PostgreSQL server, restores with every value', async () => {
    // Both backups were taken in the same second: the copy gets a name of its own.
    await copyFile(archivePath(lite, fromSqlite.fileName), archivePath(pg, 'from-sqlite.tar.gz'));
    await moveAndCompare(lite, pg, fromSqlite, 'from-sqlite.tar.gz');
  });

  test('a PostgreSQL backup, uploaded to the SQLite server, restores with every value', async () => {
    const uploaded = await uploadArchive(lite, await readFile(archivePath(pg, fromPostgres.fileName)));
    const payload = uploaded.body.data?.uploadBackup;
    assert.equal(payload?.__typename, 'UploadBackupPayload', JSON.stringify(uploaded.body));
    if (payload?.__typename !== 'UploadBackupPayload') return;
    await moveAndCompare(pg, lite, fromPostgres, payload.backup.id);
  });

  test('a backup lacking a column of the target, or holding one it lacks, is refused before any restore, with the restore’s reason', async () => {
    const entries = await readEntries(await readFile(archivePath(lite, fromSqlite.fileName)));
    const languageAt = manifestOf(lite, fromSqlite)
      .tables.find((t) => t.name === 'MediaStream')!
      .columns.findIndex((c) => c.name === 'language');
    const lacking = editManifest(
      replaceTableRows(entries, 'MediaStream', (rows) => rows.map((row) => row.filter((_, i) => i !== languageAt))),
      (m) => void m.tables.find((t) => t.name === 'MediaStream')!.columns.splice(languageAt, 1),
    );
    const extra = editManifest(
      replaceTableRows(entries, 'MediaStream', (rows) => rows.map((row) => [...row, 'x'])),
      (m) =>
        void m.tables
          .find((t) => t.name === 'MediaStream')!
          .columns.push({ name: 'note', type: 'String', list: false, nullable: false, nativeType: null }),
    );
    const why = "the backup's data model differs from this target's, and migrations do not apply from sqlite to postgresql";
    const cases = {
      'lacking.tar.gz': `${why}: column MediaStream.language is only in this target`,
      'extra.tar.gz': `${why}: column MediaStream.note is only in the backup`,
    };
    await writeFile(archivePath(pg, 'lacking.tar.gz'), await pack(lacking));
    await writeFile(archivePath(pg, 'extra.tar.gz'), await pack(extra));
    const streams = await sql(pg, `SELECT count(*)::int AS n FROM "MediaStream"`);
    for (const [name, reason] of Object.entries(cases)) {
      const listed = (await pg.gql(GetBackupDocument, { id: name })).backup!;
      assert.deepEqual(listed.restorable, { ok: false, reason }, name);
      const report = await verify(pg, name);
      assert.deepEqual(
        { ok: report.ok, restored: report.restored, problems: report.problems },
        { ok: false, restored: false, problems: [reason] },
      );
      const { refused } = await restoreAndWait(pg, name);
      assert.equal(refused?.__typename, 'NewerSchemaError', name);
      assert.equal(refused?.message, reason, name);
    }
    assert.deepEqual(await sql(pg, `SELECT count(*)::int AS n FROM "MediaStream"`), streams, 'nothing changed');
  });

  test('verify restores for real: a value PostgreSQL cannot hold fails it, as it would fail the restore', async () => {
    await sql(lite, `UPDATE "MediaStream" SET bitrate = 3000000000 WHERE id = (SELECT min(id) FROM "MediaStream")`);
    const backup = await createBackup(lite, { includeMedia: true });
    await copyFile(archivePath(lite, backup.fileName), archivePath(pg, 'out-of-range.tar.gz'));
    const listed = (await pg.gql(GetBackupDocument, { id: 'out-of-range.tar.gz' })).backup!;
    assert.equal(listed.restorable.ok, true, 'the schemas match: only a restore finds the value');
    const report = await verify(pg, 'out-of-range.tar.gz');
    assert.equal(report.ok, false);
    assert.equal(report.restored, true);
    assert.match(report.problems.join(' '), /the restore into a scratch database failed: .*out of range/);
    const { job } = await restoreAndWait(pg, 'out-of-range.tar.gz');
    assert.equal(job?.status, 'FAILED');
    assert.match(job?.error ?? '', /out of range/);
  });
});
