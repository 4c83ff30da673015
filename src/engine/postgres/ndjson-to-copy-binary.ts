// A restore's rows from archive line bytes to PostgreSQL's binary COPY, which the server reads without
// parsing text: binary halves its share of a load (docs/PERFORMANCE.md, "Measurements behind the code").
// One cohesive encoder, over 400 lines: all its field writers share one output buffer and cursor.
import { isUtf8 } from 'node:buffer';
import {
  BACKSLASH,
  CAPITAL_E,
  CAPITAL_T,
  CAPITAL_Z,
  CLOSE,
  COLON,
  COMMA,
  DOT,
  LETTER_E,
  MINUS,
  NEWLINE,
  NINE,
  OPEN,
  PLUS,
  QUOTE,
  ZERO,
  grownBuffer,
  isNullAt,
  literalEnd,
} from './copy-bytes.ts';
import { daysInMonth } from '../../ndjson/value-encoder.ts';

/** How a column's values are written, by the column's type in the database. */
export type BinaryKind =
  'bool' | 'int2' | 'int4' | 'int8' | 'float8' | 'numeric' | 'text' | 'jsonb' | 'bytea' | 'timestamp' | 'date' | 'uuid';

export interface BinaryField {
  kind: BinaryKind;
  /** For an array column, its element type's OID, which the array's header must name; null for a scalar. */
  elementOid: number | null;
}

/** The stream's header: signature, flags (none), header extension length (none). */
export const COPY_BINARY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** A field count of -1 ends the stream. */
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);

export interface CopyBinary {
  bytes: Buffer;
  rows: number;
}

/** Seconds in a day, and days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
const DAY_SECONDS = 86_400;
const POSTGRES_EPOCH_DAYS = 10_957;
const TWO_TO_32 = 2 ** 32;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const NUMERIC_POSITIVE = 0x0000;
const NUMERIC_NEGATIVE = 0x4000;
const NUMERIC_NAN = 0xc000;
/** numeric's largest display scale (NUMERIC_DSCALE_MAX); longer decimals take the text path. */
const NUMERIC_MAX_SCALE = 0x3fff;
const NUMERIC_MAX_CHARS = 1000;

// The output buffer and position, shared by the field writers below for the duration of one
// synchronous call, so that each writer returns only where it stopped reading.
let out: Buffer = Buffer.alloc(0);
let o = 0;

/**
 * `lines`: whole `ndjson-v1` lines of one table, each ending in a newline; `fields` in the
 * archive's column order. Returns the rows as binary COPY tuples (no header or trailer),
 * or null if any value needs the text path.
 * Binary fields must match the column's real type exactly, so `fields` comes from the
 * database's catalog (postgres-column-types.ts), never from the Prisma schema alone. A value
 * this encoder is not certain to hand over exactly as the text path would (an escape it does
 * not know, a number out of range, a date-time in another form) gives up the whole batch;
 * the loader then sends that batch and the rest of the table as text, which stays the
 * reference for what a value means (test/integration/ndjson-to-copy-binary.test.ts loads
 * the same lines both ways and compares what PostgreSQL stored).
 */
export function ndjsonToCopyBinary(fields: BinaryField[], lines: Buffer): CopyBinary | null {
  // Invalid UTF-8 is decoded the text path's way (U+FFFD), never copied as it is.
  if (!isUtf8(lines)) return null;
  out = Buffer.allocUnsafe(2 * lines.length + 1024);
  o = 0;
  let rows = 0;
  let start = 0;
  try {
    for (let end = lines.indexOf(NEWLINE); end !== -1; end = lines.indexOf(NEWLINE, start)) {
      // A field takes at most 16 bytes plus 8 per byte of its JSON (a one-digit integer in
      // a list: 2 bytes in, 8 out; an empty list: 3 in, 16 out).
      const room = 8 * (end - start) + 16 * fields.length + 64;
      if (o + room > out.length) out = grownBuffer(out, o, room);
      if (lines[start] !== OPEN) return null;
      writeInt16(fields.length);
      let i = start + 1;
      for (let column = 0; column < fields.length; column++) {
        const field = fields[column]!;
        i = field.elementOid === null ? scalarInto(field.kind, lines, i) : listInto(field.kind, field.elementOid, lines, i);
        if (i === -1 || lines[i++] !== (column === fields.length - 1 ? CLOSE : COMMA)) return null;
      }
      if (i !== end) return null;
      rows++;
      start = end + 1;
    }
    if (start !== lines.length) throw new Error('ndjsonToCopyBinary takes whole lines only');
    return { bytes: out.subarray(0, o), rows };
  } finally {
    // The next call allocates its own; this one's buffer belongs to the caller now.
    out = Buffer.alloc(0);
  }
}

