// The snapshots' fast row lines (SQLite's json_array in sqlite-row-json.ts, PostgreSQL's COPY
// text rewritten in copy-text-to-ndjson.ts) are byte for byte what the general encoder makes:
// ordinary values, every odd storage class a hand-edited SQLite file holds, random doubles.
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { postgresTextExpression } from '../../src/engine/postgres/copy-text-to-ndjson.ts';
import { openSnapshot } from '../../src/engine/providers.ts';
import { openSqliteSnapshot } from '../../src/engine/sqlite/sqlite-snapshot.ts';
import { quoteIdentifier as q } from '../../src/prisma/sql.ts';
import { encodePostgresValue, type EncodedValue } from '../../src/ndjson/value-encoder.ts';
import { encodeStoredSqliteValue } from '../../src/engine/sqlite/sqlite-row-json.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { loadTarget } from '../../src/target/target.ts';
import type { TableSpec } from '../../src/target/target-schema.ts';
import { createScratchDatabase, withPg } from '../helpers/postgres.ts';

const TEXT = 'héllo 🎬 "quoted"\nnew line \\ back\ttab\rreturn \\N \b\f\v \u0001\u001f\u007f\u2028 {"m":0,"v":"x"}';

async function everythingTable(provider: 'sqlite' | 'postgresql', url: string): Promise<TableSpec> {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures', `all-types-${provider}`);
  const target = await loadTarget({
    location: parseDatabaseUrl(url),
    schemaPath: path.join(dir, 'schema.prisma'),
    migrationsDir: path.join(dir, 'migrations'),
    files: [],
    name: 'row-json',
    isExample: false,
  });
  return target.schema.tables.find((table) => table.name === 'Everything')!;
}

function migrationSql(provider: 'sqlite' | 'postgresql'): string {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures', `all-types-${provider}`, 'migrations');
  return readdirSync(dir)
    .filter((name) => !name.endsWith('.toml'))
    .sort()
    .map((name) => readFileSync(path.join(dir, name, 'migration.sql'), 'utf8'))
    .join('\n');
}

/** Doubles of every kind: random bit patterns, short and long decimals, whole numbers, extremes. */
function manyDoubles(count: number): number[] {
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const bits = new DataView(new ArrayBuffer(8));
  const values = [0.1, -0, 1e21, 1e-7, 1e-5, 5e-324, 1.7976931348623157e308, 123456789012345.6, 1, -1, 1e15, 1e16, 0.30000000000000004];
  while (values.length < count) {
    const kind = values.length % 5;
    if (kind === 0) {
      bits.setUint32(0, Math.floor(next() * 2 ** 32));
      bits.setUint32(4, Math.floor(next() * 2 ** 32));
      const value = bits.getFloat64(0);
      if (Number.isFinite(value)) values.push(value);
    } else if (kind === 1) {
      const digits = 1 + Math.floor(next() * 17);
      values.push(Number(`${Math.floor(next() * 10 ** digits)}e${Math.floor(next() * 36) - 18}`));
    } else if (kind === 2) {
      values.push(Math.round((next() - 0.5) * 10 ** Math.floor(next() * 18)));
    } else if (kind === 3) {
      values.push(Number((next() * 10).toFixed(1 + Math.floor(next() * 6))));
    } else {
      // Full 17-digit doubles in the range both languages print plainly.
      values.push((next() + next() / 2 ** 31) * 10 ** (Math.floor(next() * 20) - 5));
    }
  }
  return values;
}

/** The general encoding's lines (`ndjson-v1`): one JSON array per row, each ending in a newline. */
function ndjsonLines(rows: EncodedValue[][]): string {
  return rows.map((row) => JSON.stringify(row) + '\n').join('');
}

/**
 * The snapshot's text, taken as the archive takes it: the pages' bytes, which must be
 * valid UTF-8 (decoding would hide a bad byte behind U+FFFD).
 */
