// PostgreSQL's TableLoader: one transaction on a connection of its own, the tables locked all at
// once, emptied, loaded through COPY (FREEZE, binary where every column's type allows) with their
// indexes and keys set aside, then the keys rebuilt (checking every row), sequences moved, commit.
import type { DatabaseLocation } from '../../prisma/database-url.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import { COPY_BINARY_HEADER, COPY_BINARY_TRAILER, ndjsonToCopyBinary, type BinaryField } from './ndjson-to-copy-binary.ts';
import { copyLineOf, ndjsonToCopyLines } from './ndjson-to-copy-text.ts';
import { InvalidRowError, RowChecker } from '../../ndjson/row-check.ts';
import { binaryLayouts } from './postgres-column-types.ts';
import { setAsideKeys, type SetAside } from './postgres-constraints.ts';
import { PostgresSession, type CopyIn, type SqlRunner } from './postgres-session.ts';
import { quoteIdentifier as q, sqlQuery } from '../../prisma/sql.ts';
import type { ManifestSequence } from '../../archive/manifest.ts';
import type { TableLoader } from '../database/table-loader.ts';

export async function openPostgresLoader(
  location: DatabaseLocation & { provider: 'postgresql' },
  tables: TableSpec[],
): Promise<TableLoader> {
  return postgresLoader(await PostgresSession.open(location), location.schema, tables);
}

/**
 * PostgreSQL, on a connection of its own: rows arrive through COPY FROM STDIN, a table's
 * batches in one COPY, inside the one transaction that also empties the tables, checks
 * every foreign key and commits. Closing the connection before COMMIT rolls it all back.
 */
async function postgresLoader(session: PostgresSession, schema: string, tables: TableSpec[]): Promise<TableLoader> {
  const table = (name: string) => `${q(schema)}.${q(name)}`;
  let ended = false;
  const end = async (sql: 'COMMIT' | 'ROLLBACK') => {
    if (ended) return;
    ended = true;
    try {
      if (sql === 'COMMIT') await session.executeRaw(sqlQuery('COMMIT'));
    } finally {
      await session.close();
    }
  };
  let keys: SetAside;
  let transactionId: string;
  /** Tables still loaded in the binary format, with their columns' layouts. */
  let binary: Map<string, BinaryField[]>;
  try {
    // The server's own maintenance_work_mem for the index builds: raising it made them
    // slower (docs/PERFORMANCE.md, "Measurements behind the code").
    await session.executeRaw(sqlQuery('BEGIN'));
    await lockAll(
      session,
      tables.map((spec) => table(spec.name)),
    );
    keys = await setAsideKeys(
      session,
      schema,
      tables.map((spec) => spec.name),
    );
    binary = await binaryLayouts(session, schema, tables);
    // Asked now, while no COPY holds the connection; PostgreSQL keeps its outcome (txid_status).
    transactionId = String((await session.queryRaw(sqlQuery('SELECT txid_current()::text'))).rows[0]![0]);
  } catch (error) {
    await end('ROLLBACK');
    throw error;
  }
  /** Plain tables emptied by this transaction: COPY may load them frozen. */
  const emptied = new Set<string>();
  let copy: { table: string; binary: boolean; stream: CopyIn } | null = null;
  const endCopy = async () => {
    if (!copy) return;
    const { stream, binary } = copy;
    copy = null;
    if (binary) await stream.write(COPY_BINARY_TRAILER);
    await stream.end();
  };
  /** The COPY for this table in this format: the one under way, or a new one after ending it. */
  const copyInto = async (spec: TableSpec, binary: boolean): Promise<CopyIn> => {
    if (copy?.table !== spec.name || copy.binary !== binary) {
      await endCopy();
      const columns = spec.columns.map((c) => q(c.name)).join(', ');
      const options = [...(binary ? ['FORMAT binary'] : []), ...(emptied.has(spec.name) ? ['FREEZE'] : [])];
      const sql = `COPY ${table(spec.name)} (${columns}) FROM STDIN${options.length > 0 ? ` WITH (${options.join(', ')})` : ''}`;
      copy = { table: spec.name, binary, stream: session.beginCopy(sql) };
      if (binary) await copy.stream.write(COPY_BINARY_HEADER);
    }
    return copy.stream;
  };
  const checkers = new Map<string, RowChecker>();
  const checkerOf = (spec: TableSpec, numbered: boolean) => {
    let checker = checkers.get(spec.name);
    if (!checker) checkers.set(spec.name, (checker = new RowChecker(spec, numbered)));
    return checker;
  };
  return rowErrorsTyped({
    async clear(tables) {
      // One TRUNCATE: no per-row cascades or checks. It locks the tables until the commit,
      // so the app's readers wait for the new data rather than see a mix.
      if (tables.length === 0) return;
      await session.executeRaw(sqlQuery(`TRUNCATE TABLE ${tables.map((spec) => table(spec.name)).join(', ')}`));
      // A table emptied in this transaction can be loaded frozen and all-visible (COPY
      // FREEZE): no other transaction can see its new contents before the commit, and a
      // rollback drops them whole. The foreign-key checks that follow then read it without
      // visibility work, which makes them faster (docs/PERFORMANCE.md, "Measurements behind the code").
      // Partitioned tables cannot be loaded frozen.
      for (const name of await plainTables(
        session,
        schema,
        tables.map((spec) => spec.name),
      ))
        emptied.add(name);
    },
    async insert(spec, rows) {
      const checker = checkerOf(spec, true);
      let text = '';
      for (const row of rows) text += copyLineOf(spec.columns, checker.check(row));
      await (await copyInto(spec, false)).write(text);
    },
    async insertLines(spec, lines) {
      const layout = binary.get(spec.name);
      const tuples = layout ? ndjsonToCopyBinary(layout, lines) : null;
      if (tuples) {
        await (await copyInto(spec, true)).write(tuples.bytes);
        return tuples.rows;
      }
      // Once a batch needs the text format the rest of the table stays in it, rather than
      // ending a COPY each time the format changes back.
      binary.delete(spec.name);
      // The binary path takes only rows of exactly the table's columns, each value of its type;
      // the text path checks the rows it parses, and PostgreSQL the types of the plain ones.
      const checker = checkerOf(spec, false);
      const converted = ndjsonToCopyLines(spec.columns, lines, (row) => checker.check(row));
      await (await copyInto(spec, false)).write(converted.bytes);
      return converted.rows;
    },
    async commit(tables, sequences) {
      try {
        await endCopy();
        // Every index is built once and every foreign key checked against all rows at once;
        // a violation fails here and the rollback leaves the old data and keys in place.
        await keys.restore();
        await setSequences(session, schema, tables, sequences);
      } catch (error) {
        await end('ROLLBACK');
        throw error;
      }
      await end('COMMIT');
    },
    rollback: () => end('ROLLBACK'),
    transactionId: async () => transactionId,
  });
}

