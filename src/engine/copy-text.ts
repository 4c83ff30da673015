// PostgreSQL's COPY text format, both ways. Out: each field in the text form the `pg`
// driver would have sent as a parameter, so COPY and the INSERT it replaces store the
// same values, then escaped for COPY (backslash, tab, newline, carriage return). In: the
// lines of `COPY … TO STDOUT`, split into fields and unescaped, the same text the
// server sends for a query.
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

/** One line: the fields of a row, tab-separated, newline-terminated. */
export function copyLine(fields: unknown[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) line += (i === 0 ? '' : '\t') + copyField(fields[i]);
  return line + '\n';
}

const COPY_UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** `COPY … TO STDOUT` output as rows of text fields (null for `\N`), `pageRows` at a time. */
export async function* copyRows(source: AsyncIterable<unknown>, pageRows: number): AsyncGenerator<(string | null)[][]> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let page: (string | null)[][] = [];
  for await (const chunk of source) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      page.push(parseCopyLine(text.slice(start, end)));
      start = end + 1;
      if (page.length >= pageRows) {
        yield page;
        page = [];
      }
    }
    rest = text.slice(start);
  }
  if (rest + decoder.end() !== '') throw new Error('the COPY output ended inside a row');
  if (page.length > 0) yield page;
}

function parseCopyLine(line: string): (string | null)[] {
  const fields: (string | null)[] = line.split('\t');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field === '\\N') fields[i] = null;
    else if (field.includes('\\')) fields[i] = field.replace(/\\(.)/g, (_, ch: string) => COPY_UNESCAPES[ch] ?? ch);
  }
  return fields;
}
