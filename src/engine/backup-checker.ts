// Checks a backup end to end without touching the target: every hash in the archive, then
// a restore into a scratch database of the backup's kind, read back and compared with the
// manifest table by table.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createAdapterFactory } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { applyMigrations } from '../prisma/schema-engine.ts';
import type { SchemaFile } from '../prisma/schema-files.ts';
import { ArchiveRejectedError, verifyArchive } from './archive-verifier.ts';
import type { Manifest } from './manifest.ts';
import { archiveSource, manifestTables, replaceData } from './restore-writer.ts';
import { createScratchDatabase } from './scratch-database.ts';
import { openSnapshot } from './snapshot.ts';

export interface TableCheck {
  name: string;
  expectedRows: number;
  restoredRows: number | null;
  hashMatches: boolean | null;
}

export interface CheckReport {
  ok: boolean;
  problems: string[];
  /** Whether the rows were restored into a scratch database (not only hashed). */
  restored: boolean;
  tables: TableCheck[];
}

export interface CheckRequest {
  openArchive: () => Readable;
  compressedBytes: number;
  target: { location: DatabaseLocation; schemaFiles: SchemaFile[]; migrationsDir: string };
  scratchDir: string;
}

export async function checkBackup(request: CheckRequest): Promise<CheckReport> {
  let manifest: Manifest;
  try {
    manifest = (await verifyArchive(request.openArchive(), request.compressedBytes)).manifest;
  } catch (error) {
    if (!(error instanceof ArchiveRejectedError)) throw error;
    return { ok: false, problems: [error.message], restored: false, tables: [] };
  }
  const tables: TableCheck[] = manifest.tables.map((t) => ({ name: t.name, expectedRows: t.rows, restoredRows: null, hashMatches: null }));
  if (manifest.provider !== request.target.location.provider) {
    // The target's migrations are for its own database kind: they cannot rebuild this backup's.
    return {
      ok: true,
      problems: [`hashes checked only: the backup is from ${manifest.provider} and this target runs ${request.target.location.provider}`],
      restored: false,
      tables,
    };
  }
  const scratch = await createScratchDatabase(request.target.location, request.scratchDir);
  const handle = createAdapterFactory(scratch.location);
  const problems: string[] = [];
  try {
    await applyMigrations(request.target.schemaFiles, request.target.migrationsDir, handle.factory, { only: manifest.migrations });
    const archived = manifestTables(manifest);
    await replaceData({ location: scratch.location, tables: archived, source: archiveSource(manifest, archived, request.openArchive) });
    const snapshot = await openSnapshot(scratch.location);
    try {
      for (const [index, table] of archived.entries()) {
        const hash = createHash('sha256');
        let rows = 0;
        await snapshot.readTable(table, async (page) => {
          rows += page.length;
          for (const row of page) hash.update(JSON.stringify(row) + '\n');
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
  } catch (error) {
    problems.push(`the restore into a scratch database failed: ${(error as Error).message}`);
  } finally {
    await handle.close();
    await scratch.drop();
  }
  return { ok: problems.length === 0, problems, restored: true, tables };
}
