// Verifies a backup without touching the target: checks the archive (every hash, size and
// entry) and refuses what a restore would, then restores it into a scratch database of the
// target's kind, read back and compared with the archive table by table.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DatabaseLocation, Provider } from '../prisma/database-url.ts';
import type { SchemaFile } from '../prisma/schema-files.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { ArchiveRejectedError, checkArchive } from '../archive/archive-check.ts';
import type { Manifest } from '../archive/manifest.ts';
import { readArchiveRows } from '../ndjson/archive-rows.ts';
import { readTableRows } from './database/snapshot.ts';
import { withBackupInScratch } from './forward-migration.ts';
import { HeldRowsDigest } from './held-values.ts';
import { manifestTables, tablesByEntryPath } from './restore.ts';
import { restoreRefusal, type RefusalTarget } from './restore-refusal.ts';
import { openSnapshot } from './providers.ts';

export interface TableVerification {
  name: string;
  expectedRows: number;
  restoredRows: number | null;
  /** The restored table read back gives the archive's bytes (a backup from the target's kind of database); null if not compared. */
  hashMatches: boolean | null;
  /** The restored values are the archive's, as the target holds them (a backup from the other kind); null if not compared. */
  valuesMatch: boolean | null;
}

export interface VerifyReport {
  ok: boolean;
  problems: string[];
  /** Whether the rows were restored into a scratch database (not only hashed). */
  restored: boolean;
  tables: TableVerification[];
  /** How the restored rows were compared, where that is not by their hashes. */
  notes: string[];
}

export interface VerifyRequest {
  openArchive: () => Readable;
  /** A reason the checked manifest does not belong to this backup (an encrypted archive's header disagrees). */
  manifestProblem?: (manifest: Manifest) => string | null;
  compressedBytes: number;
  target: RefusalTarget & { location: DatabaseLocation; schemaFiles: SchemaFile[] };
  scratchDir: string;
}

/** Rows per parsed batch read from the archive for comparing values. */
const COMPARE_BATCH_ROWS = 2_000;

/**
 * Checks the archive, refuses what the restore would refuse (restore-refusal.ts), then
 * restores into a scratch database of the target's kind and compares each table: its
 * bytes with the manifest's hash for a backup of the same kind of database, its values as
 * the target holds them for one of the other kind.
 */
export async function verifyBackup(request: VerifyRequest): Promise<VerifyReport> {
  const refused = (problem: string): VerifyReport => ({ ok: false, problems: [problem], restored: false, tables: [], notes: [] });
  let manifest: Manifest;
  try {
    manifest = (await checkArchive(request.openArchive(), request.compressedBytes)).manifest;
  } catch (error) {
    if (!(error instanceof ArchiveRejectedError)) throw error;
    return refused(error.message);
  }
  const mismatch = request.manifestProblem?.(manifest) ?? null;
  if (mismatch) return refused(mismatch);
  const refusal = restoreRefusal(manifest, manifest, request.target);
  if (refusal) return refused(refusal.message);
  const tables: TableVerification[] = manifest.tables.map((t) => ({
    name: t.name,
    expectedRows: t.rows,
    restoredRows: null,
    hashMatches: null,
    valuesMatch: null,
  }));
  const provider = request.target.location.provider;
  const crossProvider = manifest.provider !== provider;
  const notes = crossProvider
    ? [
        `the backup is from ${manifest.provider}: restored into ${provider} with this target's schema, each table's row count and values ` +
          `compared as ${provider} holds them (the archive's hashes are of ${manifest.provider}'s lines, which ${provider} does not give back)`,
      ]
    : [];
  const problems: string[] = [];
  try {
    await withBackupInScratch({ ...request, manifest }, async (scratch) => {
      const specs = tablesByEntryPath(manifest, crossProvider ? request.target.tables : manifestTables(manifest, request.target.tables));
      const expected = crossProvider ? await archiveDigests(request.openArchive, specs, provider) : null;
      const snapshot = await openSnapshot(scratch.location);
      try {
        for (const [index, archived] of manifest.tables.entries()) {
          const table = specs.get(archived.path)!;
          const check = tables[index]!;
          const hash = createHash('sha256');
          const held = new HeldRowsDigest(table.columns, provider);
          let rows = 0;
          if (expected) await readTableRows(snapshot, table, async (page) => held.add(page));
          else {
            await snapshot.readTableText(table, async (text, count) => {
              rows += count;
              hash.update(text);
            });
          }
          check.restoredRows = expected ? held.rows : rows;
          if (expected) check.valuesMatch = held.value === expected.get(archived.path)!.value;
          else check.hashMatches = hash.digest('hex') === archived.sha256;
          if (check.restoredRows !== check.expectedRows) {
            problems.push(`${table.name}: ${check.restoredRows} rows restored, ${check.expectedRows} in the manifest`);
          } else if (check.hashMatches === false || check.valuesMatch === false) {
            problems.push(`${table.name}: the restored rows differ from the archived ones`);
          }
        }
      } finally {
        await snapshot.close();
      }
    });
  } catch (error) {
    problems.push(`the restore into a scratch database failed: ${(error as Error).message}`);
  }
  return { ok: problems.length === 0, problems, restored: true, tables, notes };
}

/** Each table's archived rows, as the target's kind of database holds them. */
async function archiveDigests(
  openArchive: () => Readable,
  specs: Map<string, TableSpec>,
  provider: Provider,
): Promise<Map<string, HeldRowsDigest>> {
  const digests = new Map([...specs].map(([path, spec]) => [path, new HeldRowsDigest(spec.columns, provider)]));
  for await (const batch of readArchiveRows(openArchive(), COMPARE_BATCH_ROWS)) digests.get(batch.path)?.add(batch.rows);
  return digests;
}
