// TableLoader: replaces a target's data inside one write transaction, so other connections see
// the old rows or the new, never a mix. Foreign keys are checked once, before the commit, so
// tables (self-relations and cycles included) load in any order. providers.ts opens one.
import type { ManifestSequence } from '../../archive/manifest.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import type { EncodedValue } from '../../ndjson/value-encoder.ts';

export interface TableLoader {
  /** Deletes every row of these tables (inside the transaction). */
  clear(tables: TableSpec[]): Promise<void>;
  /** Adds parsed rows to a table, each row's values in the order of `table.columns`. */
  insert(table: TableSpec, rows: EncodedValue[][]): Promise<void>;
  /** The same rows as whole `ndjson-v1` lines, unparsed, where the loader has a path for them; resolves to how many. */
  insertLines?(table: TableSpec, lines: Buffer): Promise<number>;
  /**
   * Checks foreign keys, sets the tables' sequences, commits; a violation rolls everything back
   * and throws. `sequences` come from a source of the same provider and are set exactly (a table
   * absent from it had none); without them each sequence moves past the largest loaded id.
   */
  commit(tables: TableSpec[], sequences?: Map<string, ManifestSequence[]>): Promise<void>;
  /** The database's id of this transaction, which it can later say was committed or not (`transactionOutcome`); absent where there is none. */
  transactionId?(): Promise<string>;
  /** Abandons the transaction and closes the connection: the target keeps its old data. */
  rollback(): Promise<void>;
}

/** What became of a transaction whose process died: the database's own word, or null where it cannot say. */
export type TransactionOutcome = 'committed' | 'aborted' | null;
