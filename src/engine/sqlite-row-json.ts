// SQLite writes each row's `ndjson-v1` line itself, with `json_array`, for the storage
// classes a Prisma app actually stores in each column (text in a String column, an
// integer in an Int column, ISO text with `+00:00` in a DateTime column); every other
// value becomes a marker that row-markers.ts finishes with the general encoder, fed the
// same value the Prisma adapter would have returned. The output is byte for byte what
// encoding the adapter's rows in JavaScript gives (test/row-json.test.ts).
import type { ColumnSpec } from '../target/target-schema.ts';
import type { MarkerDecoder } from './row-markers.ts';
import { quoteIdentifier as q } from './sql.ts';
import { encodeSqliteValue } from './value-codec.ts';

/** The largest integer a JavaScript number holds exactly, as the adapter decides. */
const SAFE_INTEGER = '9007199254740991';

/** A DateTime's shape as Prisma's adapter writes it, with milliseconds, before `+00:00` or `Z`. */
const ISO_MILLIS = '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9]';

/** The SQL expression of one table row's line (no newline), columns in the table's order. */
export function sqliteLineExpression(columns: ColumnSpec[]): string {
  return `json_array(${columns.map((column, i) => valueExpression(column, i)).join(', ')})`;
}

function valueExpression(column: ColumnSpec, index: number): string {
  const c = q(column.name);
  const marker = markerExpression(c, index);
  const orMarker = (fastCases: string) => `CASE typeof(${c}) ${fastCases} WHEN 'null' THEN NULL ELSE ${marker} END`;
  const safeInteger = `CASE WHEN ${c} BETWEEN -${SAFE_INTEGER} AND ${SAFE_INTEGER} THEN ${c} ELSE ${marker} END`;
  if (column.list) return `CASE WHEN ${c} IS NULL THEN NULL ELSE ${marker} END`;
  switch (column.type) {
    case 'String':
    case 'Enum':
    case 'Json':
      return orMarker(`WHEN 'text' THEN ${c}`);
    case 'Int':
      return orMarker(`WHEN 'integer' THEN ${safeInteger}`);
    case 'BigInt':
      // The general path reads BigInts as `CAST(… AS TEXT)`; so does this one.
      return `CASE typeof(${c}) WHEN 'blob' THEN ${marker} ELSE CAST(${c} AS TEXT) END`;
    case 'Boolean':
      return orMarker(`WHEN 'integer' THEN CASE WHEN ${c} THEN json('true') ELSE json('false') END`);
    case 'Float':
      return orMarker(
        `WHEN 'real' THEN CASE WHEN ${wholeReal(c)} THEN CAST(${c} AS INTEGER) WHEN ${plainReal(c)} THEN ${c} ELSE ${marker} END ` +
          `WHEN 'integer' THEN ${safeInteger}`,
      );
    case 'Decimal':
      return orMarker(
        `WHEN 'text' THEN ${c} WHEN 'integer' THEN CAST(${c} AS TEXT) ` +
          `WHEN 'real' THEN CASE WHEN ${wholeReal(c)} THEN CAST(CAST(${c} AS INTEGER) AS TEXT) ` +
          `WHEN ${plainReal(c)} THEN '' || json_quote(${c}) ELSE ${marker} END`,
      );
    case 'DateTime':
      return orMarker(`WHEN 'text' THEN CASE WHEN ${adapterDateTime(c)} THEN substr(${c}, 1, 23) || 'Z' ELSE ${marker} END`);
    case 'Bytes':
      return `CASE WHEN ${c} IS NULL THEN NULL ELSE ${marker} END`;
  }
}

/**
 * A text DateTime in the adapter's form naming a real instant, whose canonical form is
 * then its first 23 characters and `Z`. The fields are checked by comparison; only days
 * 29 to 31 need SQLite's calendar (which moves February 30th on, so the text would not
 * come back the same).
 */
function adapterDateTime(c: string): string {
  return (
    `(${c} GLOB '${ISO_MILLIS}+00:00' OR ${c} GLOB '${ISO_MILLIS}Z') ` +
    `AND substr(${c}, 6, 2) BETWEEN '01' AND '12' AND substr(${c}, 12, 2) < '24' ` +
    `AND (substr(${c}, 9, 2) BETWEEN '01' AND '28' OR strftime('%Y-%m-%dT%H:%M:%fZ', ${c}) = substr(${c}, 1, 23) || 'Z')`
  );
}

/** A whole double JavaScript prints without exponent or fraction (and -0 as 0). */
function wholeReal(c: string): string {
  return `${c} = CAST(${c} AS INTEGER) AND abs(${c}) < 1e15`;
}

/**
 * A double whose SQLite JSON text is plain (no exponent), has a fraction that is not `.0`
 * and at most 15 significant digits, and reads back as the same double. Such a text is
 * the only decimal of that length within half an ulp, so it is also JavaScript's
 * shortest form, digit for digit. Anything else (`7.0`, `1.0e-05`, 17 digits) is a
 * marker. The subquery formats the double once rather than once per test.
 */
function plainReal(c: string): string {
  return (
    `(SELECT q NOT GLOB '*[^0-9.-]*' AND q NOT GLOB '*.0' AND length(q) <= 16 AND CAST(q AS REAL) = ${c} ` +
    `FROM (SELECT json_quote(${c}) AS q))`
  );
}

/**
 * The value's storage class and its text, losing nothing: an integer's digits, a
 * double's shortest round-trip text, a blob's bytes in hex.
 */
function markerExpression(c: string, index: number): string {
  const text = `CASE typeof(${c}) WHEN 'blob' THEN hex(${c}) WHEN 'real' THEN '' || json_quote(${c}) ELSE CAST(${c} AS TEXT) END`;
  return `json_object('m', ${index}, 'c', typeof(${c}), 'v', ${text})`;
}

/**
 * A marker's value as the Prisma better-sqlite3 adapter would return it (integers past
 * 2^53 as text, a DateTime column's numbers as ISO text, fractions in an Int column
 * truncated), then the general encoding; so both paths agree on every odd value too.
 */
export const decodeSqliteMarker: MarkerDecoder = (column, text, storageClass) => {
  return encodeSqliteValue(column, adapterValue(column, text, storageClass));
};

function adapterValue(column: ColumnSpec, text: string, storageClass: string | undefined): unknown {
  switch (storageClass) {
    case 'blob': {
      const bytes = Buffer.from(text, 'hex');
      // A BigInt column is read as `CAST(… AS TEXT)`, which turns a blob's bytes into text.
      return column.type === 'BigInt' ? bytes.toString('utf8') : bytes;
    }
    case 'integer': {
      if (column.type === 'DateTime') return new Date(Number(text)).toISOString();
      const value = BigInt(text);
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    }
    case 'real': {
      const value = Number(text);
      if (column.type === 'DateTime') return new Date(value).toISOString();
      return column.type === 'Int' ? Math.trunc(value) : value;
    }
    default:
      return text;
  }
}
