// Checks an archive completely: the manifest against the entries, every entry against the
// entry policy, every byte against its SHA-256. Reading stops at the first problem.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { MAX_MANIFEST_BYTES, ManifestReadError, openTarGz, parseManifest } from './archive-reader.ts';
import { MANIFEST_ENTRY, type Manifest } from './manifest.ts';

export class ArchiveRejectedError extends Error {}

export interface CheckLimits {
  /** Most entries an archive may hold besides the manifest. */
  maxEntries: number;
  /** Most bytes the manifest may declare in all, decompressed. */
  maxDeclaredBytes: number;
  /** Most decompressed bytes per compressed byte: far above what real data reaches. */
  maxExpansionRatio: number;
}

export const DEFAULT_CHECK_LIMITS: CheckLimits = {
  maxEntries: 1_000_000,
  maxDeclaredBytes: 1024 ** 4,
  maxExpansionRatio: 2_000,
};

/** Tar headers and padding: at most two 512-byte blocks per entry. */
const TAR_OVERHEAD_PER_ENTRY = 1024;
/** The end-of-archive blocks, padded to a record (GNU tar pads to 10 KiB). */
const TAR_END_SLACK = 64 * 1024;

export interface CheckedArchive {
  manifest: Manifest;
  /** Rows counted in each table entry, by table name. */
  rows: Map<string, number>;
}

/** What a visitor is told of an entry besides its bytes. */
export interface CheckedEntry {
  /** The entry path, as the manifest names it. */
  path: string;
  /** The table this entry holds, or null for a target file. */
  table: string | null;
}

/**
 * Sees the manifest first, then each entry's bytes as they are read. An entry's SHA-256
 * and row count are compared once its last byte is read: an entry that does not match
 * fails the read after its visitor has seen it all.
 */
export interface ArchiveVisitor {
  /** Sees the parsed manifest before any entry; throwing stops the read with that error. */
  manifest?(manifest: Manifest): void | Promise<void>;
  /** Reads one entry's bytes (what it leaves unread is still hashed); throwing stops the read. */
  entry?(entry: CheckedEntry, chunks: AsyncIterable<Buffer>): Promise<void>;
}

interface Expected {
  bytes: number;
  sha256: string;
  rows: number | null;
  table: string | null;
}

/**
 * Reads the whole archive and resolves only if everything checks out; otherwise rejects
 * with ArchiveRejectedError saying what is wrong. `compressedBytes` is the archive's size.
 */
export function checkArchive(
  source: Readable,
  compressedBytes: number,
  limits: CheckLimits = DEFAULT_CHECK_LIMITS,
): Promise<CheckedArchive> {
  return readCheckedArchive(source, compressedBytes, {}, limits);
}

/**
 * Reads the whole archive once, checking it as checkArchive does, and hands each entry to
 * the visitor. A restore loads each entry this way while it is checked, in the one pass,
 * and treats what it loaded as unchecked (inside its transaction) until the pass succeeds.
 */
export async function readCheckedArchive(
  source: Readable,
  compressedBytes: number,
  visitor: ArchiveVisitor,
  limits: CheckLimits = DEFAULT_CHECK_LIMITS,
): Promise<CheckedArchive> {
  let manifest: Manifest | null = null;
  let expected = new Map<string, Expected>();
  const rows = new Map<string, number>();
  let decompressed = 0;
  let budget = Number.POSITIVE_INFINITY;
  // Every decompressed byte counts, padding and trailing data included, against what the
  // manifest declares, so a gzip bomb is refused early: until the manifest is read, only a
  // manifest's worth is allowed.
  let rawLimit = MAX_MANIFEST_BYTES + 64 * 1024;
  let raw = 0;
  const archive = openTarGz(source, (chunk) => {
    raw += chunk.length;
    if (raw > rawLimit) archive.fail(new ArchiveRejectedError('the archive decompresses to more than its manifest declares'));
  });
  try {
    for await (const entry of archive.entries) {
      const { name, type, size = 0 } = entry.header;
      if (!manifest) {
        if (name !== MANIFEST_ENTRY || type !== 'file')
          throw new ArchiveRejectedError(`the first entry is ${JSON.stringify(name)}, not ${MANIFEST_ENTRY}`);
        if (size > MAX_MANIFEST_BYTES) throw new ArchiveRejectedError('manifest.json is too large');
        manifest = parseManifest(await readAll(entry));
        expected = expectedEntries(manifest);
        const declared = [...expected.values()].reduce((sum, e) => sum + e.bytes, 0);
        if (expected.size > limits.maxEntries)
          throw new ArchiveRejectedError(`the manifest lists ${expected.size} entries, more than ${limits.maxEntries}`);
        if (declared > limits.maxDeclaredBytes)
          throw new ArchiveRejectedError(`the manifest declares ${declared} bytes, more than ${limits.maxDeclaredBytes}`);
        if (declared > compressedBytes * limits.maxExpansionRatio + MAX_MANIFEST_BYTES) {
          throw new ArchiveRejectedError(`the manifest declares ${declared} bytes for a ${compressedBytes}-byte archive: not plausible`);
        }
        budget = declared;
        rawLimit = MAX_MANIFEST_BYTES + declared + (expected.size + 1) * TAR_OVERHEAD_PER_ENTRY + TAR_END_SLACK;
        await visiting(async () => visitor.manifest?.(manifest!));
        continue;
      }
      checkEntryName(name);
      if (type !== 'file') throw new ArchiveRejectedError(`entry ${JSON.stringify(name)} is a ${type}; only regular files are allowed`);
      const want = expected.get(name);
      if (!want) throw new ArchiveRejectedError(`entry ${JSON.stringify(name)} is not in the manifest, or appears twice`);
      expected.delete(name);
      if (size !== want.bytes) throw new ArchiveRejectedError(`entry ${name} is ${size} bytes; the manifest says ${want.bytes}`);
      decompressed += size;
      if (decompressed > budget) throw new ArchiveRejectedError('the archive holds more data than its manifest declares');
      const visit =
        visitor.entry && ((chunks: AsyncIterable<Buffer>) => visiting(() => visitor.entry!({ path: name, table: want.table }, chunks)));
      const { sha256, lines } = await digest(entry, want.rows !== null, visit);
      if (sha256 !== want.sha256) throw new ArchiveRejectedError(`entry ${name} does not match its SHA-256 in the manifest`);
      if (want.table !== null) {
        if (lines !== want.rows) throw new ArchiveRejectedError(`table ${want.table} holds ${lines} rows; the manifest says ${want.rows}`);
        rows.set(want.table, lines);
      }
    }
  } catch (thrown) {
    let error = thrown;
    // The visitor's own failure goes up as it is; the archive's, met while the visitor read, as the archive's.
    if (error instanceof VisitorError) {
      if (!(error.cause instanceof ReadFailure)) throw error.cause;
      error = error.cause;
    }
    if (error instanceof ReadFailure) error = error.cause;
    if (error instanceof ArchiveRejectedError) throw error;
    if (error instanceof ManifestReadError) throw new ArchiveRejectedError(error.message);
    throw new ArchiveRejectedError(`the archive cannot be read: ${(error as Error).message}`);
  } finally {
    archive.close();
  }
  if (!manifest) throw new ArchiveRejectedError('the archive is empty');
  if (expected.size > 0)
    throw new ArchiveRejectedError(`the archive lacks ${[...expected.keys()].slice(0, 3).join(', ')}${expected.size > 3 ? ', …' : ''}`);
  return { manifest, rows };
}

