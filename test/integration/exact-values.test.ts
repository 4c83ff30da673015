// Every Prisma scalar type travels exactly: what the archive holds is what the database
// holds, down to BigInt extremes, decimal digits, microseconds, bytes and list elements,
// and a restore puts back the same bytes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { createReadStream } from 'node:fs';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { archiveSource, replaceData } from '../../src/engine/restore.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { loadTarget } from '../../src/target/target.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { extractWithTar } from '../helpers/inspect.ts';
import { createScratchDatabase, withPg } from '../helpers/postgres.ts';
import { startServer } from '../helpers/server.ts';

const TEXT = 'héllo 🎬 "quoted"\nnew line \\ back\ttab\rreturn \\N not null';
const JSON_TEXT = '{"nested":{"a":[1,2.5,null]},"big":12345678901234567890}';
const BYTES = Buffer.from([0, 1, 2, 253, 254, 255]);

function fixtureEnv(provider: 'sqlite' | 'postgresql') {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures', `all-types-${provider}`);
  return { TARGET_SCHEMA: path.join(dir, 'schema.prisma'), TARGET_MIGRATIONS: path.join(dir, 'migrations') };
}

/** The rows as archived; then the archive is restored and backed up again, which must give the same bytes. */
async function backedUpRows(server: Awaited<ReturnType<typeof startServer>>) {
  const backup = await createBackup(server, { includeMedia: true });
  const file = archivePath(server, backup.fileName);
  const archive = extractWithTar(file);
  const table = archive.manifest.tables.find((t) => t.name === 'Everything')!;
  const tables = (await loadTarget(server.app.config.target)).schema.tables;
  await replaceData({
    location: parseDatabaseUrl(server.targetUrl),
    tables,
    source: archiveSource(archive.manifest, tables, () => createReadStream(file)),
  });
  const again = await createBackup(server, { includeMedia: true });
  assert.deepEqual(
    again.tables.map((t) => t.sha256),
    backup.tables.map((t) => t.sha256),
    'a restore gives back the same bytes',
  );
  return archive.rows(table.path);
}

test('SQLite: every scalar type is encoded exactly', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-types-'));
  const file = path.join(dataDir, 'types.db');
  new Database(file).close();
  const server = await startServer({ dataDir, env: { ...fixtureEnv('sqlite'), TARGET_DATABASE_URL: `file:${file}` } });
  try {
    const db = new Database(file);
    db.defaultSafeIntegers(true);
    const insert = db.prepare(
      'INSERT INTO "Everything" (id, text, int, big, float, dec, flag, at, doc, blob, mood) VALUES (?,?,?,?,?,?,?,?,?,?,?)',
    );
    // The forms Prisma's SQLite adapter writes: ISO text with +00:00, decimals as doubles, booleans as 0/1.
    insert.run(1, TEXT, -2147483648, 9223372036854775807n, 0.1, 12.5, 1, '2026-01-02T03:04:05.678+00:00', JSON_TEXT, BYTES, 'loud!');
    insert.run(2, null, null, null, null, null, null, null, null, null, null);
    insert.run(
      3,
      '',
      2147483647,
      -9223372036854775808n,
      1.7976931348623157e308,
      1e21,
      0,
      1_700_000_000_123n,
      '[]',
      Buffer.alloc(0),
      'CALM',
    );
    db.close();

    assert.deepEqual(await backedUpRows(server), [
      [
        1,
        TEXT,
        -2147483648,
        '9223372036854775807',
        0.1,
        '12.5',
        true,
        '2026-01-02T03:04:05.678Z',
        JSON_TEXT,
        BYTES.toString('base64'),
        'loud!',
      ],
      [2, null, null, null, null, null, null, null, null, null, null],
      [
        3,
        '',
        2147483647,
        '-9223372036854775808',
        1.7976931348623157e308,
        '1000000000000000000000',
        false,
        // Stored as an integer, as Prisma 5 and 6 write DateTimes: kept with its stored form.
        { v: '2023-11-14T22:13:20.123Z', i: '1700000000123' },
        '[]',
        '',
        'CALM',
      ],
    ]);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('PostgreSQL: every scalar type, native type and scalar list is encoded exactly', async () => {
  const database = await createScratchDatabase();
  const server = await startServer({ provider: 'postgresql', database, env: fixtureEnv('postgresql') });
  try {
    const jsonbText = await withPg(database.url, async (client) => {
      await client.query(
        `INSERT INTO "Everything" (id, text, int, big, float, dec, flag, at, doc, blob, mood, tags, bigs, times, precise, day, wide, uid)
         VALUES (1, $1, -2147483648, 9223372036854775807, 0.1, 12.5, true, '2026-01-02 03:04:05.678', $2, $3, 'loud!',
                 ARRAY['a', NULL, 'ü,"x"'], ARRAY[9223372036854775807, -1]::bigint[], ARRAY['2026-01-02 03:04:05.678']::timestamp[],
                 '2026-01-02 05:04:05.123456+02', '2026-01-02', 12345678901234567890.123456789012345678,
                 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                (2, NULL, NULL, NULL, 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL),
                (3, '', 0, -9223372036854775808, '-Infinity', -0.000000000000000000000000000001, false, '1970-01-01 00:00:00', 'null', '\\x', 'CALM',
                 ARRAY[]::text[], ARRAY[]::bigint[], ARRAY[]::timestamp[], NULL, NULL, -0.000000000000000001, NULL)`,
        [TEXT, JSON_TEXT, BYTES],
      );
      return (await client.query('SELECT doc::text AS doc FROM "Everything" WHERE id = 1')).rows[0].doc as string;
    });

    assert.deepEqual(await backedUpRows(server), [
      [
        1,
        TEXT,
        -2147483648,
        '9223372036854775807',
        0.1,
        '12.500000000000000000000000000000',
        true,
        '2026-01-02T03:04:05.678Z',
        jsonbText,
        BYTES.toString('base64'),
        'loud!',
        ['a', null, 'ü,"x"'],
        ['9223372036854775807', '-1'],
        ['2026-01-02T03:04:05.678Z'],
        '2026-01-02T03:04:05.123456Z',
        '2026-01-02T00:00:00.000Z',
        '12345678901234567890.123456789012345678',
        'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      ],
      [2, null, null, null, 'NaN', null, null, null, null, null, null, [], null, null, null, null, null, null],
      [
        3,
        '',
        0,
        '-9223372036854775808',
        '-Infinity',
        '-0.000000000000000000000000000001',
        false,
        '1970-01-01T00:00:00.000Z',
        'null',
        '',
        'CALM',
        [],
        [],
        [],
        null,
        null,
        '-0.000000000000000001',
        null,
      ],
    ]);
  } finally {
    await server.close();
  }
});
