// Verifies a backup without touching the target: checks the archive (every hash, size and
// entry), then restores it into a scratch database of the backup's kind, read back and
// compared with the manifest table by table.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { SchemaFile } from '../prisma/schema-files.ts';
import { ArchiveRejectedError, checkArchive } from '../archive/archive-check.ts';
import type { Manifest } from '../archive/manifest.ts';
import { withBackupInScratch } from './forward-migration.ts';
import { manifestTables } from './restore.ts';
import { openSnapshot } from './providers.ts';

export interface TableVerification {
  name: string;
  expectedRows: number;
  restoredRows: number | null;
  hashMatches: boolean | null;
}

export interface VerifyReport {
  ok: boolean;
  problems: string[];
  /** Whether the rows were restored into a scratch database (not only hashed). */
  restored: boolean;
  tables: TableVerification[];
}

export interface VerifyRequest {
  openArchive: () => Readable;
  /** A reason the checked manifest does not belong to this backup (an encrypted archive's header disagrees). */
  manifestProblem?: (manifest: Manifest) => string | null;
  compressedBytes: number;
  target: { location: DatabaseLocation; schemaFiles: SchemaFile[]; migrationsDir: string | null };
  scratchDir: string;
}

export async function verifyBackup(request: VerifyRequest): Promise<VerifyReport> {
  let manifest: Manifest;
  try {
    manifest = (await checkArchive(request.openArchive(), request.compressedBytes)).manifest;
  } catch (error) {
    if (!(error instanceof ArchiveRejectedError)) throw error;
    return { ok: false, problems: [error.message], restored: false, tables: [] };
  }
  const mismatch = request.manifestProblem?.(manifest) ?? null;
  if (mismatch) return { ok: false, problems: [mismatch], restored: false, tables: [] };
  const tables: TableVerification[] = manifest.tables.map((t) => ({
    name: t.name,
    expectedRows: t.rows,
    restoredRows: null,
    hashMatches: null,
  }));
  if (manifest.provider !== request.target.location.provider) {
    // The target's migrations are for its own database kind: they cannot rebuild this backup's.
    return {
      ok: true,
      problems: [`hashes checked only: the backup is from ${manifest.provider} and this target runs ${request.target.location.provider}`],
      restored: false,
      tables,
    };
  }
  const problems: string[] = [];
  try {
    await withBackupInScratch({ ...request, manifest }, async (scratch) => {
      const snapshot = await openSnapshot(scratch.location);
      try {
        for (const [index, table] of manifestTables(manifest).entries()) {
          const hash = createHash('sha256');
          let rows = 0;
          await snapshot.readTableText(table, async (text, count) => {
            rows += count;
            hash.update(text);
          });
          const check = tables[index]!;
          check.restoredRows = rows;
          check.hashMatches = hash.digest('hex') === manifest.tables[index]!.sha256;
          if (rows !== check.expectedRows) problems.push(`${table.name}: ${rows} rows restored, ${check.expectedRows} in the manifest`);
          else if (!check.hashMatches) problems.push(`${table.name}: the restored rows differ from the archived ones`);
        }
      } finally {
        await snapshot.close();
      }
    });
  } catch (error) {
    problems.push(`the restore into a scratch database failed: ${(error as Error).message}`);
  }
  return { ok: problems.length === 0, problems, restored: true, tables };
}
