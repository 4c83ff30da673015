// PostgreSQL's COPY text format, both ways. Into the database: each field in the text
// form the `pg` driver would have sent as a parameter, so COPY and the INSERT it replaces
// store the same values, then escaped for COPY (backslash, tab, newline, carriage
// return). The converters between COPY and archive lines (copy-lines.ts,
// copy-to-ndjson.ts, copy-binary.ts) grow their output with `grownBuffer` and read `true`
// and `false` with `literalEnd`; those into the database read `null` with `isNullAt`.
import { createRequire } from 'node:module';

const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One field: `\N` for null, bytea as `\x…` hex, arrays as PostgreSQL array literals. */
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

/** A copy of `out`'s first `used` bytes in a buffer with room for at least `more` after them. */
export function grownBuffer(out: Buffer, used: number, more: number): Buffer {
  const grown = Buffer.allocUnsafe(2 * (used + more));
  out.copy(grown, 0, 0, used);
  return grown;
}

/** The end of the bytes `true` or `false` at `at`, or -1. */
export function literalEnd(bytes: Buffer, at: number): number {
  const c = bytes[at];
  if (c === 0x74 && bytes[at + 1] === 0x72 && bytes[at + 2] === 0x75 && bytes[at + 3] === 0x65) return at + 4;
  if (c === 0x66 && bytes[at + 1] === 0x61 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x73 && bytes[at + 4] === 0x65) return at + 5;
  return -1;
}

/** Whether the bytes at `at` are JSON's `null`. */
export function isNullAt(bytes: Buffer, at: number): boolean {
  return bytes[at] === 0x6e && bytes[at + 1] === 0x75 && bytes[at + 2] === 0x6c && bytes[at + 3] === 0x6c;
}
