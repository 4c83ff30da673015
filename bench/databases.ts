// The benchmark's databases: PostgreSQL ones created and dropped through psql, SQLite files,
// and the row counts a restore is checked with.
import { rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { Provider } from '../src/prisma/database-url.ts';
import { onCleanup } from './cleanup.ts';
import { runChild } from './processes.ts';

export const PG_HOST = '127.0.0.1';
export const PG_PORT = 5432;
export const PG_USER = 'postgres';

export function pgUrl(database: string): string {
  return `postgresql://${PG_USER}@${PG_HOST}:${PG_PORT}/${database}`;
}

export async function psql(sql: string): Promise<string> {
  const { stdout } = await runChild(`psql (${sql})`, 'psql', [
    '-h',
    PG_HOST,
    '-p',
    String(PG_PORT),
    '-U',
    PG_USER,
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-qAtc',
    sql,
  ]);
  return stdout.trim();
}

let databaseCount = 0;
/** A new, empty PostgreSQL database, dropped at the end at the latest. */
export async function createPgDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `bcp_bench_${process.pid}_${++databaseCount}`;
  await psql(`CREATE DATABASE "${name}"`);
  const drop = onCleanup(async () => void (await psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
  return { name, drop };
}

/** A SQLite file in WAL mode, as the example app (and the README) sets it up. */
export function createSqliteFile(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
}

/**
 * Removes a restored SQLite database as soon as it is checked: a restore writes hundreds
 * of MB, and whatever of it the kernel has not yet written back would otherwise be
 * written during the next measured run (the plain and encrypted restores follow each other).
 */
export async function removeSqliteFile(file: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm', '-journal'].map((suffix) => rm(file + suffix, { force: true })));
}

/** Row counts of the given tables: each restore is checked against the manifest (untimed). */
export async function countRows(provider: Provider, where: string, tables: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const sql = (table: string) => `SELECT COUNT(*) AS n FROM "${table.replace(/"/g, '""')}"`;
  if (provider === 'sqlite') {
    const db = new Database(where, { readonly: true });
    try {
      for (const table of tables) counts.set(table, Number((db.prepare(sql(table)).get() as { n: number }).n));
    } finally {
      db.close();
    }
    return counts;
  }
  const client = new pg.Client({ connectionString: pgUrl(where) });
  await client.connect();
  try {
    for (const table of tables) counts.set(table, Number((await client.query<{ n: string }>(sql(table))).rows[0]!.n));
  } finally {
    await client.end();
  }
  return counts;
}
