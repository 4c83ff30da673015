// Writes a stream of chunks to a staging file, counting bytes and hashing as it goes.
import { createHash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

export interface StagedFileSummary {
  bytes: number;
  sha256: string;
}

export class StagedFile {
  private readonly stream: WriteStream;
  private readonly hash = createHash('sha256');
  private bytes = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  }

  /** Resolves once the data is buffered below the stream's limit (backpressure). */
  async write(chunk: Buffer | string): Promise<void> {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    this.hash.update(buffer);
    this.bytes += buffer.length;
    if (!this.stream.write(buffer)) await once(this.stream, 'drain');
  }

  async finish(): Promise<StagedFileSummary> {
    this.stream.end();
    await once(this.stream, 'close');
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  destroy(): void {
    this.stream.destroy();
  }
}
