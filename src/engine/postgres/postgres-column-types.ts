// Which tables a restore may load in PostgreSQL's binary COPY format, and how each column is
// written, read from the database's own catalog: a binary field must be exactly the column's
// type, and the Prisma schema does not always say which.
import type { TableSpec } from '../../target/target-schema.ts';
import type { BinaryField, BinaryKind } from './ndjson-to-copy-binary.ts';
import type { SqlRunner } from './postgres-session.ts';
import { sqlQuery } from '../../prisma/sql.ts';

/** Built-in types by OID (pg_type.dat); enums, whose OIDs vary, are matched by `typtype`. */
const KIND_BY_OID = new Map<number, BinaryKind>([
  [16, 'bool'],
  [17, 'bytea'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [114, 'text'], // json: its binary form is its text
  [701, 'float8'],
  [1042, 'text'], // char(n): padded by the server either way
  [1043, 'text'], // varchar(n): its length checked by the server either way
  [1082, 'date'],
  [1114, 'timestamp'],
  [1184, 'timestamp'],
  [1700, 'numeric'],
  [2950, 'uuid'],
  [3802, 'jsonb'],
]);

interface ColumnType {
  oid: number;
  /** pg_type.typtype: b(ase), e(num), d(omain), … */
  typtype: string;
  /** For an array type, its element type; null otherwise. */
  element: { oid: number; typtype: string } | null;
}

/**
 * The binary layout of each of `tables` that can have one, keyed by table name: a table with
 * any column whose type ndjson-to-copy-binary.ts does not write is loaded as text. A field of
 * the wrong type (an int4 where the column is int8) is refused or, worse, misread, and a
 * String may be text, varchar, uuid or citext: the catalog decides.
 */
export async function binaryLayouts(runner: SqlRunner, schema: string, tables: TableSpec[]): Promise<Map<string, BinaryField[]>> {
  const found = await runner.queryRaw(
    sqlQuery(
      `SELECT c.relname, a.attname, a.atttypid, t.typtype::text, t.typcategory = 'A', t.typelem, e.typtype::text
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_type e ON e.oid = t.typelem
        WHERE c.relnamespace = to_regnamespace($1) AND c.relname = ANY($2) AND a.attnum > 0 AND NOT a.attisdropped`,
      [schema, tables.map((spec) => spec.name)],
    ),
  );
  const types = new Map<string, ColumnType>();
  for (const [table, column, oid, typtype, isArray, elementOid, elementTyptype] of found.rows) {
    types.set(`${String(table)}.${String(column)}`, {
      oid: Number(oid),
      typtype: String(typtype),
      element: isArray === true ? { oid: Number(elementOid), typtype: String(elementTyptype) } : null,
    });
  }
  const layouts = new Map<string, BinaryField[]>();
  for (const spec of tables) {
    const fields: BinaryField[] = [];
    for (const column of spec.columns) {
      const type = types.get(`${spec.name}.${column.name}`);
      const field = type && column.list === (type.element !== null) ? binaryField(type) : null;
      if (!field) break;
      fields.push(field);
    }
    if (fields.length === spec.columns.length && fields.length > 0) layouts.set(spec.name, fields);
  }
  return layouts;
}

function binaryField(type: ColumnType): BinaryField | null {
  if (type.element === null) {
    const kind = kindOf(type.oid, type.typtype);
    return kind ? { kind, elementOid: null } : null;
  }
  if (type.typtype !== 'b') return null; // a domain over an array
  const kind = kindOf(type.element.oid, type.element.typtype);
  return kind ? { kind, elementOid: type.element.oid } : null;
}

function kindOf(oid: number, typtype: string): BinaryKind | null {
  if (typtype === 'e') return 'text';
  return typtype === 'b' ? (KIND_BY_OID.get(oid) ?? null) : null;
}
