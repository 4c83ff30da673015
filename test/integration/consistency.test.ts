// A backup reads one snapshot: while another connection keeps moving money between
// accounts, every account's balance in the archive equals the sum of its entries.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { extractWithTar } from '../helpers/inspect.ts';
import { createScratchDatabase } from '../helpers/postgres.ts';
import { startServer } from '../helpers/server.ts';

const ACCOUNTS = 5_000;
const ENTRIES_PER_ACCOUNT = 10;

interface Writer {
  /** One committed transfer: two entries and two balance updates. */
  transfer(from: number, to: number, amount: number): Promise<void>;
  close(): Promise<void>;
}

function ledgerEnv(provider: 'sqlite' | 'postgresql') {
  const dir = path.join(PROJECT_ROOT, 'test/fixtures', `ledger-${provider}`);
  return { TARGET_SCHEMA: path.join(dir, 'schema.prisma'), TARGET_MIGRATIONS: path.join(dir, 'migrations') };
}

async function fillLedger(run: (sql: string) => Promise<void>) {
  const accounts: string[] = [];
  const entries: string[] = [];
  for (let a = 1; a <= ACCOUNTS; a++) {
    let balance = 0;
    for (let e = 0; e < ENTRIES_PER_ACCOUNT; e++) {
      const amount = ((a * 31 + e * 17) % 200) - 100;
      balance += amount;
      entries.push(`(${a}, ${amount}, 'opening ${e}')`);
    }
    accounts.push(`(${a}, 'account ${a}', ${balance})`);
  }
  await run(`INSERT INTO "Account" (id, name, balance) VALUES ${accounts.join(',')}`);
  for (let i = 0; i < entries.length; i += 5000) {
    await run(`INSERT INTO "Entry" ("accountId", amount, memo) VALUES ${entries.slice(i, i + 5000).join(',')}`);
  }
}

/** Keeps transferring until stopped, yielding to the event loop between transactions. */
function keepWriting(writer: Writer) {
  let running = true;
  let committed = 0;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const from = (i % ACCOUNTS) + 1;
      const to = ((i * 7) % ACCOUNTS) + 1;
      await writer.transfer(from, to, (i % 50) + 1);
      committed++;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  return {
    get committed() {
      return committed;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

function assertConsistent(archiveFile: string) {
  const archive = extractWithTar(archiveFile);
  const tableRows = (name: string) => archive.rows(archive.manifest.tables.find((t) => t.name === name)!.path);
  const accounts = tableRows('Account') as [number, string, number][];
  const entries = tableRows('Entry') as [number, number, number, string][];
  const sums = new Map<number, number>();
  for (const [, accountId, amount] of entries) sums.set(accountId, (sums.get(accountId) ?? 0) + amount);
  assert.equal(accounts.length, ACCOUNTS);
  for (const [id, , balance] of accounts) assert.equal(balance, sums.get(id) ?? 0, `account ${id} balance equals its entries`);
  const ids = new Set(accounts.map(([id]) => id));
  for (const [, accountId] of entries) assert.ok(ids.has(accountId), 'every entry has its account');
  return { entries: entries.length };
}

async function snapshotUnderWrites(server: Awaited<ReturnType<typeof startServer>>, writer: Writer) {
  const load = keepWriting(writer);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const before = load.committed;
  const backup = await createBackup(server, { includeMedia: true });
  const during = load.committed - before;
  await load.stop();
  await writer.close();
  assert.ok(during > 0, 'the other connection committed while the backup ran');
  const { entries } = assertConsistent(archivePath(server, backup.fileName));
  assert.ok(entries >= ACCOUNTS * ENTRIES_PER_ACCOUNT);
}

test('SQLite: a backup under concurrent writes is one consistent snapshot', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-ledger-'));
  const file = path.join(dataDir, 'ledger.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
  const server = await startServer({ dataDir, env: { ...ledgerEnv('sqlite'), TARGET_DATABASE_URL: `file:${file}` } });
  try {
    const app = new Database(file);
    app.pragma('busy_timeout = 10000');
    await fillLedger(async (sql) => void app.exec(sql));
    const move = app.transaction((from: number, to: number, amount: number) => {
      app.prepare('INSERT INTO "Entry" ("accountId", amount, memo) VALUES (?, ?, ?)').run(from, -amount, 'transfer out');
      app.prepare('INSERT INTO "Entry" ("accountId", amount, memo) VALUES (?, ?, ?)').run(to, amount, 'transfer in');
      app.prepare('UPDATE "Account" SET balance = balance - ? WHERE id = ?').run(amount, from);
      app.prepare('UPDATE "Account" SET balance = balance + ? WHERE id = ?').run(amount, to);
    });
    await snapshotUnderWrites(server, {
      transfer: async (from, to, amount) => void move(from, to, amount),
      close: async () => void app.close(),
    });
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('PostgreSQL: a backup under concurrent writes is one consistent snapshot', async () => {
  const database = await createScratchDatabase();
  const server = await startServer({ provider: 'postgresql', database, env: ledgerEnv('postgresql') });
  try {
    const app = new pg.Client({ connectionString: database.url });
    await app.connect();
    await fillLedger(async (sql) => void (await app.query(sql)));
    await snapshotUnderWrites(server, {
      async transfer(from, to, amount) {
        await app.query('BEGIN');
        await app.query(`INSERT INTO "Entry" ("accountId", amount, memo) VALUES ($1, $2, 'transfer out'), ($3, $4, 'transfer in')`, [
          from,
          -amount,
          to,
          amount,
        ]);
        await app.query('UPDATE "Account" SET balance = balance - $1 WHERE id = $2', [amount, from]);
        await app.query('UPDATE "Account" SET balance = balance + $1 WHERE id = $2', [amount, to]);
        await app.query('COMMIT');
      },
      close: () => app.end(),
    });
  } finally {
    await server.close();
  }
});
