// Each table of a database as a backup of it would hash it (its lines' SHA-256 and its row
// count), to tell which of two known states a database holds after a restore was interrupted.
import { createHash } from 'node:crypto';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { openSnapshot } from './providers.ts';

export interface TableDigest {
  name: string;
  rows: number;
  /** SHA-256 of the table's `ndjson` lines, as a backup's manifest records it; null where unknown. */
  sha256: string | null;
}

/** The SHA-256 of an empty table's lines: of nothing. */
export const EMPTY_TABLE_SHA256 = createHash('sha256').digest('hex');

/** Reads every table in one snapshot and digests it the way writeBackup does. */
export async function digestTables(location: DatabaseLocation, tables: TableSpec[]): Promise<TableDigest[]> {
  const snapshot = await openSnapshot(location);
  try {
    const digests: TableDigest[] = [];
    for (const table of tables) {
      const hash = createHash('sha256');
      let rows = 0;
      await snapshot.readTableText(table, async (text, count) => {
        rows += count;
        hash.update(text);
      });
      digests.push({ name: table.name, rows, sha256: hash.digest('hex') });
    }
    return digests;
  } finally {
    await snapshot.close();
  }
}
