// A PostgreSQL backup's rows from COPY text (CopyData messages, read in place) to the archive's
// `ndjson-v1` lines, byte for byte: for almost every value the JSON is the COPY text, quoted where
// JSON holds a string; the rest take the general encoder (test/integration/row-json.test.ts).
import type { ColumnSpec } from '../../target/target-schema.ts';
import { COPY_DATA, HEADER_BYTES } from './copy-out-pages.ts';
import {
  BACKSLASH,
  CLOSE,
  COLON,
  DOT,
  LETTER_F,
  LETTER_T,
  MINUS,
  NEWLINE,
  NINE,
  OPEN,
  PLUS,
  QUOTE,
  SPACE,
  TAB,
  ZERO,
  grownBuffer,
  literalEnd,
} from './copy-bytes.ts';
import { quoteIdentifier as q } from '../../prisma/sql.ts';
import { encodePostgresValue } from '../../ndjson/value-encoder.ts';

/** How each column's COPY text becomes JSON. */
const TEXT = 0; // String, Enum, Json: a JSON string of the same characters
const INTEGER = 1; // Int: the digits as they are
const DOUBLE = 2; // Float: the digits when PostgreSQL wrote them plainly
const BOOLEAN = 3; // true / false (or t / f)
const QUOTED_NUMBER = 4; // BigInt, Decimal: a JSON string of the digits
const TIMESTAMP = 5; // a UTC timestamp with at most milliseconds
const TEXT_LIST = 6; // String[], Enum[]: PostgreSQL's own JSON array, when it has no escape
const GENERAL = 7; // everything else, value by value in JavaScript

/**
 * COPY's escapes that mean the same in JSON, after a backslash: `\\`, n, t, r, b, f. Only a
 * double quote needs a backslash added.
 */
const SHARED_ESCAPES = new Set([BACKSLASH, 0x6e, 0x74, 0x72, 0x62, 0x66]);

/**
 * Native types whose COPY text is their `::text`: both are the type's output function. A
 * cast is a real share of the server's work in a large table's COPY, so these are selected
 * as they are (docs/PERFORMANCE.md, "Measurements behind the code"). Char (cast to text
 * drops the padding), Inet and Cidr (their cast writes the mask), Money, Xml, Citext, Bit
 * and the rest keep the cast: the text the general path knows.
 */
const SAME_AS_TEXT = new Set([
  'Text',
  'VarChar',
  'Uuid',
  'Integer',
  'SmallInt',
  'BigInt',
  'DoublePrecision',
  'Real',
  'Decimal',
  'Boolean',
  'Timestamp',
  'Timestamptz',
  'Date',
  'Time',
  'Timetz',
  'Json',
  'JsonB',
]);

/**
 * The `SELECT` item whose COPY text `copyDataToNdjson` reads for a column: its text, with
 * lists as JSON text and bytes as hex, which the general path reads. A boolean's COPY
 * text is `t` or `f` where its `::text` is `true` or `false`; both are read alike.
 */
export function postgresTextExpression(column: ColumnSpec): string {
  const name = q(column.name);
  if (column.list) return `array_to_json(${name}::text[])::text`;
  if (column.type === 'Bytes') return `encode(${name}, 'hex')`;
  return column.nativeType === null || SAME_AS_TEXT.has(column.nativeType) ? name : `${name}::text`;
}

export interface NdjsonLines {
  bytes: Buffer;
  rows: number;
}

/**
 * `messages`: whole CopyData messages of one table, as the server sent them
 * (copy-out-pages.ts), each a COPY text line with one field per column
 * (`postgresTextExpression` of each, in order). Returns the same rows as `ndjson-v1`
 * lines. The text is UTF-8: pg asks the server for it whatever the database's encoding,
 * and the server converts to it or, from SQL_ASCII, refuses a value that is not UTF-8
 * ("invalid byte sequence"), so its bytes are copied as they are.
 */
