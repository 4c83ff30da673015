// One restore of an archive into the target the environment names (an empty database
// already migrated to the archive's schema), the way RestoreService.run does it for a
// backup of the current schema: the manifest is read first, then replaceData loads every
// table in one transaction from a single pass that checks every byte against its hash as
// it goes (checkedArchiveSource). With BENCH_PASSPHRASE set the archive is an encrypted
// one, opened as BackupService.access does (header read, key derived and checked once),
// and decrypted as it is read; the manifest must agree with the header's public
// metadata. A child of bench/run.ts, run under /usr/bin/time. Prints one JSON line on
// stdout.
// It leaves out what a restore through the API adds around these two steps: the
// pre-restore safety backup (of an empty database here), staging the target files
// (two small files), and the progress events.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { loadConfig } from '../src/core/config.ts';
import { metadataMismatch, unlockArchive } from '../src/archive/encryption/encrypted-archive.ts';
import { readManifest } from '../src/archive/archive-reader.ts';
import type { Manifest } from '../src/archive/manifest.ts';
import { checkedArchiveSource, replaceData } from '../src/engine/restore.ts';
import { loadTarget } from '../src/target/target.ts';
import { limitHeapGrowth } from '../src/util/heap-growth.ts';
import { benchPassphrase } from './bench-passphrase.ts';

const archivePath = process.argv[2];
if (!archivePath) {
  console.error('usage: node dist/bench/restore-once.js <archive.tar.gz[.enc]> (after npm run build)');
  process.exit(2);
}

// As `npm start` runs the engine (src/main.ts).
limitHeapGrowth();
const passphrase = benchPassphrase();
const started = performance.now();
const config = loadConfig();
const target = await loadTarget(config.target);
const { size } = await stat(archivePath);
const read = () => createReadStream(archivePath);
let open: () => Readable = read;
let manifestProblem = (_manifest: Manifest): string | null => null;
let keyMs = 0;
if (passphrase !== null) {
  const keyStarted = performance.now();
  const unlocked = await unlockArchive(read, passphrase);
  keyMs = performance.now() - keyStarted;
  open = () => unlocked.open();
  manifestProblem = (manifest) => metadataMismatch(unlocked.header.metadata, manifest);
}
const manifest = await readManifest(open());
const mismatch = manifestProblem(manifest);
if (mismatch) throw new Error(mismatch);
const latest = target.knownMigrations.at(-1) ?? null;
if (manifest.schemaVersion !== latest) {
  // The bench restores what it has just written: a forward migration would be a bug here.
  throw new Error(`the archive is at ${manifest.schemaVersion}, the target at ${latest}`);
}
const tables = target.schema.tables;
await replaceData({
  location: target.location,
  tables,
  source: checkedArchiveSource({ manifest, targetTables: tables, openArchive: open, compressedBytes: size }),
});
const result = {
  rows: manifest.tables.reduce((sum, table) => sum + table.rows, 0),
  operationMs: performance.now() - started,
  /** Header read and scrypt: a fixed cost per archive (0 without encryption). */
  keyMs,
};
process.stdout.write(JSON.stringify(result) + '\n');
