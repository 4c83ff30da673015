// PostgreSQL's COPY text format for decoded values: each field in the text form the
// `pg` driver would have sent as a parameter, so COPY and the INSERT it replaces store
// the same values, then escaped for COPY (backslash, tab, newline, carriage return).
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

/** One line: the fields of a row, tab-separated, newline-terminated. */
export function copyLine(fields: unknown[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]);
  return line + '\n';
}
