// A restore gives back the database as its own dump tool sees it: after backup, changes and
// restore, `sqlite3 .dump` and `pg_dump` print the same bytes as before, on data written the
// way Prisma 5, 6 and 7 write it (integer, CURRENT_TIMESTAMP and ISO DateTimes), rows in
// storage order, sequences where the source left them, -0.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { createBackup, restoreAndWait } from '../helpers/scenarios.ts';
import { pgDump, sqliteDump, withoutMigrationHistory } from '../helpers/dumps.ts';
import { withPg } from '../helpers/postgres.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

function fixtureEnv(name: string): Record<string, string> {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures', name);
  return { TARGET_SCHEMA: path.join(dir, 'schema.prisma'), TARGET_MIGRATIONS: path.join(dir, 'migrations') };
}

/** A server whose target is a new, empty SQLite file: start-up applies the fixture's migrations to it. */
async function sqliteServer(fixture: string): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-exact-'));
  const file = path.join(dataDir, 'app.db');
  new Database(file).close();
  return startServer({ dataDir, env: { ...fixtureEnv(fixture), TARGET_DATABASE_URL: `file:${file}` } });
}

async function restore(server: TestServer, backupId: string): Promise<void> {
  const { refused, job } = await restoreAndWait(server, backupId);
  assert.equal(refused, null, JSON.stringify(refused));
  assert.equal(job?.status, 'SUCCEEDED', job?.error ?? '');
}

/** The SQLite file a test server's target URL names. */
function targetFile(server: TestServer): string {
  const location = parseDatabaseUrl(server.targetUrl);
  if (location.provider !== 'sqlite') throw new Error('not a SQLite target');
  return location.filePath;
}

/** Text keys in an order unlike their byte order, so storage order and key order differ. */
const SESSION_IDS = ['zq81', 'a7c2', 'M004', 'b0b9', 'é-17', '0001', 'Kx2'];

