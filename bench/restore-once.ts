// A child of bench/run.ts, run under /usr/bin/time: one restore of an archive into the target the
// environment names (an empty database already migrated to the archive's schema), the way
// RestoreService.run does it for a backup of the current schema. Prints one JSON line on stdout.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { metadataMismatch, unlockArchive } from '../src/archive/encryption/encrypted-archive.ts';
import { readManifest } from '../src/archive/archive-reader.ts';
import type { Manifest } from '../src/archive/manifest.ts';
import { checkedArchiveSource, replaceData } from '../src/engine/restore.ts';
import { setUpChild } from './child-setup.ts';

const USAGE = 'usage: node dist/bench/restore-once.js <archive.tar.gz[.enc]> (after npm run build)';
const { argument: archivePath, passphrase, started, target } = await setUpChild(USAGE);
const { size } = await stat(archivePath);
const read = () => createReadStream(archivePath);
let open: () => Readable = read;
let manifestProblem = (_manifest: Manifest): string | null => null;
let keyMs = 0;
// With BENCH_PASSPHRASE set the archive is an encrypted one, opened as BackupService.access
// does (header read, key derived and checked once) and decrypted as it is read; the manifest
// must agree with the header's public metadata, where it has any (BCPCRYPT, not age).
if (passphrase !== null) {
  const keyStarted = performance.now();
  const unlocked = await unlockArchive(read, passphrase);
  keyMs = performance.now() - keyStarted;
  open = () => unlocked.open();
  manifestProblem = (manifest) => metadataMismatch(unlocked.header.metadata, manifest);
}
// The manifest first, then replaceData loads every table in one transaction from a single pass
// that checks every byte against its hash as it goes (checkedArchiveSource). Not here: what a
// restore through the API adds around these two steps (the pre-restore safety backup, of an
// empty database here; staging the target files, two small files; the progress events).
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
