// The SQL with which SQLite writes each row's `ndjson-v1` line itself (`json_array`); a value it
// cannot write exactly becomes a marker that row-markers.ts finishes. The output is byte for
// byte what encoding the adapter's rows in JavaScript gives (test/integration/row-json.test.ts).
import type { ColumnSpec } from '../../target/target-schema.ts';
import type { MarkerDecoder } from './row-markers.ts';
import { quoteIdentifier as q } from '../../prisma/sql.ts';
import { decimalStoredAsInteger } from '../../ndjson/value-decoder.ts';
import { encodeSqliteValue, ValueEncodingError, type EncodedValue } from '../../ndjson/value-encoder.ts';

/** The largest integer a JavaScript number holds exactly, as the adapter decides. */
const SAFE_INTEGER = '9007199254740991';

/**
 * A DateTime's shape as Prisma's adapter writes it, with milliseconds, before `+00:00` or
 * `Z`. `?` is any one character: date() checks that the fields are digits.
 */
const ISO_MILLIS_SHAPE = '????-??-??T??:??:??.???';

/**
 * The SQL expression of one table row's line (no newline), columns in the table's order.
 * `textOnly` names columns whose declared type gives them TEXT affinity: SQLite stores
 * only text, null or a blob in them, and json_array writes text and null exactly as the
 * general encoder does and fails on a blob, so those columns go in as they are (the
 * caller reads a page that fails again without this).
 */
export function sqliteLineExpression(columns: ColumnSpec[], textOnly: ReadonlySet<string> = new Set()): string {
  return `json_array(${columns.map((column, i) => valueExpression(column, i, textOnly.has(column.name))).join(', ')})`;
}

/** The message of json_array's error on a blob argument. */
export const BLOB_IN_JSON = /JSON cannot hold BLOB values/;

/** SQLite's rule for a declared column type's affinity, as far as TEXT: https://sqlite.org/datatype3.html#affinity_name_examples */
export function hasTextAffinity(declaredType: string): boolean {
  const type = declaredType.toUpperCase();
  return !type.includes('INT') && (type.includes('CHAR') || type.includes('CLOB') || type.includes('TEXT'));
}

/**
 * One value's JSON: as it is for the storage class a Prisma app stores in such a column (text
 * in a String column, an integer in an Int column, ISO text with `+00:00` in a DateTime column),
 * a marker for any other.
 */
function valueExpression(column: ColumnSpec, index: number, textOnly: boolean): string {
  const c = q(column.name);
  if (textOnly && !column.list && (column.type === 'String' || column.type === 'Enum' || column.type === 'Json')) return c;
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
      return orMarker(`WHEN 'integer' THEN CAST(${c} AS TEXT)`);
    case 'Boolean':
      return orMarker(`WHEN 'integer' THEN CASE ${c} WHEN 0 THEN json('false') WHEN 1 THEN json('true') ELSE ${marker} END`);
    case 'Float':
      return orMarker(
        `WHEN 'real' THEN CASE WHEN ${wholeReal(c)} THEN CAST(${c} AS INTEGER) WHEN ${plainReal(c)} THEN ${c} ELSE ${marker} END`,
      );
    case 'Decimal':
      // A whole real is a marker: a restore writes whole decimals as integers.
      return orMarker(
        `WHEN 'integer' THEN CAST(${c} AS TEXT) ` +
          `WHEN 'real' THEN CASE WHEN ${plainReal(c)} AND ${c} <> CAST(${c} AS INTEGER) THEN '' || json_quote(${c}) ELSE ${marker} END`,
      );
    case 'DateTime':
      return orMarker(`WHEN 'text' THEN CASE WHEN ${adapterDateTime(c)} THEN substr(${c}, 1, 23) || 'Z' ELSE ${marker} END`);
    case 'Bytes':
      return `CASE WHEN ${c} IS NULL THEN NULL ELSE ${marker} END`;
  }
}

/**
 * A text DateTime in the form a restore writes (`+00:00`) naming a real instant, whose canonical form is
 * then its first 23 characters and `Z`. SQLite's date() reads every field (digits, month
 * 1-12, day 1-31, minutes and seconds below 60, digits in the fraction) and moves an
 * impossible day on (February 30th to March 2nd), so a real date is one that comes back
 * as it was written; hour 24, which date() takes as the end of the same day, is the one
 * field left to compare. Cheaper than a character-class GLOB and three field comparisons
 * (docs/PERFORMANCE.md, "Measurements behind the code").
 */
