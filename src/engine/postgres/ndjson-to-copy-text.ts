// A restore's rows from archive lines to PostgreSQL's COPY text format: the path for the tables
// and batches binary COPY (ndjson-to-copy-binary.ts) leaves to text, and the reference that path
// is tested against. A fast path rewrites plain lines' bytes; the rest go value by value.
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import type { ColumnSpec } from '../../target/target-schema.ts';
import {
  BACKSLASH,
  CLOSE,
  CLOSE_BRACE,
  COMMA,
  DOT,
  LETTER_N,
  LETTER_R,
  LETTER_T,
  MINUS,
  NEWLINE,
  NINE,
  OPEN,
  OPEN_BRACE,
  QUOTE,
  SLASH,
  TAB,
  ZERO,
  grownBuffer,
  isNullAt,
  literalEnd,
} from './copy-bytes.ts';
import type { EncodedValue } from '../../ndjson/value-encoder.ts';
import { decodeForPostgres } from '../../ndjson/value-decoder.ts';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * One field in the text form `pg` would have sent as a parameter (so COPY stores what an
 * INSERT would), escaped for COPY: `\N` for null, bytea as `\x…` hex, arrays as literals.
 */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number'
        ? String(value)
        : Buffer.isBuffer(value)
          ? `\\x${value.toString('hex')}`
          : String(prepareValue(value));
  return COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!) : text;
}

/**
 * A row's COPY line, field by field: no array per row, as it runs once for every row restored
 * (docs/PERFORMANCE.md, "Measurements behind the code").
 */
export function copyLineOf(columns: ColumnSpec[], row: EncodedValue[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) line += (i === 0 ? '' : '\t') + copyField(decodeForPostgres(columns[i]!, row[i] ?? null));
  return line + '\n';
}

/**
 * What the fast path may copy as it is, per column: only the JSON type the column's values
 * have, so that a value of the wrong type (a string in an Int column, which PostgreSQL would
 * read as a number) goes to the general path and its row check.
 */
const TEXT_ONLY = 0; // strings and null, as the general path passes them on
const NUMBERS_ONLY = 1; // plain numbers and null, whose value PostgreSQL reads exactly as JavaScript does
const LIST = 2; // a list of plain elements, rewritten as an array literal
const NULL_ONLY = 3; // bytes: their COPY text differs from their JSON
const BOOLEANS_ONLY = 4; // true, false and null

/** A decimal longer than this takes the general path (no overflow, no surprises). */
const MAX_NUMBER_CHARS = 40;
/** Integers up to 15 digits are exact doubles, so JavaScript writes them back unchanged. */
const MAX_INTEGER_DIGITS = 15;

export interface CopyLines {
  bytes: Buffer;
  rows: number;
  /** Lines that took the general path. */
  generalLines: number;
}

/**
 * `lines`: whole `ndjson-v1` lines of one table, each ending in a newline, as the archive
 * holds them; `columns` in the archive's order. Returns the same rows as COPY text lines.
 * The fast path rewrites a line's bytes directly, because for almost every value COPY's text
 * is the JSON text less its quotes: a string with no escape COPY lacks (`\u`, `\b`, `\f`), a plain integer or
 * decimal, true, false, null (`\N`), a list of such. A line it does not recognise as entirely
 * plain (an escape it cannot keep, bytes, an exponent, anything unexpected) goes through
 * `copyLineOf`, so both give the same values (test/unit/ndjson-to-copy-text.test.ts), after
 * `check` (a plain line has one value per column, and PostgreSQL checks their types).
 */
export function ndjsonToCopyLines(columns: ColumnSpec[], lines: Buffer, check?: (row: unknown) => void): CopyLines {
  const accepts = columns.map(acceptedTokens);
  const integers = columns.map((column) => column.type === 'Int');
  // Invalid UTF-8 is decoded the general path's way (U+FFFD), never copied as it is.
  const plainBytes = isUtf8(lines);
  // The fast path at most doubles a line (a list of one-digit numbers gains quotes).
  let out: Buffer = Buffer.allocUnsafe(2 * lines.length + 1024);
  let o = 0;
  let rows = 0;
  let generalLines = 0;
  let start = 0;
  for (let end = lines.indexOf(NEWLINE); end !== -1; end = lines.indexOf(NEWLINE, start)) {
    rows++;
    const lineOut = o;
    let i = start + 1;
    let column = 0;
    let closed = false;
    // One value per pass: `i` moves past it and its separator, `o` past its COPY text.
    // Any break before the closing bracket sends the line to the general path.
    const plainLine = plainBytes && lines[start] === OPEN;
    while (plainLine && column < columns.length) {
      const accept = accepts[column]!;
      const c = lines[i]!;
      let after = -1;
      if (isNullAt(lines, i)) {
        out[o++] = BACKSLASH;
        out[o++] = 0x4e; // \N
        i += 4;
      } else if (accept === NULL_ONLY) {
        break;
      } else if (accept === LIST) {
        if ((after = listInto(lines, i, out, o, integers[column]!)) === -1) break;
        i = after;
        o = outEnd;
      } else if (c === QUOTE) {
        if (accept !== TEXT_ONLY || (after = stringInto(lines, i, out, o)) === -1) break;
        i = after;
        o = outEnd;
      } else if (accept === BOOLEANS_ONLY && (after = literalEnd(lines, i)) !== -1) {
        while (i < after) out[o++] = lines[i++]!;
      } else if (accept === NUMBERS_ONLY && (c === MINUS || (c >= ZERO && c <= NINE))) {
        if ((after = plainNumberEnd(lines, i, integers[column]!)) === -1) break;
        while (i < after) out[o++] = lines[i++]!;
      } else {
        break;
      }
      column++;
      const separator = lines[i++];
      if (separator === COMMA) out[o++] = TAB;
      else {
        closed = separator === CLOSE;
        break;
      }
    }
    if (closed && column === columns.length && i === end) {
      out[o++] = NEWLINE;
    } else {
      generalLines++;
      o = lineOut;
      const row = JSON.parse(lines.toString('utf8', start, end)) as EncodedValue[];
      check?.(row);
      const line = copyLineOf(columns, row);
      const more = Buffer.byteLength(line) + 2 * (lines.length - end) + 1024;
      if (o + more > out.length) out = grownBuffer(out, o, more);
      o += out.write(line, o);
    }
    start = end + 1;
  }
  if (start !== lines.length) throw new Error('ndjsonToCopyLines takes whole lines only');
  return { bytes: out.subarray(0, o), rows, generalLines };
}

