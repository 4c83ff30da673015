// A SQLite snapshot writes each table's rows in storage (rowid) order, page after page, as
// `sqlite3 .dump` lists them, whatever their keys: a text primary key, a composite key with
// no primary key, rows deleted, updated and added since. A restore puts them back so.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { openSqliteSnapshot } from '../../src/engine/sqlite/sqlite-snapshot.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { loadTarget } from '../../src/target/target.ts';

const SCHEMA_DIR = path.join(PROJECT_ROOT, 'test/fixtures/notes-app/schema');
/** Small pages, so that the order has to hold across page boundaries too. */
const PAGE_ROWS = 7;

/** Keys in an order unlike their byte, case-insensitive or locale order. */
function shuffledKeys(count: number): string[] {
  const stems = ['apple', 'Apple', 'éclair', 'Zebra', 'zebra', 'äpfel', '10', '9', 'b', 'B', ''];
  const keys = Array.from({ length: count }, (_, i) => `${stems[i % stems.length]}-${(i * 7919) % 1000}`);
  let seed = 7;
  for (let i = keys.length - 1; i > 0; i--) {
    seed = (seed * 48271) % 2147483647;
    const j = seed % (i + 1);
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  return keys;
}

test('SQLite snapshots write rows in rowid order across pages, whatever their keys', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-order-'));
  const file = path.join(dir, 'notes.db');
  try {
    const db = new Database(file);
    db.exec(readFileSync(path.join(SCHEMA_DIR, 'migrations/20261101000000_init/migration.sql'), 'utf8'));
    const tags = shuffledKeys(60);
    const insertTag = db.prepare('INSERT INTO tags (slug, label) VALUES (?, ?)');
    for (const slug of tags) insertTag.run(slug, `label ${slug}`);
    db.prepare(`INSERT INTO folders (id, name) VALUES ('f', 'Home')`).run();
    const notes = ['n-b', 'n-a', 'N-c'];
    for (const id of notes) db.prepare(`INSERT INTO notes (id, folder_id, title, body) VALUES (?, 'f', ?, '')`).run(id, id);
    // The implicit many-to-many table: no primary key, ordered by (A, B).
    const pairs = notes.flatMap((note) => tags.slice(0, 15).map((tag) => [note, tag] as const)).reverse();
    const insertPair = db.prepare('INSERT INTO "_NoteToTag" ("A", "B") VALUES (?, ?)');
    for (const [note, tag] of pairs) insertPair.run(note, tag);
    // A gap in the rowids, a changed key (its row keeps its place) and a row added at the end.
    // (Tags 20 and 30 are in no pair, so nothing cascades.)
    db.prepare('DELETE FROM tags WHERE slug = ?').run(tags[20]);
    db.prepare('UPDATE tags SET slug = ? WHERE slug = ?').run('renamed', tags[30]);
    db.prepare('INSERT INTO tags (slug, label) VALUES (?, ?)').run('aaa-last', 'added last');
    const storedTags = [...tags.slice(0, 20), ...tags.slice(21, 30), 'renamed', ...tags.slice(31), 'aaa-last'];
    db.close();

    const target = await loadTarget({
      location: parseDatabaseUrl(`file:${file}`),
      schemaPath: SCHEMA_DIR,
      migrationsDir: path.join(SCHEMA_DIR, 'migrations'),
      files: [],
      name: 'order',
      isExample: false,
    });
    const snapshot = await openSqliteSnapshot(file, { pageRows: PAGE_ROWS });
    const rowsOf = async (name: string) => {
      let text = '';
      await snapshot.readTableText(
        target.schema.tables.find((table) => table.name === name)!,
        async (page) => void (text += page),
      );
      return text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as string[]);
    };
    try {
      // Fewer rows than a page: read in one query that no key range bounds.
      assert.deepEqual(
        (await rowsOf('notes')).map(([id]) => id),
        notes,
      );
      const tagRows = await rowsOf('tags');
      assert.deepEqual(
        tagRows.map(([slug]) => slug),
        storedTags,
      );
      const pairRows = await rowsOf('_NoteToTag');
      assert.deepEqual(
        pairRows,
        pairs.map(([a, b]) => [a, b]),
      );
    } finally {
      await snapshot.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
