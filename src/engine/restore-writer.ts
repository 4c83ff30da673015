// Restores an archive's rows into a target database in one transaction. The archive
// must have been verified first (archive-verifier): this trusts its manifest.
import type { Readable } from 'node:stream';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { readArchiveRows } from './archive-rows.ts';
import type { Manifest } from './manifest.ts';
import { openTableLoader } from './table-loader.ts';

/** Rows per INSERT round: large enough to be fast, small enough to bound memory. */
const RESTORE_BATCH_ROWS = 2_000;

export class SchemaMismatchError extends Error {}

export interface RestoreRequest {
  location: DatabaseLocation;
  /** Every table of the target: all are emptied, those in the archive are filled. */
  targetTables: TableSpec[];
  manifest: Manifest;
  /** Opens the (verified) archive for reading its rows. */
  openArchive: () => Readable;
  onRows?: (table: string, rowsDone: number) => void;
}

export async function restoreRows(request: RestoreRequest): Promise<void> {
  const byPath = tablesByEntryPath(request.manifest, request.targetTables);
  const loader = await openTableLoader(request.location);
  try {
    await loader.clear(request.targetTables);
    const done = new Map<string, number>();
    for await (const batch of readArchiveRows(request.openArchive(), RESTORE_BATCH_ROWS)) {
      const spec = byPath.get(batch.path);
      if (!spec) continue;
      await loader.insert(spec, batch.rows);
      const rows = (done.get(spec.name) ?? 0) + batch.rows.length;
      done.set(spec.name, rows);
      request.onRows?.(spec.name, rows);
    }
    await loader.commit(request.targetTables);
  } catch (error) {
    await loader.rollback().catch(() => {});
    throw error;
  }
}

/**
 * Each archived table, described with the archive's column order, matched to the
 * target's table of the same name; a table or column the target lacks is a mismatch.
 */
function tablesByEntryPath(manifest: Manifest, targetTables: TableSpec[]): Map<string, TableSpec> {
  const byName = new Map(targetTables.map((table) => [table.name, table]));
  const result = new Map<string, TableSpec>();
  for (const archived of manifest.tables) {
    const target = byName.get(archived.name);
    if (!target) throw new SchemaMismatchError(`the target has no table ${archived.name}`);
    const targetColumns = new Set(target.columns.map((c) => c.name));
    const missing = archived.columns.find((c) => !targetColumns.has(c.name));
    if (missing) throw new SchemaMismatchError(`the target's table ${archived.name} has no column ${missing.name}`);
    result.set(archived.path, { ...target, columns: archived.columns });
  }
  return result;
}
