// A schema's tables as one fingerprint, and what differs between two sets of tables: how a
// backup is matched with the target it is restored into when migrations cannot decide.
import { createHash } from 'node:crypto';
import type { ColumnSpec } from './target-schema.ts';

/** What the data model of a table is: its name, its columns and its row key. */
export interface TableShape {
  name: string;
  columns: ColumnSpec[];
  key: string[];
}

/**
 * SHA-256 (hex) of the JSON text, without spaces, of every table sorted by name as
 * `{name, columns, key}`: columns sorted by name as `{name, type, list, nullable,
 * nativeType}`, the key in its order. Names sort by UTF-16 code units (docs/FORMAT.md).
 */
export function dataModelFingerprint(tables: TableShape[]): string {
  const canonical = [...tables].sort(byName).map((table) => ({
    name: table.name,
    columns: [...table.columns]
      .sort(byName)
      .map(({ name, type, list, nullable, nativeType }) => ({ name, type, list, nullable, nativeType })),
    key: table.key,
  }));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/**
 * How the backup's tables differ from the target's, one phrase each. `leftOut` names the
 * tables the backup knows by name only (the media tables of a config-only backup).
 */
export function dataModelDifferences(backup: TableShape[], leftOut: string[], target: TableShape[]): string[] {
  const differences: string[] = [];
  const inTarget = new Map(target.map((table) => [table.name, table]));
  const inBackup = new Set([...backup.map((table) => table.name), ...leftOut]);
  for (const name of [...inBackup].sort()) if (!inTarget.has(name)) differences.push(`table ${name} is only in the backup`);
  for (const table of target) if (!inBackup.has(table.name)) differences.push(`table ${table.name} is only in this target`);
  for (const archived of backup) {
    const current = inTarget.get(archived.name);
    if (current) differences.push(...tableDifferences(archived, current));
  }
  return differences;
}

function tableDifferences(archived: TableShape, current: TableShape): string[] {
  const differences: string[] = [];
  const currentColumns = new Map(current.columns.map((column) => [column.name, column]));
  const archivedNames = new Set(archived.columns.map((column) => column.name));
  for (const column of archived.columns) {
    const now = currentColumns.get(column.name);
    if (!now) differences.push(`column ${archived.name}.${column.name} is only in the backup`);
    else if (describe(now) !== describe(column)) {
      differences.push(`column ${archived.name}.${column.name} is ${describe(column)} in the backup, ${describe(now)} in this target`);
    }
  }
  for (const column of current.columns) {
    if (!archivedNames.has(column.name)) differences.push(`column ${current.name}.${column.name} is only in this target`);
  }
  if (JSON.stringify(archived.key) !== JSON.stringify(current.key)) {
    differences.push(
      `the key of ${current.name} is (${archived.key.join(', ')}) in the backup, (${current.key.join(', ')}) in this target`,
    );
  }
  return differences;
}

/**
 * What keeps a backup's tables from loading into the target's as they are, one phrase each:
 * a table or column with no home here, another Prisma type or list-ness, or an optional
 * column whose nulls a required one cannot take (a required one into an optional one is
 * fine). Native types are not compared: each database has its own. With `sameFields`, the
 * target's tables and columns the backup lacks count too (tables in `leftOut` aside).
 */
export function loadDifferences(backup: TableShape[], leftOut: string[], target: TableShape[], sameFields: boolean): string[] {
  const differences: string[] = [];
  const inTarget = new Map(target.map((table) => [table.name, table]));
  const inBackup = new Set([...backup.map((table) => table.name), ...leftOut]);
  for (const archived of backup) {
    const current = inTarget.get(archived.name);
    if (!current) {
      differences.push(`table ${archived.name} is only in the backup`);
      continue;
    }
    const currentColumns = new Map(current.columns.map((column) => [column.name, column]));
    for (const column of archived.columns) {
      const now = currentColumns.get(column.name);
      if (!now) differences.push(`column ${archived.name}.${column.name} is only in the backup`);
      else if (now.type !== column.type || now.list !== column.list || (column.nullable && !now.nullable)) {
        const [was, is] = [describe(column, false), describe(now, false)];
        differences.push(`column ${archived.name}.${column.name} is ${was} in the backup, ${is} in this target`);
      }
    }
    if (!sameFields) continue;
    const archivedNames = new Set(archived.columns.map((column) => column.name));
    for (const column of current.columns) {
      if (!archivedNames.has(column.name)) differences.push(`column ${current.name}.${column.name} is only in this target`);
    }
  }
  if (sameFields) for (const table of target) if (!inBackup.has(table.name)) differences.push(`table ${table.name} is only in this target`);
  return differences;
}

/** A column's type as a schema writes it: `String?`, `Int[]`, `DateTime @db.Timestamptz` (without it, `native` false). */
function describe(column: ColumnSpec, native = true): string {
  const suffix = column.list ? '[]' : column.nullable ? '?' : '';
  return `${column.type}${suffix}${native && column.nativeType ? ` @db.${column.nativeType}` : ''}`;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
