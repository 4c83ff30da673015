// Binary COPY stores exactly what text COPY (ndjson-to-copy-text.ts, the reference) stores, for
// every type it writes; a value it is unsure of sends the batch to text; a table that switches
// format midway still loads right. Twin tables of a real PostgreSQL are compared.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  COPY_BINARY_HEADER,
  COPY_BINARY_TRAILER,
  ndjsonToCopyBinary,
  type BinaryField,
} from '../../src/engine/postgres/ndjson-to-copy-binary.ts';
import { ndjsonToCopyLines } from '../../src/engine/postgres/ndjson-to-copy-text.ts';
import { binaryLayouts } from '../../src/engine/postgres/postgres-column-types.ts';
import { PostgresSession } from '../../src/engine/postgres/postgres-session.ts';
import { openTableLoader } from '../../src/engine/providers.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import type { ColumnSpec, ScalarType, TableSpec } from '../../src/target/target-schema.ts';
import { createScratchDatabase, withPg, type ScratchDatabase } from '../helpers/postgres.ts';

/** Column name, its SQL type, and the Prisma type the archive encodes it with. */
const COLUMNS: [string, string, ScalarType, boolean?][] = [
  ['id', 'int4', 'Int'],
  ['small', 'int2', 'Int'],
  ['big', 'int8', 'BigInt'],
  ['f', 'float8', 'Float'],
  ['dec', 'numeric(65,30)', 'Decimal'],
  ['cents', 'numeric(10,2)', 'Decimal'],
  ['free', 'numeric', 'Decimal'],
  ['flag', 'bool', 'Boolean'],
  ['t', 'text', 'String'],
  ['v', 'varchar(10)', 'String'],
  ['ch', 'char(5)', 'String'],
  ['j', 'jsonb', 'Json'],
  ['js', 'json', 'Json'],
  ['blob', 'bytea', 'Bytes'],
  ['ts3', 'timestamp(3)', 'DateTime'],
  ['ts6', 'timestamp(6)', 'DateTime'],
  ['tstz', 'timestamptz(3)', 'DateTime'],
  ['day', 'date', 'DateTime'],
  ['u', 'uuid', 'String'],
  ['mood', '"Mood"', 'Enum'],
  ['tags', 'text[]', 'String', true],
  ['bigs', 'int8[]', 'BigInt', true],
  ['times', 'timestamp(3)[]', 'DateTime', true],
  ['moods', '"Mood"[]', 'Enum', true],
  ['decs', 'numeric[]', 'Decimal', true],
];

const SPEC_COLUMNS: ColumnSpec[] = COLUMNS.map(([name, , type, list = false]) => ({ name, type, list, nullable: true, nativeType: null }));
const spec = (name: string): TableSpec => ({ name, model: name, media: false, columns: SPEC_COLUMNS, key: ['id'], references: [] });

const NULLS = COLUMNS.slice(1).map(() => null);
const BYTES = Buffer.from([0, 1, 2, 253, 254, 255]).toString('base64');