/** Writes the value at `at` (length and bytes, or -1 for null) and returns where it ends, or -1. */
function scalarInto(kind: BinaryKind, lines: Buffer, at: number): number {
  if (isNullAt(lines, at)) {
    writeInt32(-1);
    return at + 4;
  }
  switch (kind) {
    case 'text':
      return stringInto(lines, at, false);
    case 'jsonb':
      return stringInto(lines, at, true);
    case 'int2':
      return integerInto(lines, at, 2, 5, 0x7fff);
    case 'int4':
      return integerInto(lines, at, 4, 10, 0x7fffffff);
    case 'int8':
      return lines[at] === QUOTE ? bigIntInto(lines, at) : integerInto(lines, at, 8, 15, Number.MAX_SAFE_INTEGER);
    case 'float8':
      return floatInto(lines, at);
    case 'bool': {
      const end = literalEnd(lines, at);
      if (end === -1) return -1;
      writeInt32(1);
      out[o++] = end - at === 4 ? 1 : 0;
      return end;
    }
    case 'timestamp':
      return dateTimeInto(lines, at, false);
    case 'date':
      return dateTimeInto(lines, at, true);
    case 'numeric':
      return numericInto(lines, at);
    case 'bytea':
      return byteaInto(lines, at);
    case 'uuid':
      return uuidInto(lines, at);
  }
}

/** A one-dimensional array with lower bound 1; `[]` is the empty array (no dimensions). */
function listInto(kind: BinaryKind, elementOid: number, lines: Buffer, at: number): number {
  if (isNullAt(lines, at)) {
    writeInt32(-1);
    return at + 4;
  }
  if (lines[at] !== OPEN) return -1;
  const lengthAt = o;
  const empty = lines[at + 1] === CLOSE;
  o += 4;
  writeInt32(empty ? 0 : 1); // dimensions
  const hasNullAt = o;
  writeInt32(0);
  writeInt32(elementOid); // an OID is unsigned; writeInt32 writes its 32 bits either way
  if (empty) {
    out.writeInt32BE(o - lengthAt - 4, lengthAt);
    return at + 2;
  }
  const countAt = o;
  o += 4;
  writeInt32(1); // lower bound
  let count = 0;
  let hasNull = false;
  let i = at + 1;
  for (;;) {
    if (isNullAt(lines, i)) hasNull = true;
    i = scalarInto(kind, lines, i);
    if (i === -1) return -1;
    count++;
    const separator = lines[i++];
    if (separator === CLOSE) break;
    if (separator !== COMMA) return -1;
  }
  out.writeInt32BE(count, countAt);
  if (hasNull) out.writeInt32BE(1, hasNullAt);
  out.writeInt32BE(o - lengthAt - 4, lengthAt);
  return i;
}

/**
 * A JSON string as the text (or jsonb, version 1) value it holds. Strings without an
 * escape are copied byte for byte; escaped ones are decoded by JSON.parse, as the text
 * path decodes them. A raw control character (invalid JSON) gives up.
 */
function stringInto(lines: Buffer, at: number, jsonb: boolean): number {
  if (lines[at] !== QUOTE) return -1;
  const lengthAt = o;
  o += 4;
  if (jsonb) out[o++] = 1;
  const dataAt = o;
  // Copied byte by byte as it is scanned (most values are short; Buffer.copy costs more).
  let i = at + 1;
  let escaped = false;
  for (let c = lines[i]!; c !== QUOTE; c = lines[++i]!) {
    // A raw control character, or the end of the batch after a trailing backslash.
    if (!(c >= 0x20)) return -1;
    if (c === BACKSLASH) {
      escaped = true;
      out[o++] = c;
      c = lines[++i]!;
    }
    out[o++] = c;
  }
  if (escaped) {
    let text: string;
    try {
      text = JSON.parse(lines.toString('utf8', at, i + 1)) as string;
    } catch {
      return -1;
    }
    o = dataAt + out.write(text, dataAt);
  }
  out.writeInt32BE(o - dataAt + (jsonb ? 1 : 0), lengthAt);
  return i + 1;
}