async function snapshotText(url: string, table: TableSpec, pageRows?: number): Promise<string> {
  const location = parseDatabaseUrl(url);
  const snapshot =
    location.provider === 'sqlite' && pageRows ? await openSqliteSnapshot(location.filePath, { pageRows }) : await openSnapshot(location);
  const pages: Buffer[] = [];
  try {
    await snapshot.readTableText(table, async (page) => void pages.push(typeof page === 'string' ? Buffer.from(page) : page));
  } finally {
    await snapshot.close();
  }
  const bytes = Buffer.concat(pages);
  assert.ok(isUtf8(bytes), 'the lines are valid UTF-8');
  return bytes.toString('utf8');
}

test('SQLite writes the same lines as encoding each stored value in JavaScript, for every storage class', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-row-json-'));
  const file = path.join(dir, 'types.db');
  try {
    const db = new Database(file);
    db.exec(migrationSql('sqlite'));
    db.defaultSafeIntegers(true);
    const blob = Buffer.from([0, 1, 0xfe, 0xff]);
    // Column by column, the values row i takes (null once a column runs out). The declared
    // types' affinities turn some of them into other classes, as they would for an app.
    const columns: Record<string, unknown[]> = {
      // The blob last: its page is read again the careful way, the numbers' goes the text column's fast way.
      text: ['', 'plain', TEXT, 42n, 1.5, 'é', blob],
      int: [0n, -2147483648n, 2147483647n, 9007199254740993n, -9223372036854775808n, 1.5, 'abc', '12', blob, 7.0],
      big: [9223372036854775807n, -9223372036854775808n, 1.5, 'abc', blob, 0n],
      float: [0.1, -0, 1e21, 5e-324, 1e-5, 1, 'abc', 5n, blob, Infinity, -Infinity, 2.5e-8],
      dec: [12.5, 1e21, 1e-7, 0.1, 'abc', '1.50', 2n ** 60n, blob, -0, 3.0],
      flag: [0n, 1n, 2n, 0.5, 'true', blob],
      at: [
        '2024-01-01T00:01:01.247+00:00',
        '2024-02-29T23:59:59.999+00:00',
        '2024-12-31T10:00:00.000Z',
        '2023-02-29T00:00:00.000+00:00',
        '2024-01-01T24:00:00.000+00:00',
        '2024-01-01 10:00',
        '2024-01-01T10:00:00.123456+00:00',
        '0050-01-01T00:00:00.000+00:00',
        '2024-01-31T00:00:00.000+02:00',
        1_700_000_000_123n,
        1.7e12,
        Buffer.from('2024-05-06T07:08:09.010Z'),
        '0000-02-29T12:00:00.000+00:00',
        '1900-02-29T12:00:00.000+00:00',
        '2000-02-29T12:00:00.000+00:00',
        '2024-04-31T00:00:00.000+00:00',
        '2024-12-31T23:59:60.000+00:00',
        '2024-13-01T00:00:00.000+00:00',
        '2024-00-10T00:00:00.000+00:00',
        '2024-01-00T00:00:00.000+00:00',
        '2024-01-01T00:00:00.000+00:00 ',
        '2024-06-30T12:60:00.000Z',
      ],
      doc: ['{"a":[1,2]}', 'null', '5', 1.5, blob, TEXT],
      blob: [blob, Buffer.alloc(0), 'text bytes', 5n],
      mood: ['CALM', 'loud!'],
    };
    const names = Object.keys(columns);
    const insert = db.prepare(`INSERT INTO "Everything" (id, ${names.map(q).join(', ')}) VALUES (?, ${names.map(() => '?').join(', ')})`);
    const longest = Math.max(...Object.values(columns).map((values) => values.length));
    let id = 1;
    for (let i = 0; i <= longest; i++) insert.run(id++, ...names.map((name) => columns[name]![i] ?? null));
    const doubles = manyDoubles(20000);
    const insertDoubles = db.prepare('INSERT INTO "Everything" (id, float, dec) VALUES (?, ?, ?)');
    for (let i = 0; i < doubles.length; i += 2) insertDoubles.run(id++, doubles[i], doubles[i + 1] ?? null);
    // Text that is not valid UTF-8 (written by some other tool): both paths replace the bad
    // bytes. Rows enough to fill a page of their own, with no marker to finish.
    const badText = db.prepare(`INSERT INTO "Everything" (id, text, mood) VALUES (?, CAST(x'61ff62c3' AS TEXT), CAST(x'e282' AS TEXT))`);
    for (let i = 0; i < 6; i++) badText.run(id++);
    db.close();

    const url = `file:${file}`;
    const table = await everythingTable('sqlite', url);
    const expected = await storedLines(url, table);
    assert.equal(expected.split('\n').length - 1, id - 1);
    const actual = await snapshotText(url, table, 3);
    const actualLines = actual.split('\n');
    expected.split('\n').forEach((line, i) => assert.equal(actualLines[i], line, `row ${i + 1}`));
    assert.equal(actual, expected);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('SQLite keeps, as the general encoder does, a DateTime text that is no date, exactly as stored', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-row-json-'));
  const file = path.join(dir, 'types.db');
  try {
    const url = `file:${file}`;
    for (const [i, at] of ['-001-01-01T00:00:00.000+00:00', '2024-01-01T00:00:00.0x0+00:00'].entries()) {
      const db = new Database(file);
      if (i === 0) db.exec(migrationSql('sqlite'));
      db.exec('DELETE FROM "Everything"');
      db.prepare('INSERT INTO "Everything" (id, at) VALUES (1, ?)').run(at);
      db.close();
      const table = await everythingTable('sqlite', url);
      const expected = await storedLines(url, table);
      assert.ok(expected.includes(JSON.stringify({ v: null, t: at })), `the general encoder keeps ${at} as stored`);
      assert.equal(await snapshotText(url, table), expected);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/**
 * The general path: each value's storage class and text read by plain SQL, in rowid order,
 * encoded in JavaScript (encodeStoredSqliteValue, which gives the value as Prisma's adapter
 * reads it, and its stored form where a restore would not write it back the same).
 */
async function storedLines(url: string, table: TableSpec): Promise<string> {
  const location = parseDatabaseUrl(url);
  if (location.provider !== 'sqlite') throw new Error('not a SQLite URL');
  const db = new Database(location.filePath, { readonly: true });
  try {
    const select = table.columns
      .map((c) => {
        const name = q(c.name);
        return `typeof(${name}), CASE typeof(${name}) WHEN 'blob' THEN hex(${name}) WHEN 'real' THEN '' || json_quote(${name}) ELSE CAST(${name} AS TEXT) END`;
      })
      .join(', ');
    const rows = db
      .prepare(`SELECT ${select} FROM ${q(table.name)} ORDER BY rowid`)
      .raw(true)
      .all() as string[][];
    return ndjsonLines(rows.map((row) => table.columns.map((column, i) => encodeStoredSqliteValue(column, row[2 * i], row[2 * i + 1]!))));
  } finally {
    db.close();
  }
}

test('PostgreSQL writes the same lines as encoding its text output, for every type and odd value', async () => {
  const database = await createScratchDatabase();
  try {
    const doubles = manyDoubles(20000);
    await withPg(database.url, async (client) => {
      await client.query(migrationSql('postgresql'));
      await client.query(
        `INSERT INTO "Everything" (id, text, int, big, float, dec, flag, at, doc, blob, mood, tags, bigs, times, precise, day, wide, uid) VALUES
          (1, $1, -2147483648, 9223372036854775807, 0.1, 12.5, true, '2026-01-02 03:04:05.678', $2, '\\x0001feff', 'loud!',
           ARRAY['a', NULL, $1], ARRAY[9223372036854775807, -1]::bigint[], ARRAY['2026-01-02 03:04:05.678', NULL]::timestamp[],
           '2026-01-02 05:04:05.123456+02', '2026-01-02', 12345678901234567890.123456789012345678, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
          (2, '', 0, -9223372036854775808, 'NaN', 'NaN', false, '0999-12-31 23:59:59.999', 'null', '\\x', 'CALM',
           ARRAY[]::text[], ARRAY[]::bigint[], ARRAY[]::timestamp[], '2026-01-02 03:04:05+00', '0999-01-01', -0.000000000000000001, NULL),
          (3, NULL, NULL, NULL, '-Infinity', NULL, NULL, '9999-12-31 23:59:59.999', '{"a": [1, 2.50]}', NULL, NULL,
           NULL, NULL, NULL, '2024-02-29 23:59:59.999999+00', NULL, NULL, NULL),
          (4, NULL, NULL, NULL, '-0', NULL, NULL, '1000-01-01 00:00:00', NULL, NULL, NULL, ARRAY['plain', NULL, 'ü é', 'a b', 'x,y', '{}', 'a['], NULL, NULL, NULL, NULL, NULL, NULL),
          (5, NULL, NULL, NULL, 'Infinity', NULL, NULL, '2024-06-30 12:00:00.5', NULL, NULL, NULL, ARRAY['[x]', 'say "hi"', ']', 'back\\slash'], NULL, NULL, NULL, NULL, NULL, NULL),
          (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ARRAY[ARRAY['a', 'b'], ARRAY['c', NULL]], NULL, NULL, NULL, NULL, NULL, NULL)`,
        [TEXT, JSON.stringify({ text: TEXT })],
      );
      await client.query(
        `INSERT INTO "Everything" (id, float, dec) SELECT 100 + n, d::float8, CASE WHEN abs(d::float8) < 1e34 THEN d::numeric END FROM unnest($1::text[]) WITH ORDINALITY AS t(d, n)`,
        [doubles.map((value) => String(value))],
      );
    });
    // A database whose default DateStyle is not ISO: the snapshot sets its own.
    await withPg(database.url, (client) => client.query(`ALTER DATABASE "${database.name}" SET DateStyle = 'SQL, DMY'`));
    const table = await everythingTable('postgresql', database.url);
    const expected = await textProtocolLines(database.url, table);
    const actual = await snapshotText(database.url, table);
    const actualLines = actual.split('\n');
    expected.split('\n').forEach((line, i) => assert.equal(actualLines[i], line, `line ${i + 1}`));
    assert.equal(actual, expected);
  } finally {
    await database.drop();
  }
});

/** The general path: each value as text, in the session the snapshot uses, encoded in JavaScript. */
async function textProtocolLines(url: string, table: TableSpec): Promise<string> {
  return withPg(url, async (client) => {
    await client.query(`SET TIME ZONE 'UTC'`);
    await client.query(`SET DateStyle = 'ISO, YMD'`);
    await client.query('SET extra_float_digits = 3');
    const select = table.columns.map((column) => `(${postgresTextExpression(column)})::text`).join(', ');
    const result = await client.query({ text: `SELECT ${select} FROM "Everything" ORDER BY "Everything".id`, rowMode: 'array' });
    return ndjsonLines((result.rows as unknown[][]).map((row) => table.columns.map((column, i) => encodePostgresValue(column, row[i]))));
  });
}

test("PostgreSQL in SQL_ASCII: a value whose bytes are not UTF-8 fails the backup with the server's error, never reaches an archive", async () => {
  // SQL_ASCII stores whatever bytes it is given. The snapshot reads UTF-8 (pg asks for it),
  // and the server refuses to send such a value as UTF-8: the lines copy-text-to-ndjson.ts
  // writes byte for byte are always UTF-8.
  const database = await createScratchDatabase('bcp_ascii', `ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`);
  try {
    await withPg(database.url, async (client) => {
      await client.query(migrationSql('postgresql'));
      // Bytes C3 A9 are é in UTF-8; a lone E9 is Latin-1's é, not UTF-8.
      await client.query(`INSERT INTO "Everything" (id, text, tags) VALUES (1, E'caf\\303\\251 "quoted"', ARRAY[E'x\\303\\251'])`);
    });
    const table = await everythingTable('postgresql', database.url);
    assert.equal(await snapshotText(database.url, table), await textProtocolLines(database.url, table));
    await withPg(database.url, (client) => client.query(`INSERT INTO "Everything" (id, text) VALUES (2, E'caf\\351')`));
    await assert.rejects(snapshotText(database.url, table), /invalid byte sequence for encoding "UTF8"/);
  } finally {
    await database.drop();
  }
});
