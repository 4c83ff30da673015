// One restore of an archive into the target the environment names (an empty database
// already migrated to the archive's schema), the way RestoreService.run does it:
// verifyArchive reads and checks every byte first, then replaceData loads every table
// from the archive in one transaction. A child of bench/run.ts, run under
// /usr/bin/time. Prints one JSON line on stdout.
// It leaves out what a restore through the API adds around these two steps: the
// pre-restore safety backup (of an empty database here), staging the target files
// (two small files), and the progress events.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { loadConfig } from '../src/config.ts';
import { verifyArchive } from '../src/engine/archive-verifier.ts';
import { archiveSource, replaceData } from '../src/engine/restore-writer.ts';
import { loadTarget } from '../src/target/target.ts';

const archivePath = process.argv[2];
if (!archivePath) {
  console.error('usage: node dist/bench/restore-once.js <archive.tar.gz> (after npm run build)');
  process.exit(2);
}

const started = performance.now();
const config = loadConfig();
const target = await loadTarget(config.target);
const { size } = await stat(archivePath);
const { manifest } = await verifyArchive(createReadStream(archivePath), size);
const latest = target.knownMigrations.at(-1) ?? null;
if (manifest.schemaVersion !== latest) {
  // The bench restores what it has just written: a forward migration would be a bug here.
  throw new Error(`the archive is at ${manifest.schemaVersion}, the target at ${latest}`);
}
const verifiedMs = performance.now() - started;
const tables = target.schema.tables;
await replaceData({ location: target.location, tables, source: archiveSource(manifest, tables, () => createReadStream(archivePath)) });
const result = {
  rows: manifest.tables.reduce((sum, table) => sum + table.rows, 0),
  verifyMs: verifiedMs,
  operationMs: performance.now() - started,
};
process.stdout.write(JSON.stringify(result) + '\n');
