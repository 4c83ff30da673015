// A SQLite snapshot with two readers is one snapshot: while another thread moves money between
// accounts, what one reader reads balances against the other's. Each open races the writer, so
// a gap between the readers' starts shows as an account that does not add up.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { openSqliteSnapshot } from '../../src/engine/sqlite/sqlite-snapshot.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { loadTarget } from '../../src/target/target.ts';
import type { TableSpec } from '../../src/target/target-schema.ts';

const LEDGER_DIR = path.join(PROJECT_ROOT, 'test/fixtures/ledger-sqlite');
const ACCOUNTS = 200;
const SNAPSHOTS = 10;

/** Transfers in a thread of its own, one every tenth of a millisecond or so, until told to stop. */
const WRITER = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file, { timeout: 10000 });
const stop = new Int32Array(workerData.stop);
const insert = db.prepare('INSERT INTO "Entry" ("accountId", amount, memo) VALUES (?, ?, ?)');
const update = db.prepare('UPDATE "Account" SET balance = balance + ? WHERE id = ?');
const transfer = db.transaction((from, to, amount) => {
  insert.run(from, -amount, 'out');
  update.run(-amount, from);
  insert.run(to, amount, 'in');
  update.run(amount, to);
});
let i = 0;
while (Atomics.load(stop, 0) === 0) {
  i++;
  transfer((i % ${ACCOUNTS}) + 1, ((i * 7) % ${ACCOUNTS}) + 1, (i % 50) + 1);
  Atomics.wait(stop, 0, 0, 0.1);
}
stop[1] = i;
db.close();
`;

test('two SQLite readers see one snapshot while another thread commits', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-parallel-'));
  const file = path.join(dir, 'ledger.db');
  const stop = new SharedArrayBuffer(8);
  let writer: Worker | null = null;
  try {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(readFileSync(path.join(LEDGER_DIR, 'migrations/20261101000000_init/migration.sql'), 'utf8'));
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => `(${i + 1}, 'account ${i + 1}', 0)`);
    db.exec(`INSERT INTO "Account" (id, name, balance) VALUES ${accounts.join(', ')}`);
    db.close();
    const target = await loadTarget({
      location: parseDatabaseUrl(`file:${file}`),
      schemaPath: path.join(LEDGER_DIR, 'schema.prisma'),
      migrationsDir: path.join(LEDGER_DIR, 'migrations'),
      files: [],
      name: 'ledger',
      isExample: false,
    });
    const table = (name: string) => target.schema.tables.find((spec) => spec.name === name)!;

    writer = new Worker(WRITER, {
      eval: true,
      workerData: { file, stop, betterSqlite3: import.meta.resolve('better-sqlite3').replace('file://', '') },
    });
    const writerDone = new Promise((resolve, reject) => writer!.once('exit', resolve).once('error', reject));
    let entriesSeen = 0;
    for (let round = 0; round < SNAPSHOTS; round++) {
      const snapshot = await openSqliteSnapshot(file, { pageRows: 50, parallelFromBytes: 0 });
      try {
        assert.equal(snapshot.readers, 2, 'the worker reader joined the snapshot');
        const [accountRows, entryRows] = await Promise.all([rowsOf(snapshot, table('Account')), rowsOf(snapshot, table('Entry'))]);
        const sums = new Map<number, number>();
        for (const [, accountId, amount] of entryRows as [number, number, number][])
          sums.set(accountId, (sums.get(accountId) ?? 0) + amount);
        for (const [id, , balance] of accountRows as [number, string, number][]) {
          assert.equal(balance, sums.get(id) ?? 0, `round ${round}: account ${id} balances against its entries`);
        }
        entriesSeen = entryRows.length;
      } finally {
        await snapshot.close();
      }
    }
    Atomics.store(new Int32Array(stop), 0, 1);
    await writerDone;
    const committed = new Int32Array(stop)[1]!;
    assert.ok(committed > SNAPSHOTS, `the writer kept committing (${committed} transfers)`);
    assert.ok(entriesSeen > 0, 'the snapshots saw the transfers');
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await writer?.terminate();
    await rm(dir, { recursive: true, force: true });
  }
});

async function rowsOf(snapshot: Awaited<ReturnType<typeof openSqliteSnapshot>>, table: TableSpec): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  await snapshot.readTableText(table, async (page) => {
    for (const line of page.toString().split('\n')) if (line) rows.push(JSON.parse(line) as unknown[]);
  });
  return rows;
}