/**
 * PostgreSQL checks what the rows hold as it loads them (types, ranges, enum labels, NOT NULL,
 * keys): such a refusal is the archive's fault, reported as the same typed error SQLite's
 * row check gives. Anything else (a lost connection) stays what it is.
 */
function rowErrorsTyped(loader: TableLoader): TableLoader {
  const typed = (error: unknown): unknown => {
    const code = sqlStateOf(error);
    return code && /^2[23]/.test(code)
      ? new InvalidRowError(`the archive's rows do not fit the schema: ${(error as Error).message}`)
      : error;
  };
  const wrap =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    (...args: A) =>
      method(...args).catch((error: unknown) => {
        throw typed(error);
      });
  return {
    ...loader,
    insert: wrap(loader.insert),
    insertLines: loader.insertLines && wrap(loader.insertLines),
    commit: wrap(loader.commit),
  };
}

function sqlStateOf(error: unknown): string | null {
  for (let current = error; current && typeof current === 'object'; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    const originalCode = (current as { originalCode?: unknown }).originalCode;
    if (typeof originalCode === 'string' && /^[0-9A-Z]{5}$/.test(originalCode)) return originalCode;
  }
  return null;
}

/** Those of the named tables that are plain tables (not partitioned, not views). */
async function plainTables(tx: SqlRunner, schema: string, names: string[]): Promise<string[]> {
  const found = await tx.queryRaw(
    sqlQuery(`SELECT relname FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relkind = 'r' AND relname = ANY($2)`, [
      schema,
      names,
    ]),
  );
  return found.rows.map(([name]) => String(name));
}

/** How long a restore keeps trying to take its locks while the app's queries hold them. */
const LOCK_TIMEOUT_MS = 60_000;

/**
 * Takes every table at once or none (NOWAIT), retrying between the app's queries. Waiting
 * for one lock while holding others could deadlock with a reader that joins the same
 * tables; this never waits while holding anything.
 */
async function lockAll(tx: SqlRunner, tables: string[]): Promise<void> {
  if (tables.length === 0) return;
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (let attempt = 0; ; attempt++) {
    await tx.executeRaw(sqlQuery('SAVEPOINT restore_lock'));
    try {
      await tx.executeRaw(sqlQuery(`LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE NOWAIT`));
      await tx.executeRaw(sqlQuery('RELEASE SAVEPOINT restore_lock'));
      return;
    } catch (error) {
      await tx.executeRaw(sqlQuery('ROLLBACK TO SAVEPOINT restore_lock'));
      const text = `${(error as Error).message} ${JSON.stringify((error as { cause?: unknown }).cause ?? '')}`;
      if (!/55P03|could not obtain lock/.test(text)) throw error;
      if (Date.now() > deadline)
        throw new Error(`the target's tables stayed busy for ${LOCK_TIMEOUT_MS / 1000} s; try again`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 200)));
    }
  }
}

/**
 * Inserting explicit ids does not move a sequence. With the source's sequences (a PostgreSQL
 * backup) each is set to its `last_value` and `is_called`, as pg_dump does, so ids of rows
 * deleted before the backup are not handed out again; otherwise each moves past the largest id.
 * `ALTER SEQUENCE … RESTART` first gives the sequence new storage inside the transaction, so
 * the `setval` after it is undone by a rollback like everything else (on its own it is not).
 */
async function setSequences(tx: SqlRunner, schema: string, tables: TableSpec[], sequences: Map<string, ManifestSequence[]> | undefined) {
  for (const spec of tables) {
    const qualified = `${q(schema)}.${q(spec.name)}`;
    for (const column of spec.columns) {
      if (column.type !== 'Int' && column.type !== 'BigInt') continue;
      const found = await tx.queryRaw(sqlQuery('SELECT pg_get_serial_sequence($1, $2)', [qualified, column.name]));
      const sequence = found.rows[0]?.[0];
      if (!sequence) continue;
      await tx.executeRaw(sqlQuery(`ALTER SEQUENCE ${String(sequence)} RESTART`));
      const kept = sequences?.get(spec.name)?.find((entry) => entry.column === column.name);
      if (kept) await tx.queryRaw(sqlQuery('SELECT setval($1, $2::bigint, $3)', [String(sequence), kept.value, kept.called]));
      else
        await tx.queryRaw(
          sqlQuery(`SELECT setval($1, COALESCE((SELECT max(${q(column.name)}) FROM ${qualified}), 0) + 1, false)`, [String(sequence)]),
        );
    }
  }
}
