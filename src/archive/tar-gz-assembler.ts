// Assembles a tar.gz from parts, some of them compressed already: gzip allows a file to be
// several members one after another (gunzip, tar -xz and zlib read them as one stream), so a
// table's data, compressed off the main thread while it was read, is copied in as it is.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import { encodeFileHeader, endOfArchive, padding } from './tar-header.ts';

/**
 * Level 4, not zlib's default 6 (what pg_dump and gzip use): once the databases write the
 * lines themselves, compression is most of a backup's CPU time, and level 4 gives a
 * slightly larger archive in much less of it, still in line with `sqlite3 .dump | gzip`
 * and `pg_dump -Fc` (docs/PERFORMANCE.md, "Measurements behind the code").
 */
export const GZIP_LEVEL = 4;

const gzipAsync = promisify(gzip);

export type AssembledEntry = { name: string; mode?: number; date: Date } & (
  | { content: Buffer }
  /** A plain file on disk, compressed as it is copied in. */
  | { filePath: string; size: number }
  /** Data already compressed (one or more gzip members) that decompresses to `size` bytes. */
  | { gzipPath: string; size: number }
);

/** Streams the archive: entries in order, then the end-of-archive blocks. */
export function assembleTarGz(entries: AssembledEntry[]): Readable {
  return Readable.from(members(entries), { objectMode: false });
}

/** Only headers, the manifest, padding and plain files are compressed here; gzip parts go in as they are. */
async function* members(entries: AssembledEntry[]): AsyncGenerator<Buffer> {
  // Uncompressed tar bytes waiting to go out as the next small member.
  let pending: Buffer[] = [];
  const flush = async () => {
    const member = await gzipAsync(Buffer.concat(pending), { level: GZIP_LEVEL });
    pending = [];
    return member;
  };
  for (const entry of entries) {
    const size = 'content' in entry ? entry.content.length : entry.size;
    pending.push(encodeFileHeader({ name: entry.name, size, mode: entry.mode ?? 0o644, date: entry.date }));
    if ('content' in entry) {
      pending.push(entry.content);
    } else {
      yield await flush();
      if ('gzipPath' in entry) yield* readChunks(createReadStream(entry.gzipPath));
      else yield* readChunks(compressFile(entry.filePath));
    }
    pending.push(padding(size));
  }
  pending.push(endOfArchive());
  yield await flush();
}

async function* readChunks(stream: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of stream) yield chunk as Buffer;
}

function compressFile(filePath: string): Readable {
  const source = createReadStream(filePath);
  const compressed = createGzip({ level: GZIP_LEVEL });
  source.on('error', (error) => compressed.destroy(error));
  return source.pipe(compressed);
}
