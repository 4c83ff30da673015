// Replaces a target's data in one transaction from a source of rows: an archive checked as
// it is read, or a scratch database holding an older backup brought forward by migrations.
import type { Readable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import type { DatabaseLocation, Provider } from '../prisma/database-url.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { loadDifferences } from '../target/data-model.ts';
import { readArchiveLines, readArchiveRows, rowBatches, wholeLines } from '../ndjson/archive-rows.ts';
import { ArchiveRejectedError, readCheckedArchive } from '../archive/archive-check.ts';
import type { Manifest, ManifestSequence } from '../archive/manifest.ts';
import { readTableRows, type Snapshot } from './database/snapshot.ts';
import { openTableLoader } from './providers.ts';
import type { EncodedValue } from '../ndjson/value-encoder.ts';

/** Rows per parsed batch handed to the loader: large enough to be fast, small enough to bound memory. */
const RESTORE_BATCH_ROWS = 2_000;

export class SchemaMismatchError extends Error {}

/** Where a source's rows go, table by table. */
export interface RowSink {
  rows(table: TableSpec, rows: EncodedValue[][]): Promise<void>;
  /**
   * Whole `ndjson-v1` lines as an archive holds them, for a loader that reads them
   * unparsed; absent when the loader needs parsed rows.
   */
  lines?: (table: TableSpec, lines: Buffer) => Promise<void>;
  /** The source's sequences, from a database of the given kind: set exactly when it is the target's kind. */
  sequences(provider: Provider, byTable: Map<string, ManifestSequence[]> | undefined): void;
}
/** Feeds every row of the restored data to the sink, table by table. */
export type RowSource = (sink: RowSink) => Promise<void>;

export interface ReplaceRequest {
  location: DatabaseLocation;
  /** Every table of the target: all are emptied, then filled from the source. */
  tables: TableSpec[];
  source: RowSource;
  onRows?: (table: string, rowsDone: number) => void;
  /** An abort before beforeCommit rolls the load back, throwing the signal's reason; after it, it changes nothing. */
  signal?: AbortSignal;
  /**
   * Called once every row is loaded, just before the commit; a throw rolls back. What it
   * records settles the restore if the process dies before it learns the commit's outcome.
   */
  beforeCommit?: (pending: PendingCommit) => Promise<void>;
}

/** A load about to be committed. */
export interface PendingCommit {
  /** The database's own id of the transaction, whose outcome it keeps (PostgreSQL); null where there is none (SQLite). */
  transactionId: string | null;
  /** Rows loaded per table, tables with none absent. */
  rows: Map<string, number>;
}

export async function replaceData(request: ReplaceRequest): Promise<void> {
  request.signal?.throwIfAborted();
  const loader = await openTableLoader(request.location, request.tables);
  try {
    await loader.clear(request.tables);
    let sequences: Map<string, ManifestSequence[]> | undefined;
    const done = new Map<string, number>();
    const count = (table: TableSpec, rows: number) => {
      const total = (done.get(table.name) ?? 0) + rows;
      done.set(table.name, total);
      request.onRows?.(table.name, total);
      request.signal?.throwIfAborted();
    };
    await request.source({
      async rows(table, rows) {
        await loader.insert(table, rows);
        count(table, rows.length);
      },
      lines: loader.insertLines ? async (table, lines) => count(table, await loader.insertLines!(table, lines)) : undefined,
      sequences(provider, byTable) {
        if (provider === request.location.provider) sequences = byTable;
      },
    });
    request.signal?.throwIfAborted();
    if (request.beforeCommit) await request.beforeCommit({ transactionId: (await loader.transactionId?.()) ?? null, rows: done });
    await loader.commit(request.tables, sequences);
  } catch (error) {
    await loader.rollback().catch(() => {});
    throw error;
  }
}

/** The rows of an archive already checked (checkArchive), each table matched to the target table of the same name. */
export function archiveSource(manifest: Manifest, targetTables: TableSpec[], openArchive: () => Readable): RowSource {
  const byPath = tablesByEntryPath(manifest, targetTables);
  return async (sink) => {
    sink.sequences(manifest.provider, manifestSequences(manifest));
    const { lines } = sink;
    if (lines) {
      for await (const chunk of readArchiveLines(openArchive())) {
        const spec = byPath.get(chunk.path);
        if (spec) await lines(spec, chunk.lines);
      }
      return;
    }
    for await (const batch of readArchiveRows(openArchive(), RESTORE_BATCH_ROWS)) {
      const spec = byPath.get(batch.path);
      if (spec) await sink.rows(spec, batch.rows);
    }
  };
}

export interface CheckedSourceRequest {
  /** The manifest as read before the restore began; the archive must still hold this one. */
  manifest: Manifest;
  targetTables: TableSpec[];
  openArchive: () => Readable;
  /** The archive's size as stored (the limit on how far it may decompress is set from it). */
  compressedBytes: number;
  /** Each target file's bytes, as they are read and checked (to stage them). */
  onFile?: (entryPath: string, chunks: AsyncIterable<Buffer>) => Promise<void>;
}

/**
 * The rows of an archive read once and checked as they are read (readCheckedArchive),
 * each table matched to the target table of the same name. An entry that does not match
 * its hash fails the source after its rows went to the sink, so the restore's transaction
 * rolls back.
 */
export function checkedArchiveSource(request: CheckedSourceRequest): RowSource {
  const byPath = tablesByEntryPath(request.manifest, request.targetTables);
  return async (sink) => {
    sink.sequences(request.manifest.provider, manifestSequences(request.manifest));
    await readCheckedArchive(request.openArchive(), request.compressedBytes, {
      manifest(checked) {
        if (!isDeepStrictEqual(checked, request.manifest))
          throw new ArchiveRejectedError('the archive changed after its manifest was read');
      },
      async entry(entry, chunks) {
        if (entry.table === null) {
          await request.onFile?.(entry.path, chunks);
          return;
        }
        const spec = byPath.get(entry.path)!;
        if (sink.lines) for await (const lines of wholeLines(chunks)) await sink.lines(spec, lines);
        else for await (const rows of rowBatches(chunks, RESTORE_BATCH_ROWS)) await sink.rows(spec, rows);
      },
    });
  };
}

/** Every row of the given tables, as one snapshot of another database reads them. */
export function snapshotSource(snapshot: Snapshot, tables: TableSpec[]): RowSource {
  return async (sink) => {
    for (const table of tables) await readTableRows(snapshot, table, (rows) => sink.rows(table, rows));
    sink.sequences(snapshot.provider, await snapshot.sequences(tables));
  };
}

/**
 * The archive's sequences by table (none for a table that had none). An `ndjson-v1` archive
 * predates them: the loader then moves each sequence past the largest id.
 */
function manifestSequences(manifest: Manifest): Map<string, ManifestSequence[]> | undefined {
  if (manifest.encoding === 'ndjson-v1') return undefined;
  return new Map(manifest.tables.map((table) => [table.name, table.sequences ?? []]));
}

/**
 * The archive's own description of its tables: what a scratch database at its version holds.
 * A manifest does not list enum values: an enum column takes those of the target's column of
 * the same table and name, so its rows are checked against them (row-check.ts).
 */
export function manifestTables(manifest: Manifest, targetTables: TableSpec[] = []): TableSpec[] {
  const enumValues = new Map(
    targetTables.flatMap((table) => table.columns.filter((c) => c.enumValues).map((c) => [`${table.name}.${c.name}`, c.enumValues!])),
  );
  return manifest.tables.map((table) => ({
    name: table.name,
    model: table.model,
    media: table.media,
    columns: table.columns.map((column) => {
      const values = column.type === 'Enum' ? enumValues.get(`${table.name}.${column.name}`) : undefined;
      return values ? { ...column, enumValues: values } : column;
    }),
    key: table.key,
    references: [],
  }));
}

/**
 * Each archived table, as the target's table of the same name with its columns in the
 * archive's order. The service refused a mismatch before the restore began (restore-refusal.ts);
 * a table or column with no home here still stops the load rather than lose its values.
 */
export function tablesByEntryPath(manifest: Manifest, targetTables: TableSpec[]): Map<string, TableSpec> {
  const differences = loadDifferences(manifest.tables, [], targetTables, false);
  if (differences.length > 0) throw new SchemaMismatchError(`the backup does not fit the target's tables: ${differences.join('; ')}`);
  const byName = new Map(targetTables.map((table) => [table.name, table]));
  const result = new Map<string, TableSpec>();
  for (const archived of manifest.tables) {
    const target = byName.get(archived.name)!;
    const columns = new Map(target.columns.map((column) => [column.name, column]));
    result.set(archived.path, { ...target, columns: archived.columns.map((column) => columns.get(column.name)!) });
  }
  return result;
}