export function copyDataToNdjson(columns: ColumnSpec[], messages: Buffer): NdjsonLines {
  const kinds = columns.map(kindOf);
  if (scratch.length < 3 * messages.length + 1024) scratch = Buffer.allocUnsafe(3 * messages.length + 1024);
  let out = scratch;
  let o = 0;
  let rows = 0;
  let i = 0;
  while (i < messages.length) {
    const rowIn = i;
    const lineOut = o;
    if (messages[i] !== COPY_DATA) throw new Error(`a COPY page holds a message of type ${messages[i]}, not a row`);
    // The length counts itself but not the type byte.
    const rowEnd = i + 1 + messages.readUInt32BE(i + 1);
    if (rowEnd > messages.length) throw new Error('copyDataToNdjson takes whole messages only');
    i += HEADER_BYTES;
    out[o++] = OPEN;
    for (let column = 0; column < columns.length; column++) {
      if (column > 0) {
        if (messages[i] !== TAB) throw new Error(`a COPY line has fewer fields than the table's ${columns.length} columns`);
        i++;
        out[o++] = 0x2c; // ,
      }
      const written = fastValue(kinds[column]!, messages, i, out, o);
      if (written !== -1) {
        o = written;
        i = fieldEnd;
        continue;
      }
      const end = endOfField(messages, i);
      const json = JSON.stringify(encodePostgresValue(columns[column]!, fieldValue(messages.toString('utf8', i, end))));
      if (o + Buffer.byteLength(json) + 64 > out.length) out = grownBuffer(out, o, Buffer.byteLength(json) + 3 * (messages.length - end));
      o += out.write(json, o);
      i = end;
    }
    if (messages[i] !== NEWLINE || i + 1 !== rowEnd)
      throw new Error(`a COPY line has more fields than the table's ${columns.length} columns`);
    i++;
    out[o++] = CLOSE;
    out[o++] = NEWLINE;
    // Writes past the end of a typed array are dropped: a line that did not fit is done again.
    if (o > out.length) {
      out = grownBuffer(out, lineOut, 8 * (i - rowIn) + 3 * (messages.length - i));
      o = lineOut;
      i = rowIn;
      continue;
    }
    rows++;
  }
  scratch = out;
  return { bytes: Buffer.from(out.subarray(0, o)), rows };
}

/**
 * The lines are written here, page after page, and copied out at their size. A new buffer
 * of the worst case's size per page (three times the page) made much of a backup's
 * garbage: V8 counts buffers' memory and collected far more often for it
 * (docs/PERFORMANCE.md, "Measurements behind the code").
 */
let scratch: Buffer = Buffer.alloc(0);

/** Where the field `fastValue` last wrote ends in its input (at a tab or newline). */
let fieldEnd = 0;

function endOfField(lines: Buffer, at: number): number {
  let i = at;
  while (i < lines.length && lines[i] !== TAB && lines[i] !== NEWLINE) i++;
  return i;
}

/** A field's value: null for `\\N`, else its text with COPY's escapes undone. */
function fieldValue(text: string): string | null {
  return text === '\\N' ? null : unescapeCopyText(text);
}

function kindOf(column: ColumnSpec): number {
  if (column.list) return column.type === 'String' || column.type === 'Enum' ? TEXT_LIST : GENERAL;
  switch (column.type) {
    case 'String':
    case 'Enum':
    case 'Json':
      return TEXT;
    case 'Int':
      return INTEGER;
    case 'Float':
      return DOUBLE;
    case 'Boolean':
      return BOOLEAN;
    case 'BigInt':
    case 'Decimal':
      return QUOTED_NUMBER;
    case 'DateTime':
      return column.nativeType === null || column.nativeType === 'Timestamp' || column.nativeType === 'Timestamptz' ? TIMESTAMP : GENERAL;
    case 'Bytes':
      return GENERAL;
  }
}

function writeNull(out: Buffer, o: number): number {
  // null
  out[o] = 0x6e;
  out[o + 1] = 0x75;
  out[o + 2] = 0x6c;
  out[o + 3] = 0x6c;
  return o + 4;
}

