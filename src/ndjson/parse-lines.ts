// Newline-terminated `ndjson-v1` text back into rows of encoded values.
import type { EncodedValue } from './value-encoder.ts';

/** Parses newline-terminated `ndjson-v1` lines back into rows. */
export function parseLines(text: string): EncodedValue[][] {
  const rows: EncodedValue[][] = [];
  let start = 0;
  for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
    rows.push(JSON.parse(text.slice(start, end)) as EncodedValue[]);
    start = end + 1;
  }
  return rows;
}