/** Rows as the archive holds them; every one must take the binary path. */
const ROWS: unknown[][] = [
  [
    1,
    7,
    '9223372036854775807',
    0.1,
    '12.500',
    '1.005',
    '123.4500',
    true,
    'héllo 🎬 "q"\n\\ \t\r',
    'abc',
    'ab',
    '{"a":[1,2.5,null]}',
    '{"a": 1}',
    BYTES,
    '2026-01-02T03:04:05.678Z',
    '2026-01-02T03:04:05.123456Z',
    '2026-01-02T03:04:05.678Z',
    '2026-01-02T00:00:00.000Z',
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    'loud!',
    ['a', null, 'ü,"x"', '{}', ''],
    ['9223372036854775807', '-1'],
    ['2026-01-02T03:04:05.678Z', null],
    ['CALM'],
    ['1.5', 'NaN', null],
  ],
  [2, ...NULLS],
  [
    -2147483648,
    -32768,
    '-9223372036854775808',
    -1.7976931348623157e308,
    '-0.000000000000000000000000000001',
    '-0.004',
    '-0',
    false,
    '',
    '',
    '',
    'null',
    '[]',
    '',
    '0001-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999999Z',
    '1970-01-01T00:00:00.000Z',
    '0001-01-01T00:00:00.000Z',
    '00000000-0000-0000-0000-000000000000',
    'CALM',
    [],
    [],
    [],
    [],
    [],
  ],
  [
    2147483647,
    32767,
    '0',
    5e-324,
    'NaN',
    '99999999.994',
    '0000123.000',
    true,
    '\b\f\u00e9\ud83c\udfac',
    '1234567890',
    'abcde',
    '"string"',
    '1',
    'AAEC/f7/',
    '1999-12-31T23:59:59.999500Z',
    '1999-12-31T23:59:59.999999Z',
    '2300-01-01T00:00:00.000001Z',
    '2000-01-01T00:00:00.000Z',
    'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    'loud!',
    ['\\'],
    ['0'],
    ['1800-01-01T00:00:00.000Z'],
    ['loud!', null],
    ['-0.5'],
  ],
  [
    5,
    0,
    '-15',
    'Infinity',
    '12345678901234567890.123456789012345678',
    '-99999999.99',
    '0.0001',
    false,
    'x'.repeat(1000),
    null,
    null,
    '{"big":12345678901234567890}',
    null,
    '',
    '2026-01-02T03:04:05.123500Z',
    '1600-02-29T12:00:00.000000Z',
    '2026-06-30T23:59:59.999Z',
    '2024-02-29T00:00:00.000Z',
    null,
    null,
    [null],
    ['-9223372036854775808'],
    [],
    [null],
    ['100000000'],
  ],
  [
    6,
    -1,
    '123456789012345',
    '-Infinity',
    '10000',
    '0.01',
    '-10000.0000',
    true,
    'tab\there',
    'v',
    'c',
    '{}',
    '[]',
    null,
    '1969-12-31T23:59:59.999Z',
    '2262-04-11T23:47:16.854775Z',
    '1900-01-01T00:00:00.000Z',
    '1999-12-31T00:00:00.000Z',
    null,
    'CALM',
    ['\u0001'],
    null,
    null,
    null,
    null,
  ],
];

/** Lines whose digits JSON.stringify would not write, still valid JSON: a float, and a text column. */
const rawLine = (id: number, float: string, text = 'null') =>
  `[${id},1,"1",${float},"1",null,null,null,${text},${Array(16).fill('null').join(',')}]`;
const RAW_LINES = [
  rawLine(7, '0.10'),
  rawLine(8, '1e300'),
  rawLine(9, '123456789012345678901.5'),
  rawLine(10, '-2.5E-3'),
  rawLine(11, '-0'),
  rawLine(12, '2.2250738585072011e-308', '"\\/x \\u00e9"'),
];

const linesOf = (rows: unknown[][]) =>
  Buffer.from(rows.map((row) => JSON.stringify(row) + '\n').join('') + RAW_LINES.map((line) => line + '\n').join(''));

