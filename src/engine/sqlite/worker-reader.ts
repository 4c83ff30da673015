// A second SQLite reader in a worker thread (worker-reader-thread.ts), so that a backup reads two
// tables at once: SQLite's work on a page is synchronous and dominates a backup, and one thread
// does one page at a time (docs/PERFORMANCE.md, "Measurements behind the code").
import { Worker } from 'node:worker_threads';
import type { TableSpec } from '../../target/target-schema.ts';
import { BEGUN, type ReaderOptions, type ReaderReply, type ReaderRequest } from './worker-reader-protocol.ts';

/** Run from source (TypeScript, under tsx) the worker's module is .ts; from the build, .js. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(`./worker-reader-thread.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

function spawnWorker(workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData });
  // On Node 20 a worker does not inherit the TypeScript loader that `--import tsx` gave
  // this thread: it registers its own first.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** What the reader is waiting for: a handler of the worker's replies, and how to fail it. */
interface Pending {
  handle(reply: ReaderReply): void;
  fail(error: Error): void;
}

export class WorkerReader {
  private readonly worker: Worker;
  private pending: Pending | null = null;
  private failure: Error | null = null;
  private readonly answer = new Int32Array(new SharedArrayBuffer(4));

  private constructor(options: ReaderOptions) {
    this.worker = spawnWorker({ ...options, signal: this.answer.buffer });
    this.worker.on('message', (reply: ReaderReply) => {
      if (reply.type === 'failed') this.pending?.fail(new Error(reply.message));
      else this.pending?.handle(reply);
    });
    this.worker.on('error', (error) => this.stop(error));
    this.worker.on('exit', (code) => this.stop(new Error(`the SQLite reader thread stopped (exit code ${code})`)));
  }

  /** A reader whose connection is open, with no snapshot yet: `begin` pins one. */
  static async start(options: ReaderOptions): Promise<WorkerReader> {
    const reader = new WorkerReader(options);
    try {
      await reader.exchange(null, (reply, done) => reply.type === 'ready' && done());
    } catch (error) {
      await reader.worker.terminate();
      throw error;
    }
    return reader;
  }

  /**
   * Pins the worker's snapshot, waiting for it on this thread without yielding: the caller
   * holds the write lock meanwhile, and no code of this process (an in-process writer
   * waiting on that lock, say) runs until it is let go. False if the worker could not.
   */
  beginNow(timeoutMs: number): boolean {
    if (this.failure) return false;
    this.worker.postMessage({ type: 'begin' } satisfies ReaderRequest);
    Atomics.wait(this.answer, 0, 0, timeoutMs);
    return Atomics.load(this.answer, 0) === BEGUN;
  }

  /** The table's pages as the main-thread reader gives them, in UTF-8. */
  readTableText(table: TableSpec, onPage: (bytes: Buffer, rows: number) => Promise<void>): Promise<void> {
    // Pages are handed on in order, one at a time, while the worker reads ahead.
    let handed = Promise.resolve();
    return this.exchange({ type: 'read', table }, (reply, done, fail) => {
      if (reply.type === 'page') {
        const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
        handed = handed
          .then(() => onPage(bytes, reply.rows))
          .then(() => this.worker.postMessage({ type: 'taken' } satisfies ReaderRequest));
        handed.catch(fail);
      } else if (reply.type === 'end') {
        handed.then(done, fail);
      }
    });
  }

  async close(): Promise<void> {
    if (!this.failure) await this.exchange({ type: 'close' }, (reply, done) => reply.type === 'closed' && done()).catch(() => {});
    this.failure ??= new Error('the SQLite reader is closed');
    await this.worker.terminate();
  }

  /** Sends a request (or none) and passes the replies to `handle` until it calls done or fail. */
  private exchange(
    request: ReaderRequest | null,
    handle: (reply: ReaderReply, done: () => void, fail: (error: unknown) => void) => void,
  ): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const settle = (outcome: () => void) => {
        if (this.pending !== pending) return;
        this.pending = null;
        outcome();
      };
      const pending: Pending = {
        handle: (reply) =>
          handle(
            reply,
            () => settle(resolve),
            (error) => settle(() => reject(error)),
          ),
        fail: (error) => settle(() => reject(error)),
      };
      this.pending = pending;
      if (request) this.worker.postMessage(request);
    });
  }

  private stop(error: Error): void {
    this.failure ??= error;
    this.pending?.fail(error);
  }
}
