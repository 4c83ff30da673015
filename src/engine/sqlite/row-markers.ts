// Finishes in JavaScript the lines SQLite encodes itself (sqlite-row-json.ts): a value whose
// JSON SQLite is not sure to write exactly as this project's encoder would is left as a marker
// object holding the value's text, and the marker is replaced here by the general encoding.
import type { ColumnSpec } from '../../target/target-schema.ts';
import type { EncodedValue } from '../../ndjson/value-encoder.ts';

/**
 * `{"m":<column>,"c":"<storage class>","v":"<text>"}` (`c` optional). The value
 * is always a JSON string, so the pattern needs no JSON parser to find a marker's end.
 */
const MARKER = /\{"m":(\d+)(?:,"c":"([a-z]+)")?,"v":("(?:[^"\\]|\\.)*")\}/g;
// No encoded value is an object, and inside a JSON string `{"` is always `{\"`: a marker cannot be confused with data.
export const MARKER_START = '{"m":';

/** Turns a marker's text (and its storage class) back into an encoded value. */
export type MarkerDecoder = (column: ColumnSpec, text: string, storageClass: string | undefined) => EncodedValue;

/** The lines with every marker replaced by its value's exact JSON. */
export function finishMarkedText(text: string, columns: ColumnSpec[], decode: MarkerDecoder): string {
  if (!text.includes(MARKER_START)) return text;
  return text.replace(MARKER, (_, column: string, storageClass: string | undefined, value: string) => {
    const spec = columns[Number(column)];
    if (!spec) throw new Error(`a row marker names column ${column}, which the table does not have`);
    return JSON.stringify(decode(spec, JSON.parse(value) as string, storageClass));
  });
}