/**
 * Writes the field at `at` as JSON at `o`, sets `fieldEnd`, and returns the new end of
 * the output; -1 sends the field to the general path (unescaped, then `encodePostgresValue`):
 * a raw control character, a double with an exponent, a microsecond timestamp, an escape in a
 * text list, a list of other types, bytes, a date or time column.
 */
function fastValue(kind: number, lines: Buffer, at: number, out: Buffer, o: number): number {
  if (lines[at] === BACKSLASH && lines[at + 1] === 0x4e && (lines[at + 2] === TAB || lines[at + 2] === NEWLINE)) {
    fieldEnd = at + 2;
    return writeNull(out, o);
  }
  switch (kind) {
    case TEXT: {
      out[o++] = QUOTE;
      let i = at;
      for (let c = lines[i]!; c !== TAB && c !== NEWLINE; c = lines[++i]!) {
        if (c === BACKSLASH) {
          const escaped = lines[++i]!;
          if (!SHARED_ESCAPES.has(escaped)) return -1;
          out[o++] = BACKSLASH;
          out[o++] = escaped;
        } else if (c === QUOTE) {
          out[o++] = BACKSLASH;
          out[o++] = QUOTE;
        } else if (c < SPACE) {
          return -1; // JSON writes these as \u00XX
        } else {
          out[o++] = c;
        }
      }
      out[o++] = QUOTE;
      fieldEnd = i;
      return o;
    }
    case INTEGER:
      return digitsOnly(lines, at, false) ? copyRange(lines, at, fieldEnd, out, o) : -1;
    case DOUBLE:
      // Plain digits mean PostgreSQL chose no exponent (1e-4 <= |x| < 1e15); there both it
      // and JavaScript write the shortest round-trip digits, the same text. -0 is JSON's 0.
      if (!digitsOnly(lines, at, true) || (lines[at] === MINUS && fieldEnd - at === 2 && lines[at + 1] === ZERO)) return -1;
      return copyRange(lines, at, fieldEnd, out, o);
    case BOOLEAN:
      return booleanValue(lines, at, out, o);
    case QUOTED_NUMBER:
      if (!digitsOnly(lines, at, true)) return -1;
      out[o++] = QUOTE;
      o = copyRange(lines, at, fieldEnd, out, o);
      out[o++] = QUOTE;
      return o;
    case TIMESTAMP:
      return timestamp(lines, at, out, o);
    case TEXT_LIST:
      return textList(lines, at, out, o);
    default:
      return -1;
  }
}

/**
 * `true` or `false`, as `::text` writes a boolean, copied as it is; `t` or `f`, as COPY
 * writes the column itself, spelled out.
 */