function adapterDateTime(c: string): string {
  return `${c} GLOB '${ISO_MILLIS_SHAPE}+00:00' ` + `AND date(${c}) = substr(${c}, 1, 10) AND substr(${c}, 12, 2) < '24'`;
}

/** A whole double JavaScript prints without exponent or fraction (and -0 as 0). */
function wholeReal(c: string): string {
  return `${c} = CAST(${c} AS INTEGER) AND abs(${c}) < 1e15`;
}

/**
 * A double that JavaScript and SQLite both print plainly (no exponent: at least 1e-4 and
 * below 1e15) whose SQLite JSON text has at most 15 significant digits (16 characters
 * with the point) and reads back as the same double. Such a text is the only decimal of
 * that length within half an ulp, so it is also JavaScript's shortest form, digit for
 * digit. Anything else (17 digits, `1.0e-05`) is a marker. Whole numbers never get here:
 * wholeReal takes them first. The range is tested first because it is cheap and rules
 * out the exponent forms without looking at the text; the subquery formats the double
 * once for both tests.
 */
function plainReal(c: string): string {
  return (
    `abs(${c}) >= 1e-4 AND abs(${c}) < 1e15 AND ` +
    `(SELECT length(q) <= 16 AND CAST(q AS REAL) = ${c} FROM (SELECT json_quote(${c}) AS q))`
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
export const decodeSqliteMarker: MarkerDecoder = (column, text, storageClass) => encodeStoredSqliteValue(column, storageClass, text);

/**
 * A stored SQLite value's encoding: as Prisma reads it, plain where the value is held the
 * way a restore writes its type (value-decoder.ts), and with its stored form otherwise
 * (docs/FORMAT.md, "Exact values"), so a restore puts back the same storage class and text.
 * `text` is an integer's digits, a real's JSON text, a blob's hex or the text itself.
 */
export function encodeStoredSqliteValue(column: ColumnSpec, storageClass: string | undefined, text: string): EncodedValue {
  if (storageClass === 'null') return null;
  let value: EncodedValue;
  try {
    value = encodeSqliteValue(column, adapterValue(column, text, storageClass));
  } catch (error) {
    // A value Prisma could not read (a DateTime column holding 'soon') is still kept as stored.
    if (!(error instanceof ValueEncodingError)) throw error;
    value = null;
  }
  if (column.list || isRestoredForm(column, storageClass ?? 'text', text, value)) return value;
  switch (storageClass) {
    case 'integer':
      return { v: value, i: text };
    case 'real':
      return { v: value, r: realText(Number(text)) };
    case 'blob':
      return { v: value, b: Buffer.from(text, 'hex').toString('base64') };
    default:
      return { v: value, t: text };
  }
}

/** A double's shortest round-trip text, `-0` kept. */
function realText(value: number): string {
  return Object.is(value, -0) ? '-0' : String(value);
}

/** The stored form a restore writes for each type (value-decoder.ts's decodeForSqlite). */
function isRestoredForm(column: ColumnSpec, storageClass: string, text: string, value: EncodedValue): boolean {
  switch (column.type) {
    case 'String':
    case 'Enum':
    case 'Json':
      return storageClass === 'text';
    case 'Int':
      return storageClass === 'integer' && typeof value === 'number' && Number.isSafeInteger(value);
    case 'BigInt':
      return storageClass === 'integer';
    case 'Float':
      return storageClass === 'real';
    case 'Decimal': {
      if (storageClass === 'integer') return true;
      return storageClass === 'real' && !decimalStoredAsInteger(Number(text));
    }
    case 'Boolean':
      return storageClass === 'integer' && (text === '0' || text === '1');
    case 'DateTime':
      return storageClass === 'text' && RESTORED_DATE_TIME.test(text) && value === `${text.slice(0, 23)}Z`;
    case 'Bytes':
      return storageClass === 'blob';
  }
}

/** How a restore writes a DateTime: the adapter's ISO form with milliseconds and `+00:00`. */
const RESTORED_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$/;

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