describe('binary COPY into PostgreSQL', () => {
  let database: ScratchDatabase;
  let session: PostgresSession;
  before(async () => {
    database = await createScratchDatabase();
    const columns = COLUMNS.map(([name, type]) => `"${name}" ${type}`).join(', ');
    await withPg(database.url, async (client) => {
      await client.query(`CREATE TYPE "Mood" AS ENUM ('CALM', 'loud!')`);
      for (const name of ['as_text', 'as_binary', 'loaded']) await client.query(`CREATE TABLE "${name}" (${columns}, PRIMARY KEY (id))`);
    });
    session = await PostgresSession.open(parseDatabaseUrl(database.url) as Parameters<typeof PostgresSession.open>[0]);
  });
  after(async () => {
    await session?.close();
    await database?.drop();
  });

  const printed = (table: string, where = 'true') =>
    withPg(database.url, async (client) =>
      (await client.query(`SELECT whole_row::text AS row FROM "${table}" whole_row WHERE ${where} ORDER BY id`)).rows.map(
        (r) => r.row as string,
      ),
    );

  test('stores exactly what the text COPY stores, for every type it writes', async () => {
    const layouts = await binaryLayouts(session, 'public', [spec('as_binary')]);
    const layout = layouts.get('as_binary');
    assert.deepEqual(
      layout?.map((field) => field.kind),
      [
        'int4',
        'int2',
        'int8',
        'float8',
        'numeric',
        'numeric',
        'numeric',
        'bool',
        'text',
        'text',
        'text',
        'jsonb',
        'text',
        'bytea',
        'timestamp',
        'timestamp',
        'timestamp',
        'date',
        'uuid',
        'text',
        'text',
        'int8',
        'timestamp',
        'text',
        'numeric',
      ],
    );
    const lines = linesOf(ROWS);
    const tuples = ndjsonToCopyBinary(layout!, lines);
    assert.ok(tuples, 'every line takes the binary path');
    assert.equal(tuples.rows, ROWS.length + RAW_LINES.length);

    const text = session.beginCopy(`COPY "as_text" FROM STDIN`);
    await text.write(ndjsonToCopyLines(SPEC_COLUMNS, lines).bytes);
    await text.end();
    const binary = session.beginCopy(`COPY "as_binary" FROM STDIN WITH (FORMAT binary)`);
    await binary.write(Buffer.concat([COPY_BINARY_HEADER, tuples.bytes, COPY_BINARY_TRAILER]));
    await binary.end();

    const expected = await printed('as_text');
    assert.equal(expected.length, ROWS.length + RAW_LINES.length);
    assert.deepEqual(await printed('as_binary'), expected);
    // A few values that could go wrong unnoticed in a comparison of two wrong tables.
    const [first] = await withPg(
      database.url,
      async (client) =>
        (await client.query(`SELECT big::text, ts3::text, day::text, u::text, cents::text FROM as_binary WHERE id = 1`)).rows,
    );
    assert.deepEqual(first, {
      big: '9223372036854775807',
      ts3: '2026-01-02 03:04:05.678',
      day: '2026-01-02',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      cents: '1.01',
    });
  });

  test('a restore that switches a table to text midway loads every row, frozen', async () => {
    const location = parseDatabaseUrl(database.url);
    const table = spec('loaded');
    const loader = await openTableLoader(location, [table]);
    await loader.clear([table]);
    const layout = (await binaryLayouts(session, 'public', [table])).get('loaded')!;
    const first = linesOf(ROWS);
    // A decimal with an exponent: numeric reads it, the binary encoder leaves it to text.
    const second = Buffer.from(JSON.stringify([100, ...NULLS.slice(0, 5), '1e5', ...NULLS.slice(6)]) + '\n');
    const third = Buffer.from(JSON.stringify([101, ...NULLS]) + '\n');
    assert.ok(ndjsonToCopyBinary(layout, first) && !ndjsonToCopyBinary(layout, second) && ndjsonToCopyBinary(layout, third));
    assert.equal(await loader.insertLines!(table, first), ROWS.length + RAW_LINES.length);
    assert.equal(await loader.insertLines!(table, second), 1);
    assert.equal(await loader.insertLines!(table, third), 1);
    await loader.commit([table]);

    assert.deepEqual(await printed('loaded', 'id NOT IN (100, 101)'), await printed('as_text'));
    const switched = await printed('loaded', 'id IN (100, 101)');
    assert.match(switched[0]!, /^\(100,,,,,,100000,/);
    assert.match(switched[1]!, /^\(101,/);
    await withPg(database.url, async (client) => {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_visibility');
      const { rows } = await client.query(`SELECT bool_and(all_frozen) AS frozen FROM pg_visibility_map('loaded')`);
      assert.equal(rows[0].frozen, true, 'both formats loaded the table frozen');
    });
  });

  test('a table with a column type the encoder does not write is loaded as text', async () => {
    await withPg(database.url, (client) => client.query(`CREATE TABLE "addresses" (id int4 PRIMARY KEY, ip inet, note text)`));
    const columns: ColumnSpec[] = [
      { name: 'id', type: 'Int', list: false, nullable: false, nativeType: null },
      { name: 'ip', type: 'String', list: false, nullable: true, nativeType: 'Inet' },
      { name: 'note', type: 'String', list: false, nullable: true, nativeType: null },
    ];
    const table: TableSpec = { name: 'addresses', model: 'addresses', media: false, columns, key: ['id'], references: [] };
    assert.equal((await binaryLayouts(session, 'public', [table])).has('addresses'), false);
    const loader = await openTableLoader(parseDatabaseUrl(database.url), [table]);
    await loader.clear([table]);
    await loader.insertLines!(table, Buffer.from('[1,"192.168.0.1/24","home"]\n[2,null,null]\n'));
    await loader.commit([table]);
    assert.deepEqual(await printed('addresses'), ['(1,192.168.0.1/24,home)', '(2,,)']);
  });
});

describe('values the binary encoder leaves to the text path', () => {
  const field = (kind: BinaryField['kind'], elementOid: number | null = null): BinaryField => ({ kind, elementOid });
  const refuses = (f: BinaryField, json: string) => ndjsonToCopyBinary([f], Buffer.from(`[${json}]\n`)) === null;
  const cases: [BinaryField, string[]][] = [
    [field('int4'), ['2147483648', '-2147483649', '1.0', '1e3', '"1"', '01', 'true', '-']],
    [field('int2'), ['32768', '-32769']],
    [field('int8'), ['"9223372036854775808"', '"-9223372036854775809"', '"1.5"', '" 1"', '1234567890123456', '"+1"']],
    [field('float8'), ['1e400', '-1e400', '1e-400', '"nan"', '"1.5"', '.5', '1.', '01', 'true']],
    [field('numeric'), ['"1e5"', '"Infinity"', '".5"', '"1."', '"+1"', '" 1"', '1.5', `"${'9'.repeat(1000)}"`]],
    [field('bool'), ['1', '"true"', 'nul']],
    [field('text'), ['1', 'true', '"raw\ttab"', '"bad \\x escape"', '["a"]']],
    [
      field('timestamp'),
      [
        '"2026-01-02 03:04:05.678Z"',
        '"2026-01-02T03:04:05.678"',
        '"2026-01-02T03:04:05Z"',
        '"2026-01-02T03:04:05.6789Z"',
        '"0000-01-01T00:00:00.000Z"',
        '"2026-02-29T00:00:00.000Z"',
        '"2026-01-02T24:00:00.000Z"',
        '"2026-13-01T00:00:00.000Z"',
        '"2026-01-02t03:04:05.678z"',
        '0',
      ],
    ],
    [field('date'), ['"2026-01-02T00:00:00.001Z"', '"2026-01-02"']],
    [
      field('uuid'),
      ['"a0eebc999c0b4ef8bb6d6bb9bd380a11"', '"{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"', '"g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"'],
    ],
    [field('bytea'), ['"\\/8="', '1']],
    [field('int8', 20), ['[[1]]', '["1",]', '[1 ]', '"[]"']],
  ];
  for (const [f, values] of cases) {
    test(`${f.kind}${f.elementOid ? '[]' : ''}: ${values.length} forms`, () => {
      for (const value of values) assert.ok(refuses(f, value), `refuses ${value}`);
    });
  }

  test('lines that are not plain compact JSON, or not UTF-8', () => {
    const int = [field('int4'), field('text')];
    for (const line of ['[1, "a"]', ' [1,"a"]', '[1,"a"] ', '[1,"a",2]', '[1]', '{"a":1}'])
      assert.equal(ndjsonToCopyBinary(int, Buffer.from(line + '\n')), null, line);
    assert.equal(ndjsonToCopyBinary(int, Buffer.concat([Buffer.from('[1,"'), Buffer.from([0xff]), Buffer.from('"]\n')])), null);
    assert.ok(ndjsonToCopyBinary(int, Buffer.from('[1,"a"]\n')));
    assert.throws(() => ndjsonToCopyBinary(int, Buffer.from('[1,"a"]')), /whole lines/);
  });
});
