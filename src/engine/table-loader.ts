// Replaces a target's data inside one write transaction: other connections see the old
// rows until the commit and the new rows after it, never a mix. Foreign keys are checked
// once, before the commit, so tables (self-relations and cycles included) load in any
// order and a violation rolls everything back.
import type { Transaction } from '@prisma/driver-adapter-utils';
import { connectAdapter } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { quoteIdentifier as q, sqlQuery } from './sql.ts';
import { decodeForPostgres, decodeForSqlite } from './value-decoder.ts';
import type { EncodedValue } from './value-codec.ts';

export interface TableLoader {
  /** Deletes every row of these tables (inside the transaction). */
  clear(tables: TableSpec[]): Promise<void>;
  insert(table: TableSpec, rows: EncodedValue[][]): Promise<void>;
  /** Checks foreign keys, moves autoincrement sequences past the loaded ids, commits. */
  commit(tables: TableSpec[]): Promise<void>;
  rollback(): Promise<void>;
}

/** SQLite binds at most 32,766 parameters per statement; PostgreSQL 65,535. */
const MAX_PARAMETERS = { sqlite: 32_000, postgresql: 60_000 };

/** `tables`: every table the restore will replace (PostgreSQL locks them all first). */
export async function openTableLoader(location: DatabaseLocation, tables: TableSpec[]): Promise<TableLoader> {
  const connection = await connectAdapter(location);
  try {
    if (location.provider === 'sqlite') {
      // Per-row checks and cascades make clearing a large library quadratic (many foreign
      // keys have no index); they are off on this connection only, and every foreign key is
      // checked in full before the commit. The pragma cannot change inside a transaction.
      await connection.adapter.executeScript('PRAGMA foreign_keys = OFF');
    }
    const tx = await connection.adapter.startTransaction();
    return location.provider === 'sqlite'
      ? await sqliteLoader(tx, connection.close)
      : await postgresLoader(tx, connection.close, location.schema, tables);
  } catch (error) {
    await connection.close();
    throw error;
  }
}

function batches<T>(rows: T[], perBatch: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += perBatch) out.push(rows.slice(i, i + perBatch));
  return out;
}

const ended = new WeakSet<Transaction>();

/** Ends the transaction once; a later rollback (from a caller's cleanup) does nothing. */
async function finish(tx: Transaction, release: () => Promise<void>, sql: 'COMMIT' | 'ROLLBACK') {
  if (ended.has(tx)) return;
  ended.add(tx);
  try {
    await tx.executeRaw(sqlQuery(sql));
  } finally {
    await (sql === 'COMMIT' ? tx.commit() : tx.rollback());
    await release();
  }
}

async function sqliteLoader(tx: Transaction, release: () => Promise<void>): Promise<TableLoader> {
  return {
    async clear(tables) {
      for (const table of tables) await tx.executeRaw(sqlQuery(`DELETE FROM ${q(table.name)}`));
    },
    async insert(table, rows) {
      const columns = table.columns.map((c) => q(c.name)).join(', ');
      const tuple = `(${table.columns.map(() => '?').join(', ')})`;
      for (const batch of batches(rows, Math.max(1, Math.floor(MAX_PARAMETERS.sqlite / table.columns.length)))) {
        const args = batch.flatMap((row) => table.columns.map((column, i) => decodeForSqlite(column, row[i] ?? null)));
        await tx.executeRaw(sqlQuery(`INSERT INTO ${q(table.name)} (${columns}) VALUES ${batch.map(() => tuple).join(', ')}`, args));
      }
    },
    async commit() {
      const violations = await tx.queryRaw(sqlQuery('PRAGMA foreign_key_check'));
      if (violations.rows.length > 0) {
        const [table, rowid, parent] = violations.rows[0]!;
        await finish(tx, release, 'ROLLBACK');
        throw new ForeignKeyViolationError(
          `${violations.rows.length} row(s) reference missing rows, e.g. ${table} row ${rowid} references a missing ${parent}`,
        );
      }
      await finish(tx, release, 'COMMIT');
    },
    rollback: () => finish(tx, release, 'ROLLBACK'),
  };
}

export class ForeignKeyViolationError extends Error {}

interface ForeignKey {
  table: string;
  name: string;
}