/** A JSON integer (`-?digits`, no fraction or exponent) of at most `maxDigits` digits, range-checked. */
function integerInto(lines: Buffer, at: number, bytes: 2 | 4 | 8, maxDigits: number, max: number): number {
  let i = at;
  const negative = lines[i] === MINUS;
  if (negative) i++;
  const digitsStart = i;
  let value = 0;
  for (let c = lines[i]!; c >= ZERO && c <= NINE; c = lines[++i]!) value = value * 10 + (c - ZERO);
  const digits = i - digitsStart;
  if (digits === 0 || digits > maxDigits || (digits > 1 && lines[digitsStart] === ZERO)) return -1;
  if (value > max + (negative ? 1 : 0)) return -1;
  if (negative) value = -value;
  writeInt32(bytes);
  if (bytes === 2) {
    out[o++] = value >> 8;
    out[o++] = value;
  } else if (bytes === 4) {
    writeInt32(value);
  } else {
    writeInt64(value);
  }
  return i;
}

/** A BigInt as the archive holds it: a string of `-?digits`, range-checked against int8. */
function bigIntInto(lines: Buffer, at: number): number {
  let i = at + 1;
  if (lines[i] === MINUS) i++;
  const digitsStart = i;
  for (let c = lines[i]!; c >= ZERO && c <= NINE; c = lines[++i]!);
  const digits = i - digitsStart;
  if (digits === 0 || digits > 19 || lines[i] !== QUOTE) return -1;
  const text = lines.toString('latin1', at + 1, i);
  writeInt32(8);
  if (digits <= 15) {
    writeInt64(Number(text) || 0);
  } else {
    const value = BigInt(text);
    if (value < INT64_MIN || value > INT64_MAX) return -1;
    o = out.writeBigInt64BE(value, o);
  }
  return i + 1;
}

/**
 * A JSON number, or the strings `NaN`, `Infinity`, `-Infinity` and `-0`, as a double. Both
 * JavaScript and PostgreSQL round decimal digits to the nearest double, so they agree.
 * What PostgreSQL would refuse (overflow, underflow to zero) gives up. The number -0 (not
 * written since `-0` became a string) is 0, as the text path writes it.
 */
function floatInto(lines: Buffer, at: number): number {
  let value: number;
  let end: number;
  if (lines[at] === QUOTE) {
    end = lines.indexOf(QUOTE, at + 1) + 1;
    const text = end === 0 ? '' : lines.toString('latin1', at + 1, end - 1);
    if (text === 'NaN') value = Number.NaN;
    else if (text === 'Infinity') value = Number.POSITIVE_INFINITY;
    else if (text === '-Infinity') value = Number.NEGATIVE_INFINITY;
    else if (text === '-0') value = -0;
    else return -1;
  } else {
    end = jsonNumberEnd(lines, at);
    if (end === -1) return -1;
    value = exactlyFromDigits(lines, at, end);
    if (Number.isNaN(value)) value = Number(lines.toString('latin1', at, end));
    if (!Number.isFinite(value)) return -1;
    if (value === 0 && hasNonZeroDigit(lines, at, end)) return -1;
    if (Object.is(value, -0)) value = 0;
  }
  writeInt32(8);
  writeFloat64(value);
  return end;
}

/**
 * A plain decimal (`-?digits(.digits)?`) of at most 15 significant digits and 22 fraction
 * digits, as a double, by one division: both operands are exact doubles and the division
 * rounds correctly, so this is the double the digits name (Clinger's fast path). NaN for
 * anything else, which Number() then reads.
 */
