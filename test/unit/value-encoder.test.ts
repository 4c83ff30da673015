// The row encoding keeps every value exact, whichever database it came from.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupFileName, parseBackupFileName } from '../../src/archive/archive-name.ts';
import { canonicalDateTime, encodePostgresValue, encodeSqliteValue, numberToPlainDecimal } from '../../src/ndjson/value-encoder.ts';
import type { ColumnSpec } from '../../src/target/target-schema.ts';

const column = (type: ColumnSpec['type'], list = false): ColumnSpec => ({ name: 'c', type, list, nullable: true, nativeType: null });

test('date-times become UTC with milliseconds, and microseconds only when the database has them', () => {
  assert.equal(canonicalDateTime('2026-04-26T03:00:00.000+00:00'), '2026-04-26T03:00:00.000Z');
  assert.equal(canonicalDateTime('2026-04-26 05:00:00+02'), '2026-04-26T03:00:00.000Z');
  assert.equal(canonicalDateTime('2026-04-26 03:00:00.123456'), '2026-04-26T03:00:00.123456Z');
  assert.equal(canonicalDateTime('2026-04-26 03:00:00.1234'), '2026-04-26T03:00:00.123400Z');
  assert.equal(canonicalDateTime('2026-04-26'), '2026-04-26T00:00:00.000Z');
  assert.equal(canonicalDateTime('13:45:01.5'), '1970-01-01T13:45:01.500Z');
  assert.throws(() => canonicalDateTime('yesterday'));
});

test('decimals from SQLite doubles are written out in full, never with an exponent', () => {
  assert.equal(numberToPlainDecimal(1e21), '1000000000000000000000');
  assert.equal(numberToPlainDecimal(1.5e-7), '0.00000015');
  assert.equal(numberToPlainDecimal(-2.5e-10), '-0.00000000025');
  assert.equal(numberToPlainDecimal(123.456), '123.456');
  assert.equal(Number(numberToPlainDecimal(0.1 + 0.2)), 0.1 + 0.2);
});

test('every scalar type keeps its value on SQLite', () => {
  assert.equal(encodeSqliteValue(column('BigInt'), '9223372036854775807'), '9223372036854775807');
  assert.equal(encodeSqliteValue(column('BigInt'), 42), '42');
  assert.equal(encodeSqliteValue(column('Int'), -7), -7);
  assert.equal(encodeSqliteValue(column('Float'), 0.1), 0.1);
  assert.equal(encodeSqliteValue(column('Float'), Number.POSITIVE_INFINITY), 'Infinity');
  assert.equal(encodeSqliteValue(column('Decimal'), 12.5), '12.5');
  assert.equal(encodeSqliteValue(column('Boolean'), 1), true);
  assert.equal(encodeSqliteValue(column('Boolean'), 0), false);
  assert.equal(encodeSqliteValue(column('Json'), '{"b":1,"a":[1,2]}'), '{"b":1,"a":[1,2]}');
  assert.equal(encodeSqliteValue(column('Bytes'), Buffer.from([0, 255, 1])), 'AP8B');
  assert.equal(encodeSqliteValue(column('DateTime'), 1_700_000_000_123), '2023-11-14T22:13:20.123Z');
  assert.equal(encodeSqliteValue(column('String'), null), null);
});

test('every scalar type and list keeps its value on PostgreSQL', () => {
  assert.equal(encodePostgresValue(column('BigInt'), '-9223372036854775808'), '-9223372036854775808');
  assert.equal(encodePostgresValue(column('Decimal'), '1234567890.123456789012345678'), '1234567890.123456789012345678');
  assert.equal(encodePostgresValue(column('Bytes'), '00ff01'), 'AP8B');
  assert.equal(encodePostgresValue(column('DateTime'), '2026-01-02 03:04:05.678901+00'), '2026-01-02T03:04:05.678901Z');
  assert.equal(encodePostgresValue(column('Float'), Number.NaN), 'NaN');
  assert.deepEqual(encodePostgresValue(column('String', true), '["a",null,"ü 🎬"]'), ['a', null, 'ü 🎬']);
  assert.deepEqual(encodePostgresValue(column('BigInt', true), '["9007199254740993"]'), ['9007199254740993']);
  assert.deepEqual(encodePostgresValue(column('Int', true), '["1","-2"]'), [1, -2]);
  assert.deepEqual(encodePostgresValue(column('Boolean', true), '["true","false"]'), [true, false]);
  assert.deepEqual(encodePostgresValue(column('Bytes', true), '["\\\\x00ff01"]'), ['AP8B']);
});

test('archive names follow the contract and parse back', () => {
  const name = backupFileName('app', new Date('2026-04-26T03:00:00.999Z'), 'pre-restore');
  assert.equal(name, 'app-backup-2026-04-26T03-00-00-pre-restore.tar.gz');
  assert.deepEqual(parseBackupFileName(name), {
    targetName: 'app',
    createdAt: new Date('2026-04-26T03:00:00Z'),
    kind: 'pre-restore',
    encrypted: false,
  });
  assert.equal(parseBackupFileName('my-copy.tar.gz'), null);
});