/** Where the last `stringInto` or `listElement` left off writing. */
let outEnd = 0;

/**
 * Copies the JSON string at `at` into `out` at `o` as COPY text and returns the index
 * after its closing quote (setting `outEnd`), or -1 if it needs the general path. JSON's
 * escapes for backslash, newline, tab and carriage return are COPY's own, byte for byte;
 * `\"` and `\/` lose their backslash; any other escape (`\u`, `\b`, `\f`) and any raw
 * control character (invalid JSON; a newline ends the scan) take the general path.
 */
function stringInto(lines: Buffer, at: number, out: Buffer, o: number): number {
  let i = at + 1;
  for (let d = lines[i]!; d !== QUOTE; d = lines[++i]!) {
    if (d === BACKSLASH) {
      const escaped = lines[++i]!;
      if (escaped === QUOTE || escaped === SLASH) {
        out[o++] = escaped;
        continue;
      }
      if (escaped !== BACKSLASH && escaped !== LETTER_N && escaped !== LETTER_T && escaped !== LETTER_R) return -1;
      out[o++] = BACKSLASH;
      out[o++] = escaped;
    } else if (d < 0x20) {
      return -1;
    } else {
      out[o++] = d;
    }
  }
  outEnd = o;
  return i + 1;
}

/**
 * The JSON list at `at` as the array literal pg writes for it (`{"a",NULL,"42"}`: every
 * element quoted, numbers and booleans too), or -1. Strings with an escape take the
 * general path: inside an array literal their escaping differs.
 */
function listInto(lines: Buffer, at: number, out: Buffer, o: number, integer: boolean): number {
  if (lines[at] !== OPEN) return -1;
  let i = at + 1;
  out[o++] = OPEN_BRACE;
  if (lines[i] === CLOSE) {
    out[o++] = CLOSE_BRACE;
    outEnd = o;
    return i + 1;
  }
  for (;;) {
    const c = lines[i]!;
    if (c === QUOTE) {
      out[o++] = QUOTE;
      for (let d = lines[++i]!; d !== QUOTE; d = lines[++i]!) {
        if (d === BACKSLASH || d < 0x20) return -1;
        out[o++] = d;
      }
      out[o++] = QUOTE;
      i++;
    } else if (isNullAt(lines, i)) {
      o += out.write('NULL', o, 'latin1');
      i += 4;
    } else {
      let end = literalEnd(lines, i);
      if (end === -1 && (c === MINUS || (c >= ZERO && c <= NINE))) end = plainNumberEnd(lines, i, integer);
      if (end === -1) return -1;
      out[o++] = QUOTE;
      while (i < end) out[o++] = lines[i++]!;
      out[o++] = QUOTE;
    }
    const separator = lines[i++];
    if (separator === CLOSE) break;
    if (separator !== COMMA) return -1;
    out[o++] = COMMA;
  }
  out[o++] = CLOSE_BRACE;
  outEnd = o;
  return i;
}

function acceptedTokens(column: ColumnSpec): number {
  if (column.type === 'Bytes') return NULL_ONLY;
  if (column.list) return LIST;
  if (column.type === 'Boolean') return BOOLEANS_ONLY;
  return column.type === 'Int' || column.type === 'Float' ? NUMBERS_ONLY : TEXT_ONLY;
}

/**
 * The end of a plain JSON number at `at` (`-?digits`, then for a Float `.digits`), or -1
 * for anything else: an exponent, a fraction in an Int column, a negative zero (which
 * JavaScript turns into 0 and PostgreSQL would keep as -0), too many digits.
 */
function plainNumberEnd(bytes: Buffer, at: number, integer: boolean): number {
  let i = at;
  const negative = bytes[i] === MINUS;
  if (negative) i++;
  const digitsStart = i;
  let nonZero = false;
  for (let c = bytes[i]!; c >= ZERO && c <= NINE; c = bytes[++i]!) if (c !== ZERO) nonZero = true;
  const integerDigits = i - digitsStart;
  if (integerDigits === 0 || (integerDigits > 1 && bytes[digitsStart] === ZERO)) return -1;
  if (bytes[i] === DOT) {
    if (integer) return -1;
    const fractionStart = ++i;
    for (let c = bytes[i]!; c >= ZERO && c <= NINE; c = bytes[++i]!) if (c !== ZERO) nonZero = true;
    if (i === fractionStart) return -1;
  } else if (integer && integerDigits > MAX_INTEGER_DIGITS) {
    return -1;
  }
  const next = bytes[i];
  if (next !== COMMA && next !== CLOSE) return -1;
  if (i - at > MAX_NUMBER_CHARS || (negative && !nonZero)) return -1;
  return i;
}
