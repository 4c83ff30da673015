// Bulk writers for the example's generated rows: prepared statements in one transaction
// per batch on SQLite, multi-row INSERTs on PostgreSQL. Values are stored the way Prisma
// stores them, so the data looks exactly like the app's own.
import Database from 'better-sqlite3';
import pg from 'pg';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import type { Row, Value } from './library-generator.ts';

export interface RowWriter {
  /** Queues a row for the next flush; parents must be added before their children. */
  add(table: string, row: Row): void;
  /** Writes everything added so far, in one transaction. */
  flush(): Promise<void>;
  /** The rows in a table now. */
  count(table: string): Promise<number>;
  /** The highest number in ids shaped `<prefix><digits>` (zero-padded), or 0. */
  lastNumberedId(table: string, prefix: string): Promise<number>;
  /** Closes the connection; rows not flushed are dropped. */
  close(): Promise<void>;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function openRowWriter(location: DatabaseLocation): Promise<RowWriter> {
  return location.provider === 'sqlite' ? sqliteWriter(location.filePath) : postgresWriter(location.connectionString, location.schema);
}

function sqliteWriter(file: string): RowWriter {
  const db = new Database(file);
  db.pragma('busy_timeout = 10000');
  const pending: [string, Row][] = [];
  const statements = new Map<string, Database.Statement>();
  const statement = (table: string, columns: string[]) => {
    const key = `${table}(${columns.join(',')})`;
    let prepared = statements.get(key);
    if (!prepared) {
      prepared = db.prepare(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      statements.set(key, prepared);
    }
    return prepared;
  };
  const writeAll = db.transaction((rows: [string, Row][]) => {
    for (const [table, row] of rows) statement(table, Object.keys(row)).run(...Object.values(row).map(sqliteValue));
  });
  return {
    add: (table, row) => void pending.push([table, row]),
    async flush() {
      writeAll(pending.splice(0));
    },
    count: async (table) => Number((db.prepare(`SELECT count(*) AS n FROM ${quote(table)}`).get() as { n: number }).n),
    async lastNumberedId(table, prefix) {
      // Longest first, so that a number past the padding still sorts last.
      const sql = `SELECT id FROM ${quote(table)} WHERE id GLOB ? ORDER BY length(id) DESC, id DESC LIMIT 1`;
      const row = db.prepare(sql).get(`${prefix}[0-9]*`) as { id: string } | undefined;
      return numberAfter(row?.id, prefix);
    },
    close: async () => void db.close(),
  };
}

/** As Prisma's better-sqlite3 adapter writes them: ISO text with +00:00, 0/1, JSON text. */
function sqliteValue(value: Value): unknown {
  if (value instanceof Date) return value.toISOString().replace('Z', '+00:00');
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value !== null && typeof value === 'object' && 'json' in value) return JSON.stringify(value.json);
  if (Array.isArray(value)) throw new Error('SQLite has no scalar lists');
  return value;
}

/** PostgreSQL accepts at most 65,535 parameters per statement. */
const MAX_PARAMETERS = 60_000;

async function postgresWriter(connectionString: string, schema: string): Promise<RowWriter> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  await client.query(`SET search_path TO ${quote(schema)}`);
  const pending = new Map<string, Row[]>();
  return {
    add(table, row) {
      const rows = pending.get(table) ?? [];
      rows.push(row);
      pending.set(table, rows);
    },
    async flush() {
      await client.query('BEGIN');
      try {
        // Tables in first-added order: parents are always added before their children.
        for (const [table, rows] of pending) {
          const columns = Object.keys(rows[0]!);
          const perStatement = Math.max(1, Math.floor(MAX_PARAMETERS / columns.length));
          for (let start = 0; start < rows.length; start += perStatement) {
            const batch = rows.slice(start, start + perStatement);
            const params: unknown[] = [];
            const tuples = batch.map((row) => `(${columns.map((column) => `$${params.push(postgresValue(row[column]!))}`).join(', ')})`);
            await client.query(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${tuples.join(', ')}`, params);
          }
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        pending.clear();
      }
    },
    count: async (table) => Number((await client.query(`SELECT count(*) AS n FROM ${quote(table)}`)).rows[0].n),
    async lastNumberedId(table, prefix) {
      const sql = `SELECT id FROM ${quote(table)} WHERE starts_with(id, $1) AND substr(id, $2) ~ '^[0-9]+$' ORDER BY length(id) DESC, id DESC LIMIT 1`;
      const { rows } = await client.query<{ id: string }>(sql, [prefix, prefix.length + 1]);
      return numberAfter(rows[0]?.id, prefix);
    },
    close: () => client.end(),
  };
}

function numberAfter(id: string | undefined, prefix: string): number {
  const number = Number(id?.slice(prefix.length));
  return Number.isSafeInteger(number) ? number : 0;
}

function postgresValue(value: Value): unknown {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (value !== null && typeof value === 'object' && 'json' in value) return JSON.stringify(value.json);
  return value;
}
