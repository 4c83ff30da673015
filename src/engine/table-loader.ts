// Replaces a target's data inside one write transaction: other connections see the old
// rows until the commit and the new rows after it, never a mix. Foreign keys are checked
// once, before the commit, so tables (self-relations and cycles included) load in any
// order and a violation rolls everything back. Each database has its own bulk path:
// sqlite-table-loader.ts and postgres-table-loader.ts.
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { TableSpec } from '../target/target-schema.ts';
import type { EncodedValue } from './value-codec.ts';
import { openPostgresLoader } from './postgres-table-loader.ts';
import { openSqliteLoader } from './sqlite-table-loader.ts';

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

/** `tables`: every table the restore will replace (PostgreSQL locks them all first). */
export function openTableLoader(location: DatabaseLocation, tables: TableSpec[]): Promise<TableLoader> {
  return location.provider === 'sqlite' ? openSqliteLoader(location.filePath) : openPostgresLoader(location, tables);
}
