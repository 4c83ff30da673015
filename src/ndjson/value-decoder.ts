// The inverse of value-encoder.ts: turns the provider-neutral encoding back into the values
// each database stores; a value that carries its stored form is written back as it was.
import type { ColumnSpec, ScalarType } from '../target/target-schema.ts';
import { isStoredValue, type EncodedValue, type StoredValue } from './value-encoder.ts';

/** The largest integer SQLite stores (2^63 - 1), as a double's bound. */
const INT64_LIMIT = 2 ** 63;

/** Whether a restore writes this decimal as an INTEGER (whole, within 64 bits) rather than a REAL. */
export function decimalStoredAsInteger(value: number): boolean {
  return Number.isInteger(value) && Math.abs(value) < INT64_LIMIT;
}

/**
 * A SQLite parameter in the storage class the archive implies for the type (docs/FORMAT.md,
 * "Exact values"): better-sqlite3 binds a bigint as an integer, a number as a real.
 */
export function decodeForSqlite(column: ColumnSpec, value: EncodedValue): unknown {
  if (value === null) return null;
  if (isStoredValue(value)) return storedSqliteValue(value);
  if (Array.isArray(value)) throw new Error(`column ${column.name}: SQLite has no scalar lists`);
  switch (column.type) {
    case 'Int':
      return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'BigInt':
      return BigInt(value as string);
    case 'Float':
      return typeof value === 'string' ? Number(value) : value;
    case 'Decimal': {
      // Prisma stores SQLite decimals in NUMERIC columns: whole ones as integers, others as reals.
      const number = Number(value);
      return /^-?\d+$/.test(String(value)) && decimalStoredAsInteger(number) ? BigInt(String(value)) : number;
    }
    case 'Boolean':
      return value ? 1n : 0n;
    case 'DateTime':
      // The adapter's default text form: ISO 8601 with an explicit +00:00 offset.
      return String(value).replace(/Z$/, '+00:00');
    case 'Bytes':
      return Buffer.from(value as string, 'base64');
    default:
      return value;
  }
}

function storedSqliteValue(value: StoredValue): unknown {
  if (value.i !== undefined) return BigInt(value.i);
  if (value.r !== undefined) return Number(value.r);
  if (value.b !== undefined) return Buffer.from(value.b, 'base64');
  if (value.t !== undefined) return value.t;
  throw new Error(`a stored value without its form: ${JSON.stringify(value)}`);
}

/**
 * A PostgreSQL parameter; the INSERT casts it to the column's real type, so text forms
 * (BigInt, Decimal, DateTime, Json) arrive exactly. A SQLite value's stored form means
 * nothing here: its value as Prisma reads it (`v`) is written.
 */
export function decodeForPostgres(column: ColumnSpec, value: EncodedValue): unknown {
  if (value === null) return null;
  if (isStoredValue(value)) return decodeForPostgres(column, value.v);
  if (column.list) return (value as EncodedValue[]).map((element) => decodeScalarForPostgres(column.type, element));
  return decodeScalarForPostgres(column.type, value);
}

function decodeScalarForPostgres(type: ScalarType, value: EncodedValue): unknown {
  if (value === null) return null;
  if (type === 'Bytes') return Buffer.from(value as string, 'base64');
  return value;
}
