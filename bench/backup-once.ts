// A child of bench/run.ts, run under /usr/bin/time so that its peak memory is the kernel's figure
// for this process alone: one full backup (media included, gzip) of the target the environment
// names, exactly as the engine writes it, into the folder given. Prints one JSON line on stdout.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveSealer } from '../src/archive/encryption/encrypted-archive.ts';
import { backupFileName } from '../src/archive/archive-name.ts';
import { writeBackup } from '../src/engine/backup.ts';
import { LocalFolderStore } from '../src/storage/local-folder-store.ts';
import { APP_VERSION } from '../src/core/version.ts';
import { setUpChild } from './child-setup.ts';

const USAGE = 'usage: node dist/bench/backup-once.js <output folder> (after npm run build)';
const { argument: outDir, passphrase, started, config, target } = await setUpChild(USAGE);
// With BENCH_PASSPHRASE set, encrypted the way BackupService.create does it: the key is
// derived first (ArchiveSealer.create, timed here as part of the operation), then writeBackup seals.
const keyStarted = performance.now();
const sealer = passphrase === null ? undefined : await ArchiveSealer.create(passphrase);
const keyMs = sealer ? performance.now() - keyStarted : 0;
const createdAt = new Date();
const fileName = backupFileName(target.name, createdAt, 'manual', sealer !== undefined);
const scratchDir = path.join(config.dataDir, 'tmp');
await mkdir(scratchDir, { recursive: true });
try {
  // Without what BackupService.create adds around writeBackup: the control database's run
  // record and the free-space check (a few milliseconds).
  const { manifest, archive } = await writeBackup({
    sealer,
    target,
    store: new LocalFolderStore(path.resolve(outDir)),
    fileName,
    kind: 'manual',
    includeMedia: true,
    note: null,
    createdAt,
    appVersion: APP_VERSION,
    scratchDir,
  });
  const rows = manifest.tables.reduce((sum, table) => sum + table.rows, 0);
  const result = {
    archive: path.join(path.resolve(outDir), fileName),
    archiveBytes: archive.sizeBytes,
    rows,
    tables: manifest.tables.map((table) => ({ name: table.name, rows: table.rows, sha256: table.sha256 })),
    operationMs: performance.now() - started,
    /** scrypt: a fixed cost per archive, whatever its size (0 without encryption). */
    keyMs,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
} finally {
  await rm(scratchDir, { recursive: true, force: true });
}
