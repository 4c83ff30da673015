// The messages between a SQLite snapshot and its worker-thread reader
// (worker-reader.ts on the main thread, worker-reader-thread.ts in the worker).
import type { TableSpec } from '../../target/target-schema.ts';

/** What the main thread asks; `taken` says one more page was handed on. */
export type ReaderRequest = { type: 'begin' } | { type: 'read'; table: TableSpec } | { type: 'taken' } | { type: 'close' };
/** What the worker answers (the answer to `begin` goes through shared memory instead). */
export type ReaderReply =
  | { type: 'ready' }
  | { type: 'page'; bytes: Uint8Array; rows: number }
  | { type: 'end' }
  | { type: 'failed'; message: string }
  | { type: 'closed' };

export interface ReaderOptions {
  filePath: string;
  pageRows: number;
}

/** The begin answer's slot in shared memory: 0 until answered, then one of these. */
export const BEGUN = 1;
export const BEGIN_FAILED = 2;
