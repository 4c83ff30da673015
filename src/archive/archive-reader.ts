// Reading the tar.gz container: entry by entry, or just its manifest (the writer is tar-gz-assembler.ts).
import { createGunzip, type ZlibOptions } from 'node:zlib';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { MANIFEST_ENTRY, manifestSchema, type Manifest } from './manifest.ts';

/** A manifest larger than this is not one we wrote: refuse before buffering it. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Decompressed bytes zlib may hold ready ahead of the reader (Node's zlib types omit the option). */
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

export interface TarGzReader {
  /** The entries, in archive order; each must be read or resumed before the next. */
  entries: ReturnType<typeof tarStream.extract>;
  /** Stops reading with this error: the iteration throws it. */
  fail(error: Error): void;
  /** Releases the source; safe to call at any point, and more than once. */
  close(): void;
}

/**
 * Opens a tar.gz stream for reading entry by entry. An error anywhere (the source, the
 * gzip layer, the tar layer) surfaces from the iteration. `onDecompressed` sees every
 * decompressed chunk, headers and padding included.
 */
export function openTarGz(source: Readable, onDecompressed?: (chunk: Buffer) => void): TarGzReader {
  const extract = tarStream.extract();
  // Large output pieces: each goes back to the main thread and through the tar parser, and
  // with zlib's 16 KB default that per-piece cost was a large share of reading an archive
  // (docs/PERFORMANCE.md, "Measurements behind the code"). Up to 4 MB decompressed ahead,
  // in zlib's thread, while the main thread is busy with the pieces before (or a restore
  // waits on the database).
  const gunzip = createGunzip({ chunkSize: 256 * 1024, readableHighWaterMark: READ_AHEAD_BYTES } as ZlibOptions);
  const fail = (error: Error) => extract.destroy(error);
  source.on('error', fail);
  gunzip.on('error', fail);
  if (onDecompressed) gunzip.on('data', onDecompressed);
  source.pipe(gunzip).pipe(extract);
  return {
    entries: extract,
    fail,
    close() {
      source.unpipe();
      source.destroy();
      gunzip.destroy();
      extract.destroy();
    },
  };
}

export class ManifestReadError extends Error {}

/** Reads `manifest.json`, the first entry, decompressing only as far as it. */
export async function readManifest(source: Readable): Promise<Manifest> {
  const archive = openTarGz(source);
  try {
    for await (const entry of archive.entries) {
      if (entry.header.name !== MANIFEST_ENTRY || entry.header.type !== 'file') {
        throw new ManifestReadError(`the first entry is ${JSON.stringify(entry.header.name)}, not ${MANIFEST_ENTRY}`);
      }
      if ((entry.header.size ?? 0) > MAX_MANIFEST_BYTES) throw new ManifestReadError('manifest.json is too large');
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      return parseManifest(Buffer.concat(chunks));
    }
    throw new ManifestReadError('the archive is empty');
  } catch (error) {
    if (error instanceof ManifestReadError) throw error;
    throw new ManifestReadError(`not a readable tar.gz: ${(error as Error).message}`);
  } finally {
    archive.close();
  }
}

/**
 * Objects and lists a manifest may open: a table, each of its columns, a file. Counted on the
 * bytes before JSON.parse, whose cost is in the objects it builds (megabytes of `{}` would
 * take hundreds of MB), not in the bytes; brackets inside strings count too, which only errs
 * on the safe side.
 */
export const MAX_MANIFEST_CONTAINERS = 500_000;

export function parseManifest(bytes: Buffer): Manifest {
  let containers = 0;
  for (let i = bytes.indexOf(0x7b); i !== -1; i = bytes.indexOf(0x7b, i + 1)) containers++;
  for (let i = bytes.indexOf(0x5b); i !== -1; i = bytes.indexOf(0x5b, i + 1)) containers++;
  if (containers > MAX_MANIFEST_CONTAINERS) {
    throw new ManifestReadError(`manifest.json opens ${containers} objects and lists, more than any backup's (${MAX_MANIFEST_CONTAINERS})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ManifestReadError('manifest.json is not valid JSON');
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestReadError(`manifest.json is invalid at ${issue?.path.join('.') || 'its root'}: ${issue?.message}`);
  }
  return parsed.data;
}
