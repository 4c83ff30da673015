// COPY read off the socket (copy-out-pages.ts): every row once, in order, in whole CopyData
// messages; notices kept out; an error partway fails the read; the connection serves the next
// statement; a backup failing mid-table still closes its snapshot.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openPostgresSnapshot } from '../../src/engine/postgres/postgres-snapshot.ts';
import { PostgresSession } from '../../src/engine/postgres/postgres-session.ts';
import { sqlQuery } from '../../src/prisma/sql.ts';
import { parseDatabaseUrl, type DatabaseLocation } from '../../src/prisma/database-url.ts';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/postgres.ts';

const MIN_BYTES = 64 * 1024;

let database: ScratchDatabase;
let location: DatabaseLocation & { provider: 'postgresql' };
let session: PostgresSession;

before(async () => {
  database = await createScratchDatabase();
  const parsed = parseDatabaseUrl(database.url);
  assert.equal(parsed.provider, 'postgresql');
  location = parsed as typeof location;
  session = await PostgresSession.open(location);
});

after(async () => {
  await session?.close();
  await database?.drop();
});

/** Every page, and the rows in them read by their framing: type 'd', length, one line. */
async function readPages(sql: string): Promise<{ pages: Buffer[]; rows: string[] }> {
  const pages: Buffer[] = [];
  const rows: string[] = [];
  for await (const page of session.copyOut(sql, MIN_BYTES)) {
    const buffer = page as Buffer;
    pages.push(buffer);
    let at = 0;
    while (at < buffer.length) {
      assert.equal(String.fromCharCode(buffer[at]!), 'd', `a CopyData message at byte ${at} of a page`);
      const end = at + 1 + buffer.readUInt32BE(at + 1);
      assert.ok(end <= buffer.length, 'a page ends inside a message');
      const line = buffer.toString('utf8', at + 5, end);
      assert.ok(line.endsWith('\n'), 'a message holds one whole line');
      rows.push(line.slice(0, -1));
      at = end;
    }
  }
  return { pages, rows };
}

async function stillServes(): Promise<void> {
  const result = await session.queryRaw(sqlQuery('SELECT 41 + 1'));
  assert.equal(result.rows[0]![0], 42);
}

/** What `work` settles to, or 'stuck' if it has not within 10 s. */
function withinTenSeconds<T>(work: Promise<T>): Promise<T | 'stuck'> {
  return Promise.race([work, new Promise<'stuck'>((resolve) => setTimeout(resolve, 10_000, 'stuck'))]);
}

test('every row arrives once, in order, in pages of at least the size asked but the last', async () => {
  const { pages, rows } = await readPages(`COPY (SELECT n, repeat('é', n % 300) FROM generate_series(1, 50000) n) TO STDOUT`);
  assert.deepEqual(
    rows,
    Array.from({ length: 50000 }, (_, i) => `${i + 1}\t${'é'.repeat((i + 1) % 300)}`),
  );
  assert.ok(pages.length > 10, `${pages.length} pages`);
  pages.slice(0, -1).forEach((page, i) => assert.ok(page.length >= MIN_BYTES, `page ${i} holds ${page.length} bytes`));
  await stillServes();
});

test('a row longer than many socket reads arrives whole', async () => {
  const { rows } = await readPages(
    `COPY (SELECT n, CASE WHEN n = 2 THEN repeat('y', 3000000) ELSE 'short' END FROM generate_series(1, 3) n) TO STDOUT`,
  );
  assert.deepEqual(rows, ['1\tshort', `2\t${'y'.repeat(3000000)}`, '3\tshort']);
  await stillServes();
});

test('notices sent between rows stay out of the pages', async () => {
  await session.executeRaw(
    sqlQuery(`CREATE FUNCTION noisy(n int) RETURNS int LANGUAGE plpgsql AS $$
                BEGIN IF n % 1000 = 0 THEN RAISE NOTICE 'at row %', n; END IF; RETURN n; END $$`),
  );
  const { rows } = await readPages(`COPY (SELECT noisy(n) FROM generate_series(1, 5000) n) TO STDOUT`);
  assert.deepEqual(
    rows,
    Array.from({ length: 5000 }, (_, i) => String(i + 1)),
  );
  await stillServes();
});

test('an error after rows were sent fails the read, and the connection goes on', async () => {
  let pagesBeforeError = 0;
  await assert.rejects(async () => {
    for await (const _ of session.copyOut(
      `COPY (SELECT n, 1 / (60000 - n), repeat('z', 20) FROM generate_series(1, 90000) n) TO STDOUT`,
      MIN_BYTES,
    )) {
      pagesBeforeError++;
    }
  }, /division by zero/);
  assert.ok(pagesBeforeError > 0, 'the error came after some pages');
  await stillServes();
});

test('a refused statement fails the read, and the connection goes on', async () => {
  await assert.rejects(readPages('COPY "NoSuchTable" TO STDOUT'), /does not exist/);
  await stillServes();
});

test('a read given up partway (the backup failed) frees its connection rather than leave it stuck', async () => {
  const abandoned = await PostgresSession.open(location);
  try {
    let pages = 0;
    for await (const _ of abandoned.copyOut(`COPY (SELECT n, repeat('w', 100) FROM generate_series(1, 2000000) n) TO STDOUT`, MIN_BYTES)) {
      if (++pages === 2) break;
    }
    // The server was still sending the table: the next statement must settle, not wait
    // behind it for ever (the snapshot's ROLLBACK on its way to closing).
    const next = abandoned.queryRaw(sqlQuery('SELECT 1')).then(
      () => 'answered',
      () => 'refused',
    );
    assert.notEqual(await withinTenSeconds(next), 'stuck');
  } finally {
    await abandoned.close();
  }
  await stillServes();
});

test('a snapshot whose table fails partway (a full disk, say) rejects with that error and closes', async () => {
  await session.executeRaw(sqlQuery(`CREATE TABLE "Big" AS SELECT n AS id, repeat('v', 100) AS note FROM generate_series(1, 1000000) n`));
  const snapshot = await openPostgresSnapshot(location);
  const column = (name: string, type: 'Int' | 'String') => ({ name, type, list: false, nullable: false, nativeType: null });
  const table = {
    name: 'Big',
    model: 'Big',
    media: false,
    key: ['id'],
    references: [],
    columns: [column('id', 'Int'), column('note', 'String')],
  };
  let pages = 0;
  await assert.rejects(
    snapshot.readTableText(table, async () => {
      if (++pages === 3) throw new Error('ENOSPC: no space left on device');
    }),
    /ENOSPC/,
  );
  assert.equal(await withinTenSeconds(snapshot.close().then(() => 'closed')), 'closed');
});