async function postgresLoader(
  tx: Transaction,
  release: () => Promise<void>,
  schema: string,
  tables: TableSpec[],
): Promise<TableLoader> {
  const table = (name: string) => `${q(schema)}.${q(name)}`;
  try {
    await lockAll(tx, tables.map((spec) => table(spec.name)));
  } catch (error) {
    await finish(tx, release, 'ROLLBACK');
    throw error;
  }
  // Prisma's foreign keys are NOT DEFERRABLE. Altering them is transactional in
  // PostgreSQL: they become deferrable for this transaction only, and are restored to
  // their original definition before it commits (or by its rollback).
  const keys = (
    await tx.queryRaw(
      sqlQuery(
        `SELECT c.relname, k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE k.contype = 'f' AND NOT k.condeferrable AND n.nspname = $1`,
        [schema],
      ),
    )
  ).rows.map(([relname, conname]) => ({ table: String(relname), name: String(conname) }) satisfies ForeignKey);
  for (const key of keys) {
    await tx.executeRaw(sqlQuery(`ALTER TABLE ${table(key.table)} ALTER CONSTRAINT ${q(key.name)} DEFERRABLE INITIALLY DEFERRED`));
  }
  const columnTypes = new Map<string, Map<string, string>>();
  const typesOf = async (name: string) => {
    let types = columnTypes.get(name);
    if (!types) {
      const result = await tx.queryRaw(
        sqlQuery(
          `SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
           WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
          [`${q(schema)}.${q(name)}`],
        ),
      );
      types = new Map(result.rows.map(([column, type]) => [String(column), String(type)]));
      columnTypes.set(name, types);
    }
    return types;
  };
  return {
    async clear(tables) {
      // One TRUNCATE: no per-row cascades or checks. It locks the tables until the commit,
      // so the app's readers wait for the new data rather than see a mix.
      if (tables.length) await tx.executeRaw(sqlQuery(`TRUNCATE TABLE ${tables.map((spec) => table(spec.name)).join(', ')}`));
    },
    async insert(spec, rows) {
      const types = await typesOf(spec.name);
      const columns = spec.columns.map((c) => q(c.name)).join(', ');
      for (const batch of batches(rows, Math.max(1, Math.floor(MAX_PARAMETERS.postgresql / spec.columns.length)))) {
        const args: unknown[] = [];
        const tuples = batch.map(
          (row) =>
            `(${spec.columns
              .map((column, i) => `$${args.push(decodeForPostgres(column, row[i] ?? null))}::${types.get(column.name) ?? 'text'}`)
              .join(', ')})`,
        );
        await tx.executeRaw(sqlQuery(`INSERT INTO ${table(spec.name)} (${columns}) VALUES ${tuples.join(', ')}`, args));
      }
    },
    async commit(tables) {
      try {
        await tx.executeRaw(sqlQuery('SET CONSTRAINTS ALL IMMEDIATE'));
        for (const key of keys) {
          await tx.executeRaw(sqlQuery(`ALTER TABLE ${table(key.table)} ALTER CONSTRAINT ${q(key.name)} NOT DEFERRABLE`));
        }
        await moveSequences(tx, schema, tables);
      } catch (error) {
        await finish(tx, release, 'ROLLBACK');
        throw error;
      }
      await finish(tx, release, 'COMMIT');
    },
    rollback: () => finish(tx, release, 'ROLLBACK'),
  };
}

/** How long a restore keeps trying to take its locks while the app's queries hold them. */
const LOCK_TIMEOUT_MS = 60_000;

/**
 * Takes every table at once or none (NOWAIT), retrying between the app's queries. Waiting
 * for one lock while holding others could deadlock with a reader that joins the same
 * tables; this never waits while holding anything.
 */
async function lockAll(tx: Transaction, tables: string[]): Promise<void> {
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
      if (Date.now() > deadline) throw new Error(`the target's tables stayed busy for ${LOCK_TIMEOUT_MS / 1000} s; try again`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 200)));
    }
  }
}

/** Inserting explicit ids does not move a sequence: set each one past the largest id. */
async function moveSequences(tx: Transaction, schema: string, tables: TableSpec[]) {
  for (const spec of tables) {
    for (const column of spec.columns) {
      if (column.type !== 'Int' && column.type !== 'BigInt') continue;
      const qualified = `${q(schema)}.${q(spec.name)}`;
      const found = await tx.queryRaw(sqlQuery('SELECT pg_get_serial_sequence($1, $2)', [qualified, column.name]));
      const sequence = found.rows[0]?.[0];
      if (!sequence) continue;
      await tx.queryRaw(
        sqlQuery(
          `SELECT setval($1, COALESCE((SELECT max(${q(column.name)}) FROM ${qualified}), 0) + 1, false)`,
          [String(sequence)],
        ),
      );
    }
  }
}
