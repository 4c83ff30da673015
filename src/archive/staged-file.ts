// Writes a stream of chunks to a staging file, counting bytes and hashing as it goes;
// optionally gzip-compressed on the way, in zlib's thread pool, while the caller goes on
// producing the next chunk.
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';

export interface StagedFileSummary {
  /** Bytes written by the caller (before any compression). */
  bytes: number;
  /** SHA-256 of those bytes. */
  sha256: string;
}

/**
 * Generous room for input, and output taken in large pieces: zlib hands each piece back to
 * the main thread, so with the default 16 KB the compressor sat idle whenever the main
 * thread was busy reading the next page, and reading and compressing took turns instead of
 * overlapping (docs/PERFORMANCE.md, "Measurements behind the code").
 */
const GZIP_PIPELINE = { chunkSize: 128 * 1024, writableHighWaterMark: 1024 * 1024 };

export class StagedFile {
  private readonly file: WriteStream;
  private readonly gzip: Gzip | null;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private failure: Error | null = null;
  /** Settles when the file closes, early on failure; one listener for every write that waits. */
  private readonly closed: Promise<void>;

  constructor(
    readonly path: string,
    options: { gzipLevel?: number } = {},
  ) {
    this.file = createWriteStream(path, { flags: 'wx', mode: 0o600 });
    this.file.on('error', (error) => (this.failure ??= error));
    this.closed = new Promise((resolve) => this.file.once('close', resolve));
    this.gzip = options.gzipLevel === undefined ? null : createGzip({ level: options.gzipLevel, ...GZIP_PIPELINE });
    if (this.gzip) {
      this.gzip.on('error', (error) => (this.failure ??= error));
      this.gzip.pipe(this.file);
    }
  }

  private get sink(): Writable {
    return this.gzip ?? this.file;
  }

  /** Resolves once the data is buffered below the stream's limit (backpressure). */
  async write(chunk: Buffer | string): Promise<void> {
    if (this.failure) throw this.failure;
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.hash.update(buffer);
    this.bytes += buffer.length;
    if (!this.sink.write(buffer)) await Promise.race([once(this.sink, 'drain').catch(() => {}), this.closed]);
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<StagedFileSummary> {
    this.sink.end();
    await this.closed;
    if (this.failure) throw this.failure;
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  destroy(): void {
    this.gzip?.destroy();
    this.file.destroy();
  }
}
