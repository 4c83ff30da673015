// The inverse of value-encoder.ts: turns the provider-neutral encoding back into the values
// each database stores, the way Prisma itself would have written them.
import type { ColumnSpec, ScalarType } from '../target/target-schema.ts';
import type { EncodedValue } from './value-encoder.ts';

/** A SQLite parameter, as Prisma's better-sqlite3 adapter would bind it. */
export function decodeForSqlite(column: ColumnSpec, value: EncodedValue): unknown {
  if (value === null) return null;
  if (Array.isArray(value)) throw new Error(`column ${column.name}: SQLite has no scalar lists`);
  switch (column.type) {
    case 'BigInt':
      return BigInt(value as string);
    case 'Float':
      return typeof value === 'string' ? Number(value) : value;
    case 'Decimal':
      // Prisma stores SQLite decimals as doubles (REAL affinity).
      return Number(value);
    case 'Boolean':
      return value ? 1 : 0;
    case 'DateTime':
      // The adapter's default text form: ISO 8601 with an explicit +00:00 offset.
      return String(value).replace(/Z$/, '+00:00');
    case 'Bytes':
      return Buffer.from(value as string, 'base64');
    default:
      return value;
  }
}

/**
 * A PostgreSQL parameter; the INSERT casts it to the column's real type, so text forms
 * (BigInt, Decimal, DateTime, Json) arrive exactly.
 */
export function decodeForPostgres(column: ColumnSpec, value: EncodedValue): unknown {
  if (value === null) return null;
  if (column.list) return (value as EncodedValue[]).map((element) => decodeScalarForPostgres(column.type, element));
  return decodeScalarForPostgres(column.type, value);
}

function decodeScalarForPostgres(type: ScalarType, value: EncodedValue): unknown {
  if (value === null) return null;
  if (type === 'Bytes') return Buffer.from(value as string, 'base64');
  return value;
}
