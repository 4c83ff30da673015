// Replaces a target's data inside one write transaction: other connections see the old
// rows until the commit and the new rows after it, never a mix. Foreign keys are checked
// once, before the commit, so tables (self-relations and cycles included) load in any
// order and a violation rolls everything back. Each database has its own bulk path:
// providers.ts opens one (sqlite/, postgres/).
import type { TableSpec } from '../../target/target-schema.ts';
import type { EncodedValue } from '../../ndjson/value-encoder.ts';

export interface TableLoader {
  /** Deletes every row of these tables (inside the transaction). */
  clear(tables: TableSpec[]): Promise<void>;
  insert(table: TableSpec, rows: EncodedValue[][]): Promise<void>;
  /** The same rows as whole `ndjson-v1` lines, unparsed, where the loader has a path for them; resolves to how many. */
  insertLines?(table: TableSpec, lines: Buffer): Promise<number>;
  /** Checks foreign keys, moves autoincrement sequences past the loaded ids, commits. */
  commit(tables: TableSpec[]): Promise<void>;
  rollback(): Promise<void>;
}
