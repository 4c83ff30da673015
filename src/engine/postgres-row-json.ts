// PostgreSQL writes each row's `ndjson-v1` line itself, in the server process, so a
// backup's encoding runs beside Node's compression rather than in front of it. It takes
// the values whose JSON is certain to match this project's encoder (text, integers,
// booleans, numerics as text, millisecond timestamps, base64 bytes, most doubles); any
// other value becomes a marker holding the text the general path reads, finished by
// row-markers.ts. Byte for byte the same lines as before (test/row-json.test.ts).
import type { ColumnSpec } from '../target/target-schema.ts';
import type { MarkerDecoder } from './row-markers.ts';
import { quoteIdentifier as q } from './sql.ts';
import { encodePostgresValue } from './value-codec.ts';

/** The SQL expression of one row's line, as `text`, columns in the table's order. */
export function postgresLineExpression(columns: ColumnSpec[]): string {
  return `array_to_json(ARRAY[${columns.map((column, i) => valueExpression(column, i)).join(', ')}]::json[])::text`;
}

function valueExpression(column: ColumnSpec, index: number): string {
  const c = q(column.name);
  const marker = `('{"m":${index},"v":' || to_json(${postgresTextExpression(column)})::text || '}')::json`;
  if (column.list) return `CASE WHEN ${c} IS NULL THEN NULL ELSE ${marker} END`;
  switch (column.type) {
    case 'String':
    case 'Enum':
    case 'BigInt':
    case 'Decimal':
    case 'Json':
      return `to_json(${c}::text)`;
    case 'Int':
    case 'Boolean':
      return `to_json(${c})`;
    case 'Bytes':
      // base64 as Node writes it: one line, padded.
      return `to_json(translate(encode(${c}, 'base64'), E'\\n', ''))`;
    case 'Float':
      // Within these bounds PostgreSQL and JavaScript both print a double plainly, and
      // both print its shortest round-trip digits (Ryu; V8's shortest mode): the same text.
      return `CASE WHEN ${c} = 0 THEN '0'::json WHEN abs(${c}) >= 1e-4 AND abs(${c}) < 1e15 THEN to_json(${c}) WHEN ${c} IS NULL THEN NULL ELSE ${marker} END`;
    case 'DateTime':
      if (column.nativeType !== null && column.nativeType !== 'Timestamp' && column.nativeType !== 'Timestamptz') {
        return `CASE WHEN ${c} IS NULL THEN NULL ELSE ${marker} END`;
      }
      // The session runs in UTC, so a timestamptz prints as UTC too.
      return (
        `CASE WHEN ${c} IS NULL THEN NULL WHEN ${c} >= '1000-01-01' AND ${c} < '10000-01-01' AND ${c} = date_trunc('milliseconds', ${c}) ` +
        `THEN to_json(to_char(${c}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) ELSE ${marker} END`
      );
  }
}

/** Every value that could lose precision on its way to JavaScript is selected as text. */
export function postgresTextExpression(column: ColumnSpec): string {
  const name = q(column.name);
  if (column.list) return `array_to_json(${name}::text[])::text`;
  if (column.type === 'Bytes') return `encode(${name}, 'hex')`;
  return `${name}::text`;
}

export const decodePostgresMarker: MarkerDecoder = (column, text) => encodePostgresValue(column, text);
