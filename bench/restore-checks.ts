// The untimed checks after every restore: each table holds the rows the manifest lists, and
// the product's restores hold every table's lines byte for byte as the archive restored.
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Provider } from '../src/prisma/database-url.ts';
import { BenchError } from './bench-error.ts';
import { countRows } from './databases.ts';
import { measureProductBackup } from './product.ts';

export async function checkRestored(
  label: string,
  provider: Provider,
  where: string,
  expected: { name: string; rows: number }[],
): Promise<void> {
  const counts = await countRows(
    provider,
    where,
    expected.map((t) => t.name),
  );
  for (const table of expected) {
    if (counts.get(table.name) !== table.rows) {
      throw new BenchError(`${label} left ${counts.get(table.name)} rows in ${table.name}, the backup has ${table.rows}`);
    }
  }
}

/**
 * Untimed: backs the restored database up again, which must give every table's lines
 * byte for byte (the same SHA-256) as the archive restored; row counts alone would miss
 * a changed value.
 */
export async function checkSameContent(work: string, env: NodeJS.ProcessEnv, expected: { name: string; sha256: string }[]): Promise<void> {
  // A folder of its own: two checks within one second would pick the same archive name.
  const checkDir = await mkdtemp(path.join(work, 'check-'));
  const again = await measureProductBackup('product backup of the restored data (check)', work, checkDir, env);
  await rm(checkDir, { recursive: true, force: true });
  const byName = new Map(again.written.tables.map((table) => [table.name, table.sha256]));
  for (const table of expected) {
    if (byName.get(table.name) !== table.sha256) throw new BenchError(`the product restore changed the content of ${table.name}`);
  }
}