function expectedEntries(manifest: Manifest): Map<string, Expected> {
  const expected = new Map<string, Expected>();
  const add = (path: string, entry: Expected, prefix: string) => {
    checkEntryName(path);
    if (!path.startsWith(prefix)) throw new ArchiveRejectedError(`manifest path ${JSON.stringify(path)} is outside ${prefix}`);
    if (expected.has(path)) throw new ArchiveRejectedError(`manifest lists ${path} twice`);
    expected.set(path, entry);
  };
  for (const table of manifest.tables)
    add(table.path, { bytes: table.bytes, sha256: table.sha256, rows: table.rows, table: table.name }, 'db/');
  for (const file of manifest.files) add(file.path, { bytes: file.size, sha256: file.sha256, rows: null, table: null }, 'files/');
  return expected;
}

/** Plain relative paths only: no absolute paths, no `..`, no empty or `.` segments, no backslashes. */
export function checkEntryName(name: string): void {
  const segments = name.split('/');
  const safe =
    name.length > 0 &&
    name.length <= 1024 &&
    !name.startsWith('/') &&
    !/[\\\0]/.test(name) &&
    segments.every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!safe) throw new ArchiveRejectedError(`entry name ${JSON.stringify(name)} is not a plain relative path`);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A visitor's own failure (the database refusing a row, say): it goes up as it is, not as a damaged archive. */
class VisitorError extends Error {
  constructor(override readonly cause: unknown) {
    super('the archive visitor failed');
  }
}

/** The archive's failure (bad gzip, a bomb refused), met while a visitor was reading an entry. */
class ReadFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('reading the archive failed');
  }
}

async function visiting(visit: () => unknown): Promise<void> {
  try {
    await visit();
  } catch (error) {
    throw new VisitorError(error);
  }
}

/**
 * Hashes an entry and counts its lines while the visitor (if any) reads it; whatever the
 * visitor leaves unread is read here, so the hash always covers the whole entry.
 */
async function digest(
  stream: AsyncIterable<unknown>,
  countLines: boolean,
  visit?: (chunks: AsyncIterable<Buffer>) => Promise<void>,
): Promise<{ sha256: string; lines: number }> {
  const hash = createHash('sha256');
  let lines = 0;
  const iterator = stream[Symbol.asyncIterator]();
  const next = async (): Promise<Buffer | null> => {
    let step: IteratorResult<unknown>;
    try {
      step = await iterator.next();
    } catch (error) {
      throw new ReadFailure(error);
    }
    if (step.done) return null;
    const buffer = step.value as Buffer;
    hash.update(buffer);
    if (countLines) for (let i = buffer.indexOf(10); i !== -1; i = buffer.indexOf(10, i + 1)) lines++;
    return buffer;
  };
  if (visit) {
    const chunks: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          const buffer = await next();
          return buffer === null ? { done: true, value: undefined } : { done: false, value: buffer };
        },
      }),
    };
    await visit(chunks);
  }
  while ((await next()) !== null);
  return { sha256: hash.digest('hex'), lines };
}
