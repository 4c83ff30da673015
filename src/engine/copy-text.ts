// PostgreSQL's COPY text format, both ways. Out: each field in the text form the `pg`
// driver would have sent as a parameter, so COPY and the INSERT it replaces store the
// same values, then escaped for COPY (backslash, tab, newline, carriage return). In: the
// lines of a one-column `COPY … TO STDOUT` of JSON text, unescaped.
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';

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

/** Pages of at least this many characters keep the work per page worth its overhead. */
const PAGE_CHARS = 64 * 1024;

/**
 * The output of a one-column `COPY … TO STDOUT` whose values are JSON, as pages of whole
 * newline-terminated lines. JSON holds no raw control characters, so COPY's only escape
 * in it is the doubled backslash, undone here.
 */
export async function* copyLinePages(source: AsyncIterable<unknown>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of source) {
    pending += decoder.write(chunk as Buffer);
    if (pending.length < PAGE_CHARS) continue;
    const end = pending.lastIndexOf('\n') + 1;
    if (end === 0) continue;
    yield pending.slice(0, end).replaceAll('\\\\', '\\');
    pending = pending.slice(end);
  }
  pending += decoder.end();
  if (pending !== '' && !pending.endsWith('\n')) throw new Error('the COPY output ended inside a row');
  if (pending !== '') yield pending.replaceAll('\\\\', '\\');
}