function booleanValue(lines: Buffer, at: number, out: Buffer, o: number): number {
  const c = lines[at];
  let end = literalEnd(lines, at);
  if (end === -1 && (c === LETTER_T || c === LETTER_F)) end = at + 1;
  if (end === -1 || (lines[end] !== TAB && lines[end] !== NEWLINE)) return -1;
  fieldEnd = end;
  const literal = c === LETTER_T ? TRUE : FALSE;
  return copyRange(literal, 0, literal.length, out, o);
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/** `-?[0-9]+`, and with `fraction` an optional `.[0-9]+`, up to a tab or newline (then `fieldEnd`). */
function digitsOnly(lines: Buffer, at: number, fraction: boolean): boolean {
  let i = lines[at] === MINUS ? at + 1 : at;
  const first = i;
  while (lines[i]! >= ZERO && lines[i]! <= NINE) i++;
  if (i === first) return false;
  if (fraction && lines[i] === DOT) {
    const fractionStart = ++i;
    while (lines[i]! >= ZERO && lines[i]! <= NINE) i++;
    if (i === fractionStart) return false;
  }
  fieldEnd = i;
  return lines[i] === TAB || lines[i] === NEWLINE;
}

function copyRange(lines: Buffer, at: number, end: number, out: Buffer, o: number): number {
  for (let i = at; i < end; i++) out[o++] = lines[i]!;
  return o;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f{1,3}][+00]`, as PostgreSQL prints a timestamp (or a timestamptz
 * in UTC), becomes `"YYYY-MM-DDTHH:MM:SS.fffZ"`, as `canonicalDateTime` writes it. More
 * fraction digits, another zone, a year past 9999 or BC take the general path. Written
 * out position by position: it runs for every timestamp of every row
 * (docs/PERFORMANCE.md, "Measurements behind the code").
 */
function timestamp(lines: Buffer, at: number, out: Buffer, o: number): number {
  if (
    lines[at + 4] !== MINUS ||
    lines[at + 7] !== MINUS ||
    lines[at + 10] !== SPACE ||
    lines[at + 13] !== COLON ||
    lines[at + 16] !== COLON
  )
    return -1;
  if (
    !isDigit(lines[at]!) ||
    !isDigit(lines[at + 1]!) ||
    !isDigit(lines[at + 2]!) ||
    !isDigit(lines[at + 3]!) ||
    !isDigit(lines[at + 5]!) ||
    !isDigit(lines[at + 6]!) ||
    !isDigit(lines[at + 8]!) ||
    !isDigit(lines[at + 9]!) ||
    !isDigit(lines[at + 11]!) ||
    !isDigit(lines[at + 12]!) ||
    !isDigit(lines[at + 14]!) ||
    !isDigit(lines[at + 15]!) ||
    !isDigit(lines[at + 17]!) ||
    !isDigit(lines[at + 18]!)
  ) {
    return -1;
  }
  let i = at + 19;
  let fractionDigits = 0;
  if (lines[i] === DOT) {
    while (isDigit(lines[++i]!)) fractionDigits++;
    if (fractionDigits === 0 || fractionDigits > 3) return -1;
  }
  if (lines[i] === PLUS && lines[i + 1] === ZERO && lines[i + 2] === ZERO) i += 3;
  if (lines[i] !== TAB && lines[i] !== NEWLINE) return -1;
  fieldEnd = i;
  out[o++] = QUOTE;
  o = copyRange(lines, at, at + 10, out, o);
  out[o++] = 0x54; // T
  o = copyRange(lines, at + 11, at + 19, out, o);
  out[o++] = DOT;
  out[o++] = fractionDigits > 0 ? lines[at + 20]! : ZERO;
  out[o++] = fractionDigits > 1 ? lines[at + 21]! : ZERO;
  out[o++] = fractionDigits > 2 ? lines[at + 22]! : ZERO;
  out[o++] = 0x5a; // Z
  out[o++] = QUOTE;
  return o;
}

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

/**
 * A text list, selected as `array_to_json(…)`: with no backslash in it, no string holds an
 * escape, so the server's JSON (no spaces, `null` for a missing element) is byte for byte
 * what the general path writes for it. A closing bracket before the end means a nested
 * array (or a string holding one), which goes the general way.
 */
function textList(lines: Buffer, at: number, out: Buffer, o: number): number {
  if (lines[at] !== OPEN) return -1;
  let i = at + 1;
  for (let c = lines[i]!; c !== TAB && c !== NEWLINE; c = lines[++i]!) {
    if (c === BACKSLASH || c < SPACE || (c === CLOSE && lines[i + 1] !== TAB && lines[i + 1] !== NEWLINE)) return -1;
  }
  if (lines[i - 1] !== CLOSE) return -1;
  fieldEnd = i;
  return copyRange(lines, at, i, out, o);
}

/** The escapes COPY TO writes (copyto.c): control characters by letter, and the backslash. */
const COPY_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** A COPY text field's value, its backslash escapes undone. */
export function unescapeCopyText(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(.)/gs, (_, escaped: string) => {
    const value = COPY_UNESCAPES[escaped];
    if (value === undefined) throw new Error(`COPY wrote an escape this reader does not know: \\${escaped}`);
    return value;
  });
}