function exactlyFromDigits(lines: Buffer, at: number, end: number): number {
  let i = at;
  const negative = lines[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = -1;
  for (; i < end; i++) {
    const c = lines[i]!;
    if (c === DOT) {
      fractionDigits = 0;
      continue;
    }
    if (c < ZERO || c > NINE) return Number.NaN;
    mantissa = mantissa * 10 + (c - ZERO);
    if (mantissa !== 0) digits++;
    if (fractionDigits !== -1) fractionDigits++;
  }
  if (digits > 15 || fractionDigits > 22) return Number.NaN;
  const value = fractionDigits > 0 ? mantissa / POWERS_OF_TEN[fractionDigits]! : mantissa;
  return negative ? -value : value;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** The end of a number in JSON's grammar: `-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`, or -1. */
function jsonNumberEnd(lines: Buffer, at: number): number {
  let i = at;
  if (lines[i] === MINUS) i++;
  const digitsStart = i;
  i = digitsEnd(lines, i);
  if (i === digitsStart || (i - digitsStart > 1 && lines[digitsStart] === ZERO)) return -1;
  if (lines[i] === DOT) {
    const fractionStart = ++i;
    i = digitsEnd(lines, i);
    if (i === fractionStart) return -1;
  }
  if (lines[i] === LETTER_E || lines[i] === CAPITAL_E) {
    i++;
    if (lines[i] === PLUS || lines[i] === MINUS) i++;
    const exponentStart = i;
    i = digitsEnd(lines, i);
    if (i === exponentStart) return -1;
  }
  return i;
}

function digitsEnd(lines: Buffer, at: number): number {
  let i = at;
  for (let c = lines[i]!; c >= ZERO && c <= NINE; c = lines[++i]!);
  return i;
}

/** Whether the mantissa (before any exponent) of the number at `at` has a digit other than 0. */
function hasNonZeroDigit(lines: Buffer, at: number, end: number): boolean {
  for (let i = at; i < end; i++) {
    const c = lines[i]!;
    if (c === LETTER_E || c === CAPITAL_E) return false;
    if (c > ZERO && c <= NINE) return true;
  }
  return false;
}

/**
 * A canonical DateTime (`"YYYY-MM-DDTHH:mm:ss.sssZ"`, or six fraction digits) as
 * microseconds since 2000-01-01 (timestamp and timestamptz alike: the value is UTC, and a
 * timestamp without zone keeps its fields), or, for a date column, as days since then when
 * the time is midnight. PostgreSQL rounds to the column's precision either way.
 */
function dateTimeInto(lines: Buffer, at: number, dateOnly: boolean): number {
  if (lines[at] !== QUOTE) return -1;
  // The text between the quotes is 24 characters with milliseconds, 27 with microseconds.
  const fractionDigits = lines[at + 25] === QUOTE ? 3 : lines[at + 28] === QUOTE ? 6 : -1;
  if (fractionDigits === -1 || !isDateTimeShape(lines, at + 1, fractionDigits)) return -1;
  const year = number(lines, at + 1, 4);
  const month = number(lines, at + 6, 2);
  const day = number(lines, at + 9, 2);
  const hours = number(lines, at + 12, 2);
  const minutes = number(lines, at + 15, 2);
  const seconds = number(lines, at + 18, 2);
  const micros = number(lines, at + 21, fractionDigits) * (fractionDigits === 3 ? 1000 : 1);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return -1;
  if (hours > 23 || minutes > 59 || seconds > 59) return -1;
  const days = daysFromCivil(year, month, day) - POSTGRES_EPOCH_DAYS;
  if (dateOnly) {
    if (hours !== 0 || minutes !== 0 || seconds !== 0 || micros !== 0) return -1;
    writeInt32(4);
    writeInt32(days);
    return at + 23 + fractionDigits;
  }
  const totalSeconds = days * DAY_SECONDS + hours * 3600 + minutes * 60 + seconds;
  writeInt32(8);
  // Within about 285 years of 2000 the microseconds are an exact double; beyond, BigInt.
  if (Math.abs(totalSeconds) < 9e9) writeInt64(totalSeconds * 1_000_000 + micros);
  else o = out.writeBigInt64BE(BigInt(totalSeconds) * 1_000_000n + BigInt(micros), o);
  return at + 23 + fractionDigits;
}

/** `YYYY-MM-DDTHH:mm:ss.` then `fractionDigits` digits and `Z`, digits where digits belong. */
function isDateTimeShape(lines: Buffer, at: number, fractionDigits: number): boolean {
  if (lines[at + 4] !== MINUS || lines[at + 7] !== MINUS || lines[at + 10] !== CAPITAL_T || lines[at + 13] !== COLON) return false;
  if (lines[at + 16] !== COLON || lines[at + 19] !== DOT || lines[at + 20 + fractionDigits] !== CAPITAL_Z) return false;
  for (const k of DATE_TIME_DIGITS) if (!isDigit(lines[at + k]!)) return false;
  for (let k = 20; k < 20 + fractionDigits; k++) if (!isDigit(lines[at + k]!)) return false;
  return true;
}

const DATE_TIME_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

function number(lines: Buffer, at: number, digits: number): number {
  let value = 0;
  for (let k = 0; k < digits; k++) value = value * 10 + (lines[at + k]! - ZERO);
  return value;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * A Decimal as the archive holds it (`"-?digits(.digits)?"` or `"NaN"`) in numeric's
 * binary form: base-10000 digits around the decimal point, the weight of the first, the
 * sign and the display scale (the fraction digits written, trailing zeros included).
 * PostgreSQL then rounds to the column's scale as it does for text. Exponents and
 * infinities take the text path.
 */
function numericInto(lines: Buffer, at: number): number {
  if (lines[at] !== QUOTE) return -1;
  const close = lines.indexOf(QUOTE, at + 1);
  if (close === -1 || close - at > NUMERIC_MAX_CHARS) return -1;
  if (close - at === 4 && lines.toString('latin1', at + 1, close) === 'NaN') {
    writeInt32(8);
    writeInt16(0);
    writeInt16(0);
    writeInt16(NUMERIC_NAN);
    writeInt16(0);
    return close + 1;
  }
  let i = at + 1;
  const negative = lines[i] === MINUS;
  if (negative) i++;
  while (lines[i] === ZERO && lines[i + 1]! >= ZERO && lines[i + 1]! <= NINE) i++; // leading zeros
  const integerStart = i;
  i = digitsEnd(lines, i);
  const integerDigits = i - integerStart;
  if (integerDigits === 0) return -1;
  let fractionStart = i;
  let fractionDigits = 0;
  if (lines[i] === DOT) {
    fractionStart = ++i;
    i = digitsEnd(lines, i);
    fractionDigits = i - fractionStart;
    if (fractionDigits === 0) return -1;
  }
  if (i !== close || fractionDigits > NUMERIC_MAX_SCALE) return -1;
  // Base-10000 digits: the integer part grouped from the point leftwards, the fraction from it rightwards.
  const integerGroups = Math.ceil(integerDigits / 4);
  const groups: number[] = [];
  let k = integerStart - (integerGroups * 4 - integerDigits);
  for (let g = 0; g < integerGroups; g++, k += 4) groups.push(digitGroup(lines, k, integerStart, integerStart + integerDigits));
  for (k = fractionStart; k < fractionStart + fractionDigits; k += 4)
    groups.push(digitGroup(lines, k, fractionStart, fractionStart + fractionDigits));
  let weight = integerGroups - 1;
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const digits = last - first;
  writeInt32(8 + 2 * digits);
  writeInt16(digits);
  writeInt16(digits === 0 ? 0 : weight);
  writeInt16(digits === 0 || !negative ? NUMERIC_POSITIVE : NUMERIC_NEGATIVE);
  writeInt16(fractionDigits);
  for (let g = first; g < last; g++) writeInt16(groups[g]!);
  return close + 1;
}

/** Four decimal digits from `at`, those outside [from, to) counting as zeros. */
function digitGroup(lines: Buffer, at: number, from: number, to: number): number {
  let value = 0;
  for (let k = at; k < at + 4; k++) value = value * 10 + (k >= from && k < to ? lines[k]! - ZERO : 0);
  return value;
}

/** Base64 as the archive holds Bytes, decoded by Node as the text path decodes it. */
function byteaInto(lines: Buffer, at: number): number {
  if (lines[at] !== QUOTE) return -1;
  let close = at + 1;
  for (let c = lines[close]!; c !== QUOTE; c = lines[++close]!) if (c === BACKSLASH || !(c >= 0x20)) return -1;
  const lengthAt = o;
  o += 4;
  const written = out.write(lines.toString('latin1', at + 1, close), o, 'base64');
  o += written;
  out.writeInt32BE(written, lengthAt);
  return close + 1;
}

/** A UUID in its canonical form (8-4-4-4-12 hex digits) as its 16 bytes; other forms take the text path. */
function uuidInto(lines: Buffer, at: number): number {
  if (lines[at] !== QUOTE || lines[at + 37] !== QUOTE) return -1;
  const text = lines.toString('latin1', at + 1, at + 37);
  if (!UUID.test(text)) return -1;
  writeInt32(16);
  o += out.write(text.replace(/-/g, ''), o, 'hex');
  return at + 38;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function writeInt16(value: number) {
  out[o++] = value >> 8;
  out[o++] = value;
}

function writeInt32(value: number) {
  out[o++] = value >>> 24;
  out[o++] = value >>> 16;
  out[o++] = value >>> 8;
  out[o++] = value;
}

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
/** Which of float64Bytes holds the most significant byte first (the machine's order may be either). */
const BIG_ENDIAN_ORDER = new Uint8Array(new Float64Array([1]).buffer)[7] === 0x3f ? [7, 6, 5, 4, 3, 2, 1, 0] : [0, 1, 2, 3, 4, 5, 6, 7];

function writeFloat64(value: number) {
  float64[0] = value;
  for (const k of BIG_ENDIAN_ORDER) out[o++] = float64Bytes[k]!;
}

/** A safe integer as a big-endian int64: the high word by division, the low as the rest. */
function writeInt64(value: number) {
  const high = Math.floor(value / TWO_TO_32);
  writeInt32(high);
  writeInt32(value - high * TWO_TO_32);
}