/** Rows as Prisma 5/6 (integer milliseconds), SQLite's CURRENT_TIMESTAMP and Prisma 7 (ISO text) write them, mixed. */
function writePrismaSixData(file: string): void {
  const db = new Database(file);
  db.defaultSafeIntegers(true);
  const user = db.prepare(
    'INSERT INTO "User" (email, "createdAt", "updatedAt", balance, score, big, active, avatar) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  user.run('ms@x', 1_700_000_000_123n, 1_700_000_100_000n, 12n, 0.1, 9_223_372_036_854_775_807n, 1n, Buffer.from([0, 255]));
  db.prepare(`INSERT INTO "User" (email, "updatedAt", balance) VALUES ('default@x', 1700000200000, 0.25)`).run(); // CURRENT_TIMESTAMP
  user.run('iso@x', '2024-05-06T07:08:09.010+00:00', '2024-05-06T07:08:09.010Z', 3.5, 1e21, -1n, 0n, null);
  user.run('odd@x', '2024-05-06 07:08:09', 1.7e12, '7', 5, null, 1n, 'text in a blob column');
  user.run('gone@x', 1_700_000_000_000n, 1_700_000_000_000n, 0n, null, null, 1n, null);
  const session = db.prepare('INSERT INTO "Session" (id, "userId", "expirationDate", data) VALUES (?, ?, ?, ?)');
  SESSION_IDS.forEach((id, i) =>
    session.run(
      id,
      1n + BigInt(i % 3),
      i % 2 ? 1_700_000_000_000n + BigInt(i) * 86_400_000n : `2024-0${1 + i}-01T00:00:00.000+00:00`,
      `{"n":${i}}`,
    ),
  );
  const log = db.prepare(`INSERT INTO "Log" (level, message) VALUES (?, ?)`);
  for (let i = 0; i < 40; i++) log.run(i % 3 ? 'info' : 'warn', `line ${i}`);
  // A gap in the rowids, rows deleted off the top (the counter stays ahead), a changed key.
  db.exec(`DELETE FROM "Log" WHERE id IN (5, 6, 39, 40); DELETE FROM "User" WHERE email = 'gone@x'`);
  db.exec(`UPDATE "Session" SET id = 'renamed' WHERE id = 'b0b9'`);
  db.close();
}

test('SQLite: a restore gives back the same .dump, storage classes, rowid order and AUTOINCREMENT counters included', async () => {
  const server = await sqliteServer('exact-sqlite');
  try {
    const file = targetFile(server);
    writePrismaSixData(file);
    const before = sqliteDump(file);
    assert.match(
      before,
      /INSERT INTO "?User"? VALUES\(1,'ms@x',1700000000123,1700000100000,/,
      'the integer DateTimes as Prisma 6 wrote them',
    );
    assert.match(before, /INSERT INTO sqlite_sequence VALUES\('Log',40\)/);
    const backup = await createBackup(server, { includeMedia: true });

    const db = new Database(file);
    db.exec(
      `DELETE FROM "Session"; UPDATE "User" SET "createdAt" = '2030-01-01T00:00:00.000+00:00', balance = 99; DELETE FROM "Log" WHERE id < 20`,
    );
    db.exec(`INSERT INTO "Log" (level, message) VALUES ('info', 'after the backup'); INSERT INTO "Session" VALUES ('new', 1, 0, '')`);
    db.close();
    assert.notEqual(sqliteDump(file), before);

    await restore(server, backup.id);
    assert.equal(sqliteDump(file), before, 'the same dump, byte for byte');
  } finally {
    await server.close();
  }

  // Into a fresh database of the same schema: the same rows, forms and counters.
  const source = await sqliteServer('exact-sqlite');
  const fresh = await sqliteServer('exact-sqlite');
  try {
    writePrismaSixData(targetFile(source));
    const backup = await createBackup(source, { includeMedia: true });
    execFileSync('cp', [path.join(source.app.config.backupDir, backup.fileName), fresh.app.config.backupDir]);
    await restore(fresh, backup.id);
    assert.equal(withoutMigrationHistory(sqliteDump(targetFile(fresh))), withoutMigrationHistory(sqliteDump(targetFile(source))));
  } finally {
    await source.close();
    await fresh.close();
  }
});

test('PostgreSQL: a restore gives back the same pg_dump, sequences, identity, citext, arrays, json, -0 and heap order included', async () => {
  const server = await startServer({ provider: 'postgresql', env: { ...fixtureEnv('exact-postgresql') } });
  try {
    await withPg(server.targetUrl, async (client) => {
      await client.query(`
        INSERT INTO "Account" (email, tags, scores, settings, "rawDoc", balance, ratio, born) VALUES
          ('Ann@Example.com', ARRAY['a', NULL, 'b "c"'], ARRAY[1, -2], '{"b": 1, "a": [1.50, 2]}', '{"b": 1,  "a": 1.50}', 12.5, '-0', '1999-12-31'),
          ('bob@example.com', '{}', NULL, '{}', NULL, -0.000001, 'NaN', NULL),
          ('gone@example.com', NULL, NULL, '[]', NULL, 0, 1e-300, NULL),
          ('cat@example.com', ARRAY['x'], ARRAY[3], '{"deep": {"x": null}}', '[1, 2]', 99999999999999.999999, 'Infinity', '0099-01-01');
        INSERT INTO "Event" ("accountId", payload, at) SELECT 1 + n % 2, decode(md5(n::text), 'hex'), '2026-01-01'::timestamp + n * interval '1 minute' FROM generate_series(1, 30) n;
        INSERT INTO "Membership" VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'OWNER'), (2, '00000000-0000-0000-0000-000000000001', 'MEMBER');
        INSERT INTO "AuditLine" VALUES (3, 'third'), (1, 'first'), (2, 'second'), (1, 'first again');
        -- Heap order unlike key order, ids deleted off the top, sequence values handed out unused.
        UPDATE "Account" SET born = '2000-01-01' WHERE email = 'Ann@Example.com';
        UPDATE "Event" SET at = at + interval '1 day' WHERE id % 7 = 0;
        DELETE FROM "Account" WHERE email = 'gone@example.com';
        DELETE FROM "Event" WHERE id > 27;
        SELECT nextval(pg_get_serial_sequence('"Account"', 'id'));
      `);
    });
    const before = pgDump(server.targetUrl);
    assert.match(before, /setval\('public\."Account_id_seq"', 5, true\)/, 'the serial sequence is ahead of every id');
    assert.match(before, /setval\('public\."Event_id_seq"', 30, true\)/, 'the identity sequence is ahead of every id');
    assert.match(before, /\t-0\t/, 'a negative zero');
    const backup = await createBackup(server, { includeMedia: true });

    await withPg(server.targetUrl, async (client) => {
      await client.query(`
        DELETE FROM "Membership"; DELETE FROM "AuditLine" WHERE line = 1;
        UPDATE "Account" SET ratio = 1, tags = NULL; INSERT INTO "Event" ("accountId", at) VALUES (2, now());
        SELECT setval(pg_get_serial_sequence('"Account"', 'id'), 1000);
      `);
    });
    assert.notEqual(pgDump(server.targetUrl), before);

    await restore(server, backup.id);
    assert.equal(pgDump(server.targetUrl), before, 'the same dump, byte for byte');
  } finally {
    await server.close();
  }
});
