// Takes a backup: one snapshot of the target's tables and its files, staged to disk,
// then written as a single tar.gz that appears in the store whole or not at all.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, Transform, type Readable } from 'node:stream';
import { BackupFailedError } from '../core/errors.ts';
import { longestLineBytes, MAX_LINE_BYTES } from '../ndjson/line-pieces.ts';
import type { ArchiveSealer } from '../archive/encryption/encrypted-archive.ts';
import type { EnvelopeHeader } from '../archive/encryption/envelope-header.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { BackupStore, WrittenArchive } from '../storage/backup-store.ts';
import type { TableSpec, TargetSchema } from '../target/target-schema.ts';
import { dataModelFingerprint } from '../target/data-model.ts';
import { requireTargetDatabase } from '../target/database-state.ts';
import { assembleTarGz, GZIP_LEVEL, type AssembledEntry } from '../archive/tar-gz-assembler.ts';
import { FORMAT_VERSION, MANIFEST_ENTRY, ROW_ENCODING, type BackupKind, type Manifest, type ManifestTable } from '../archive/manifest.ts';
import { openSnapshot } from './providers.ts';
import type { Snapshot } from './database/snapshot.ts';
import { StagedFile } from '../archive/staged-file.ts';
import { stageTargetFiles } from './stage-target-files.ts';
import { mapConcurrently } from '../util/map-concurrently.ts';

export interface BackupTarget {
  location: DatabaseLocation;
  schema: TargetSchema;
  /** Files and folders that go into every backup as they are. */
  files: string[];
  name: string;
}

export interface BackupRequest {
  target: BackupTarget;
  store: BackupStore;
  fileName: string;
  kind: BackupKind;
  includeMedia: boolean;
  note: string | null;
  createdAt: Date;
  appVersion: string;
  /** A private folder for intermediate files; removed when the backup ends. */
  scratchDir: string;
  /** Each table once read whole: its rows. */
  onTable?: (table: string, rows: number) => void;
  /** While a table is read, after each page: its rows and bytes of row text so far. */
  onRows?: (table: string, rows: number, bytes: number) => void;
  /** While the archive is written to the store: its bytes so far. */
  onWritten?: (bytes: number) => void;
  /** Stops the backup (throwing the signal's reason) while tables are read or the archive is written; nothing is stored. */
  signal?: AbortSignal;
  /** Encrypts the archive (`….tar.gz.enc`); the key is already derived. */
  sealer?: ArchiveSealer;
}

export interface BackupResult {
  manifest: Manifest;
  archive: WrittenArchive;
  /** The header of an encrypted archive, as written; null for a plain one. */
  envelope: EnvelopeHeader | null;
}

export async function writeBackup(request: BackupRequest): Promise<BackupResult> {
  // A target a restore has yet to create: one clear refusal, not the database's error for a missing file or table.
  await requireTargetDatabase(request.target.location);
  request.signal?.throwIfAborted();
  const staging = path.join(request.scratchDir, `backup-${randomBytes(6).toString('hex')}`);
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    const included = request.target.schema.tables.filter((table) => request.includeMedia || !table.media);
    const excluded = request.target.schema.tables.filter((table) => !included.includes(table)).map((t) => t.name);
    const { tables, migrations } = await stageTables(request, included, staging);
    const targetFiles = await stageTargetFiles(request.target.files, staging);
    request.signal?.throwIfAborted();
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      generator: 'backup-control-plane',
      appVersion: request.appVersion,
      createdAt: request.createdAt.toISOString(),
      kind: request.kind,
      targetName: request.target.name,
      note: request.note,
      includesMedia: request.includeMedia,
      provider: request.target.schema.provider,
      schemaVersion: migrations.at(-1) ?? null,
      migrations,
      dataModel: { fingerprint: dataModelFingerprint(request.target.schema.tables) },
      encoding: ROW_ENCODING,
      tables: tables.map(({ stagedPath: _, ...table }) => table),
      excludedTables: excluded,
      fileRoots: targetFiles.roots,
      files: targetFiles.files.map(({ stagedPath: _, ...file }) => file),
    };
    const date = request.createdAt;
    const entries: AssembledEntry[] = [
      { name: MANIFEST_ENTRY, content: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), date },
      ...tables.map((table) => ({ name: table.path, gzipPath: table.stagedPath, size: table.bytes, date })),
      ...targetFiles.files.map((file) => ({ name: file.path, filePath: file.stagedPath, size: file.size, mode: file.mode, date })),
    ];
    const tarGz = assembleTarGz(entries);
    const sealed = request.sealer?.seal(tarGz) ?? null;
    const archive = await request.store.write(request.fileName, watched(sealed?.stream ?? tarGz, request)).catch((error: unknown) => {
      request.signal?.throwIfAborted();
      throw error;
    });
    return { manifest, archive, envelope: sealed?.header ?? null };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Reads every included table inside one snapshot, each into its own staged file; as many
 * tables at once as the snapshot has readers (two, each on its own connection sharing the
 * snapshot, as `pg_dump -j` does), the largest first.
 */
