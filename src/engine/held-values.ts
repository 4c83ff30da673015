// Rows as a database of a given kind holds them, summed into one digest per table: how verifyBackup
// compares a backup from one kind of database with its restore into the other, where lines cannot match.
import { createHash } from 'node:crypto';
import type { Provider } from '../prisma/database-url.ts';
import type { ColumnSpec } from '../target/target-schema.ts';
import { isStoredValue, type EncodedValue } from '../ndjson/value-encoder.ts';

const DIGEST_MODULUS = 2n ** 128n;

/** An order-free digest of a table's rows: the sum of each row's hash, so rows may come in any order. */
export class HeldRowsDigest {
  private sum = 0n;
  rows = 0;

  constructor(
    private readonly columns: ColumnSpec[],
    private readonly provider: Provider,
  ) {}

  add(rows: EncodedValue[][]): void {
    for (const row of rows) {
      const held = this.columns.map((column, i) => heldValue(column, row[i] ?? null, this.provider));
      const hash = createHash('sha256').update(JSON.stringify(held)).digest();
      this.sum = (this.sum + BigInt(`0x${hash.subarray(0, 16).toString('hex')}`)) % DIGEST_MODULUS;
      this.rows++;
    }
  }

  get value(): bigint {
    return this.sum;
  }
}

/**
 * A value as `provider` holds it, so that a backup's value and the same value read back
 * from the other kind of database compare equal: a SQLite stored form as its value (`v`),
 * date-times to the microsecond, decimals as SQLite's double or PostgreSQL's exact number
 * (trailing zeros of the scale aside), JSON as its parsed document.
 */
export function heldValue(column: ColumnSpec, value: EncodedValue, provider: Provider): unknown {
  if (value === null) return null;
  if (isStoredValue(value)) return heldValue(column, value.v, provider);
  if (Array.isArray(value)) return value.map((element) => heldValue({ ...column, list: false }, element, provider));
  switch (column.type) {
    case 'DateTime':
      return String(value).replace(/(?:\.(\d{1,6}))?Z$/, (_all, fraction: string | undefined) => `.${(fraction ?? '').padEnd(6, '0')}Z`);
    case 'Decimal':
      return provider === 'sqlite' ? Number(value) : exactDecimal(String(value));
    case 'Json':
      return sortedKeys(JSON.parse(String(value)));
    default:
      return value;
  }
}

/** A decimal's digits without the zeros a column's scale adds: `12.500` and `12.5` are one number. */
function exactDecimal(text: string): string {
  if (!/^[+-]?\d*\.?\d*$/.test(text)) return text;
  let [whole = '', fraction = ''] = text.replace(/^\+/, '').split('.');
  const negative = whole.startsWith('-');
  whole = whole.replace(/^-/, '').replace(/^0+(?=\d)/, '') || '0';
  fraction = fraction.replace(/0+$/, '');
  const digits = fraction ? `${whole}.${fraction}` : whole;
  return negative && digits !== '0' ? `-${digits}` : digits;
}

/** A JSON document with every object's keys sorted, as PostgreSQL's jsonb keeps no order. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map((key) => [key, sortedKeys(object[key])]),
  );
}
