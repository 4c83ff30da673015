// The worker-thread side of a second SQLite reader (worker-reader.ts starts it): its own read
// connection, begun when told so that it shares the first reader's snapshot, reading one table
// at a time and handing back each page as UTF-8 bytes, at most `PAGES_AHEAD` pages ahead.
import { parentPort, workerData } from 'node:worker_threads';
import type { TableSpec } from '../../target/target-schema.ts';
import { BEGIN_FAILED, BEGUN, type ReaderOptions, type ReaderReply, type ReaderRequest } from './worker-reader-protocol.ts';
import { closeReadConnection, openIdleConnection, pinSnapshot, tablePages } from './sqlite-table-pages.ts';

/** Pages read but not yet taken by the main thread: enough to keep both threads busy, few enough to bound memory. */
export const PAGES_AHEAD = 2;

const port = parentPort!;
const { filePath, pageRows, signal } = workerData as ReaderOptions & { signal: SharedArrayBuffer };
const answer = new Int32Array(signal);
const db = openIdleConnection(filePath);
const reply = (message: ReaderReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

let ahead = 0;
let wake: (() => void) | null = null;
const untilTaken = () => new Promise<void>((resolve) => (wake = resolve));

async function readTable(table: TableSpec): Promise<void> {
  ahead = 0;
  for (const { bytes, rows } of tablePages(db, table, pageRows)) {
    // Moved, not copied, when the page has its memory to itself (a small one may share a pool).
    const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    reply({ type: 'page', bytes, rows }, own ? [bytes.buffer as ArrayBuffer] : []);
    ahead++;
    while (ahead >= PAGES_AHEAD) await untilTaken();
  }
  reply({ type: 'end' });
}

port.on('message', (request: ReaderRequest) => {
  try {
    switch (request.type) {
      case 'begin': {
        // Answered through shared memory: the main thread waits for it without returning to its event loop.
        let outcome = BEGIN_FAILED;
        try {
          pinSnapshot(db);
          outcome = BEGUN;
        } finally {
          Atomics.store(answer, 0, outcome);
          Atomics.notify(answer, 0);
        }
        break;
      }
      case 'read':
        readTable(request.table).catch((error: unknown) => reply({ type: 'failed', message: (error as Error).message }));
        break;
      case 'taken':
        ahead--;
        wake?.();
        wake = null;
        break;
      case 'close':
        closeReadConnection(db);
        reply({ type: 'closed' });
        port.close();
        break;
    }
  } catch (error) {
    reply({ type: 'failed', message: (error as Error).message });
  }
});
reply({ type: 'ready' });
