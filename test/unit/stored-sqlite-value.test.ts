// A SQLite value is archived plain where a restore writes it back the same, and with its
// stored form otherwise; decodeForSqlite binds either so that SQLite stores what it held.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeStoredSqliteValue } from '../../src/engine/sqlite/sqlite-row-json.ts';
import { decodeForSqlite } from '../../src/ndjson/value-decoder.ts';
import type { ColumnSpec, ScalarType } from '../../src/target/target-schema.ts';

const column = (type: ScalarType): ColumnSpec => ({ name: 'c', type, list: false, nullable: true, nativeType: null });

test('values in the form a restore writes stay plain and bind in that storage class', () => {
  const cases: [ScalarType, string, string, unknown, unknown][] = [
    ['String', 'text', 'héllo', 'héllo', 'héllo'],
    ['Int', 'integer', '-42', -42, -42n],
    ['BigInt', 'integer', '9223372036854775807', '9223372036854775807', 9223372036854775807n],
    ['Float', 'real', '0.1', 0.1, 0.1],
    ['Decimal', 'integer', '12', '12', 12n],
    ['Decimal', 'real', '12.5', '12.5', 12.5],
    ['Boolean', 'integer', '1', true, 1n],
    ['DateTime', 'text', '2024-05-06T07:08:09.010+00:00', '2024-05-06T07:08:09.010Z', '2024-05-06T07:08:09.010+00:00'],
    ['Bytes', 'blob', '00FF', 'AP8=', Buffer.from([0, 255])],
  ];
  for (const [type, storageClass, text, encoded, bound] of cases) {
    const value = encodeStoredSqliteValue(column(type), storageClass, text);
    assert.deepEqual(value, encoded, `${type} ${storageClass} ${text}`);
    assert.deepEqual(decodeForSqlite(column(type), value), bound, `${type} binds back`);
  }
});

test('values in any other form keep it: Prisma 6 DateTimes, CURRENT_TIMESTAMP text, odd classes', () => {
  const cases: [ScalarType, string, string, unknown, unknown][] = [
    ['DateTime', 'integer', '1700000000123', { v: '2023-11-14T22:13:20.123Z', i: '1700000000123' }, 1700000000123n],
    ['DateTime', 'text', '2024-05-06 07:08:09', { v: '2024-05-06T07:08:09.000Z', t: '2024-05-06 07:08:09' }, '2024-05-06 07:08:09'],
    [
      'DateTime',
      'text',
      '2024-05-06T07:08:09.010Z',
      { v: '2024-05-06T07:08:09.010Z', t: '2024-05-06T07:08:09.010Z' },
      '2024-05-06T07:08:09.010Z',
    ],
    ['DateTime', 'real', '1700000000000.5', { v: '2023-11-14T22:13:20.000Z', r: '1700000000000.5' }, 1700000000000.5],
    ['DateTime', 'text', 'soon', { v: null, t: 'soon' }, 'soon'],
    ['Boolean', 'integer', '2', { v: true, i: '2' }, 2n],
    ['Int', 'integer', '9007199254740993', { v: 9007199254740992, i: '9007199254740993' }, 9007199254740993n],
    ['Decimal', 'text', 'abc', { v: 'abc', t: 'abc' }, 'abc'],
    ['String', 'blob', '6869', { v: 'hi', b: 'aGk=' }, Buffer.from('hi')],
    ['Float', 'integer', '5', { v: 5, i: '5' }, 5n],
  ];
  for (const [type, storageClass, text, encoded, bound] of cases) {
    const value = encodeStoredSqliteValue(column(type), storageClass, text);
    assert.deepEqual(value, encoded, `${type} ${storageClass} ${text}`);
    assert.deepEqual(decodeForSqlite(column(type), value), bound, `${type} binds back`);
  }
});