async function stageTables(request: BackupRequest, tables: TableSpec[], staging: string) {
  const snapshot = await openSnapshot(request.target.location, { parallel: true });
  try {
    const migrations = await snapshot.appliedMigrations();
    await mkdir(path.join(staging, 'db'));
    const sizes = await snapshot.sizes(tables);
    const largestFirst = [...tables].sort((a, b) => (sizes.get(b.name) ?? 0) - (sizes.get(a.name) ?? 0));
    const staged = await mapConcurrently(largestFirst, snapshot.readers, (table) => stageTable(snapshot, table, staging, request));
    // Read after the rows, as pg_dump does: a PostgreSQL sequence is outside the snapshot, and
    // read last it is at least as far on as any id the rows hold.
    const sequences = await snapshot.sequences(tables);
    // The archive keeps the schema's order, whatever order the tables were read in.
    const inSchemaOrder = tables.map((table) => staged[largestFirst.indexOf(table)]!);
    return {
      tables: inSchemaOrder.map((table) => (sequences.has(table.name) ? { ...table, sequences: sequences.get(table.name) } : table)),
      migrations,
    };
  } finally {
    await snapshot.close();
  }
}

async function stageTable(
  snapshot: Snapshot,
  table: TableSpec,
  staging: string,
  { onTable, onRows, signal }: BackupRequest,
): Promise<ManifestTable & { stagedPath: string }> {
  const entryPath = `db/${safeEntryName(table.name)}.ndjson`;
  // Compressed as it is read: zlib works in its thread pool while the next page is read.
  const file = new StagedFile(path.join(staging, `${entryPath}.gz`), { gzipLevel: GZIP_LEVEL });
  let rows = 0;
  let bytes = 0;
  try {
    await snapshot.readTableText(table, async (text, count) => {
      signal?.throwIfAborted();
      rows += count;
      bytes += text.length;
      onRows?.(table.name, rows, bytes);
      // A row no restore would read (line-pieces.ts) fails the backup now, not the restore later.
      if (text.length * 3 > MAX_LINE_BYTES && longestLineBytes(text) > MAX_LINE_BYTES) {
        throw new BackupFailedError(`table ${table.name} has a row over ${MAX_LINE_BYTES} bytes, more than a restore can read`);
      }
      await file.write(text);
    });
  } catch (error) {
    file.destroy();
    throw error;
  }
  const summary = await file.finish();
  onTable?.(table.name, rows);
  return {
    name: table.name,
    model: table.model,
    media: table.media,
    path: entryPath,
    rows,
    bytes: summary.bytes,
    sha256: summary.sha256,
    key: table.key,
    // What the manifest says of a column is its shape; the enum's values are the schema's business.
    columns: table.columns.map(({ enumValues: _, ...column }) => column),
    stagedPath: file.path,
  };
}

/**
 * The archive on its way to the store, counted; an abort destroys it, so the store's write
 * fails and keeps nothing (BackupStore.write appears whole or not at all).
 */
function watched(archive: Readable, { onWritten, signal }: BackupRequest): Readable {
  let written = 0;
  const counted = onWritten
    ? archive.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            written += chunk.length;
            onWritten(written);
            done(null, chunk);
          },
        }),
      )
    : archive;
  if (counted !== archive) {
    archive.on('error', (error) => counted.destroy(error));
    counted.on('close', () => archive.destroy());
  }
  return signal ? addAbortSignal(signal, counted) : counted;
}

/** Table names become file names: anything beyond letters, digits, `_`, `-` and `.` is escaped. */
function safeEntryName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/^\./, '%2e');
}
