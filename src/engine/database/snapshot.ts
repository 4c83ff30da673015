// Snapshot: one consistent view of a target database, read table by table in pages so that
// a table of any size streams through bounded memory. providers.ts opens one (sqlite/, postgres/).
import type { ManifestSequence } from '../../archive/manifest.ts';
import type { Provider } from '../../prisma/database-url.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import { parseLines } from '../../ndjson/parse-lines.ts';
import type { EncodedValue } from '../../ndjson/value-encoder.ts';

/** Rows per page: large enough to amortise a query, small enough to bound memory. */
export const SNAPSHOT_PAGE_ROWS = 1_000;

export interface Snapshot {
  /** The kind of database this snapshot reads. */
  readonly provider: Provider;
  /** How many tables may be read at once, each by its own reader in the same snapshot. */
  readonly readers: number;
  /**
   * A rough measure of each table's size, comparable between tables of this snapshot.
   * With several readers the largest are read first, so that none is left reading alone at the end.
   */
  sizes(tables: TableSpec[]): Promise<Map<string, number>>;
  /** Names of the Prisma migrations applied to the data in this snapshot, oldest first. */
  appliedMigrations(): Promise<string[]>;
  /** The sequences numbering each table's rows, as they stand (SQLite's sqlite_sequence, PostgreSQL's owned sequences). */
  sequences(tables: TableSpec[]): Promise<Map<string, ManifestSequence[]>>;
  /** Hands a table's rows to `onPage` as `ndjson-v1` lines in storage order, a page at a time, awaiting each (backpressure). */
  readTableText(table: TableSpec, onPage: (text: string | Buffer, rows: number) => Promise<void>): Promise<void>;
  /** Ends the snapshot's transactions and closes its readers. */
  close(): Promise<void>;
}

/** A table's rows, as readTableText gives them, parsed back into encoded values a page at a time. */
export function readTableRows(snapshot: Snapshot, table: TableSpec, onPage: (rows: EncodedValue[][]) => Promise<void>): Promise<void> {
  return snapshot.readTableText(table, (text) => onPage(parseLines(typeof text === 'string' ? text : text.toString('utf8'))));
}
