// The provider-neutral row encoding (docs/FORMAT.md): every database value becomes one
// exact JSON value, whichever database it came from.
import type { ColumnSpec, ScalarType } from '../target/target-schema.ts';

export type EncodedValue = null | string | number | boolean | EncodedValue[] | StoredValue;

/**
 * A SQLite value kept exactly as the database stored it, where that is not the form a
 * restore writes for its type (docs/FORMAT.md, "Exact values"): `v` is the value as Prisma
 * reads it, and one of `i` (integer digits), `r` (real), `t` (text) or `b` (blob, base64)
 * the stored value itself.
 */
export interface StoredValue {
  v: EncodedValue;
  i?: string;
  r?: string;
  t?: string;
  b?: string;
}

/** Whether an encoded value carries its stored form. */
export function isStoredValue(value: EncodedValue): value is StoredValue {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export class ValueEncodingError extends Error {}

/** Encodes one value as Prisma's better-sqlite3 adapter returns it. */
export function encodeSqliteValue(column: ColumnSpec, raw: unknown): EncodedValue {
  if (raw === null || raw === undefined) return null;
  if (column.list) {
    // SQLite has no scalar lists; Prisma never creates one there.
    throw new ValueEncodingError(`column ${column.name}: scalar lists are not supported on SQLite`);
  }
  return encodeScalar(column.type, raw, 'sqlite');
}

/** Encodes one value as selected from PostgreSQL by `postgresTextExpression`, as text. */
export function encodePostgresValue(column: ColumnSpec, raw: unknown): EncodedValue {
  if (raw === null || raw === undefined) return null;
  if (column.list) {
    const elements = JSON.parse(raw as string) as (string | null)[];
    return elements.map((element) => (element === null ? null : encodeScalar(column.type, element, 'postgresql')));
  }
  return encodeScalar(column.type, raw, 'postgresql');
}

function encodeScalar(type: ScalarType, raw: unknown, source: 'sqlite' | 'postgresql'): EncodedValue {
  switch (type) {
    case 'String':
    case 'Enum':
      return String(raw);
    case 'Int':
      return typeof raw === 'number' ? raw : Number(raw);
    case 'BigInt':
      return typeof raw === 'number' ? integerText(raw) : String(raw);
    case 'Float':
      return encodeFloat(typeof raw === 'number' ? raw : Number(raw));
    case 'Decimal':
      return typeof raw === 'number' ? numberToPlainDecimal(raw) : String(raw);
    case 'Boolean':
      return encodeBoolean(raw);
    case 'DateTime':
      return canonicalDateTime(typeof raw === 'number' ? new Date(raw).toISOString() : String(raw));
    case 'Json':
      return typeof raw === 'string' ? raw : JSON.stringify(raw);
    case 'Bytes':
      if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64');
      if (source === 'postgresql') return Buffer.from(String(raw).replace(/^\\x/, ''), 'hex').toString('base64');
      return Buffer.from(String(raw), 'utf8').toString('base64');
  }
}

function encodeBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 't' || raw === 'true') return true;
  if (raw === 'f' || raw === 'false') return false;
  return Number(raw) !== 0;
}

/** JSON has no NaN, infinities or negative zero (JSON.stringify writes 0), so those travel as strings. */
function encodeFloat(value: number): number | string {
  if (Number.isFinite(value)) return Object.is(value, -0) ? '-0' : value;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
}

function integerText(value: number): string {
  return BigInt(Math.trunc(value)).toString();
}

/** Writes a double as a plain decimal (no exponent) that parses back to the same double. */
export function numberToPlainDecimal(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, intPart, fracPart = '', expText] = match;
  const digits = intPart! + fracPart;
  const point = intPart!.length + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const TIME_ONLY = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/;

/**
 * A UTC date and time with up to six fraction digits, `T` or space between them, and
 * `Z`, `+00`, `+00:00` or no zone: how Prisma's SQLite adapter writes DateTimes and how
 * PostgreSQL prints timestamps in UTC. Nearly every value has this form; it is checked
 * field by field rather than re-parsed.
 */
const UTC_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.(\d{1,6}))?(?:Z|\+00(?::?00)?)?$/;

/**
 * Canonical DateTime: UTC, `YYYY-MM-DDTHH:mm:ss.sssZ`, with six fraction digits when the
 * database keeps microseconds that are not zero. Accepts the forms SQLite apps store
 * (ISO with offset, space-separated, date only) and PostgreSQL's text output.
 */
export function canonicalDateTime(text: string): string {
  const utc = UTC_DATE_TIME.exec(text);
  if (utc && isRealInstant(text)) {
    const micros = ((utc[1] ?? '') + '000000').slice(0, 6);
    const subMillis = micros.slice(3);
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${micros.slice(0, 3)}${subMillis === '000' ? '' : subMillis}Z`;
  }
  const time = TIME_ONLY.exec(text);
  if (time) return canonicalDateTime(`1970-01-01T${text}Z`);
  const match = DATE_TIME.exec(text.trim());
  if (!match) throw new ValueEncodingError(`not a date-time: ${JSON.stringify(text)}`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const micros = (fraction + '000000').slice(0, 6);
  const offsetMinutes = parseOffset(zone);
  const wholeMs = utcMilliseconds(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) - offsetMinutes * 60_000;
  const base = new Date(wholeMs + Number(micros.slice(0, 3))).toISOString();
  if (Number.isNaN(wholeMs)) throw new ValueEncodingError(`not a date-time: ${JSON.stringify(text)}`);
  const subMillis = micros.slice(3);
  return subMillis === '000' ? base : `${base.slice(0, -1)}${subMillis}Z`;
}

/** `Date.UTC`, except that years 0 to 99 stay themselves rather than becoming 1900 to 1999. */
function utcMilliseconds(year: number, month: number, day: number, hours: number, minutes: number, seconds: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hours, minutes, seconds, 0);
  return date.getTime();
}

/**
 * Whether the date and time fields of a `UTC_DATE_TIME` text name a real instant (no
 * February 30th, no hour 24), checked digit by digit: this runs for millions of values.
 */
function isRealInstant(text: string): boolean {
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month) && twoDigits(text, 11) < 24 && twoDigits(text, 14) < 60 && twoDigits(text, 17) < 60;
}

/** Days in a month (1-12) of a proleptic Gregorian year. */
export function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + (text.charCodeAt(at + 1) - 48);
}

function parseOffset(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
}
