// Nothing is written per table: a differently shaped app (a schema folder, mapped snake_case
// names, UUID and composite keys, an implicit many-to-many table) backs up as well.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { countRows, extractWithTar } from '../helpers/inspect.ts';
import { createScratchDatabase, withPg } from '../helpers/postgres.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const FOLDERS = ['1e7a2d8c-0000-4000-8000-000000000001', '1e7a2d8c-0000-4000-8000-000000000002'];
const NOTES = ['5b1f0c3a-0000-4000-8000-00000000000a', '5b1f0c3a-0000-4000-8000-00000000000b', '5b1f0c3a-0000-4000-8000-00000000000c'];

/** The same data on either database, in plain SQL an app could have written. */
const DATA_SQL = (bytes: string, time: string) => [
  `INSERT INTO folders (id, name, parent_id) VALUES ('${FOLDERS[0]}', 'Home', NULL), ('${FOLDERS[1]}', 'Recipes', '${FOLDERS[0]}')`,
  `INSERT INTO notes (id, folder_id, title, body, pinned, created_at) VALUES
     ('${NOTES[0]}', '${FOLDERS[0]}', 'Groceries', 'milk, eggs', true, ${time}),
     ('${NOTES[1]}', '${FOLDERS[1]}', 'Pancakes', '2 eggs ✓', false, ${time}),
     ('${NOTES[2]}', '${FOLDERS[1]}', 'Waffles', '', false, ${time})`,
  `INSERT INTO tags (slug, label) VALUES ('food', 'Food'), ('todo', 'To do')`,
  `INSERT INTO "_NoteToTag" ("A", "B") VALUES ('${NOTES[0]}', 'todo'), ('${NOTES[0]}', 'food'), ('${NOTES[1]}', 'food')`,
  `INSERT INTO note_revisions (note_id, number, content, meta) VALUES ('${NOTES[0]}', 1, ${bytes}, '{"by":"me"}'), ('${NOTES[0]}', 2, ${bytes}, NULL)`,
];

async function checkBackups(server: TestServer) {
  const configOnly = await createBackup(server);
  assert.match(configOnly.fileName, /^notes-backup-.*-manual\.tar\.gz$/);
  assert.deepEqual(configOnly.tables.map((t) => t.name).sort(), ['_NoteToTag', 'folders', 'notes', 'tags']);
  const full = await createBackup(server, { includeMedia: true });
  assert.deepEqual(full.tables.map((t) => t.name).sort(), ['_NoteToTag', 'folders', 'note_revisions', 'notes', 'tags']);
  for (const table of full.tables) assert.equal(table.rows, await countRows(server.targetUrl, table.name), table.name);

  const archive = extractWithTar(archivePath(server, full.fileName));
  const folders = archive.manifest.tables.find((t) => t.name === 'folders')!;
  assert.deepEqual(
    folders.columns.map((c) => c.name),
    ['id', 'name', 'parent_id'],
    'mapped column names',
  );
  const join = archive.manifest.tables.find((t) => t.name === '_NoteToTag')!;
  assert.equal(join.model, null);
  // In the order the rows were stored, as the database's own dump lists them.
  assert.deepEqual(archive.rows(join.path), [
    [NOTES[0], 'todo'],
    [NOTES[0], 'food'],
    [NOTES[1], 'food'],
  ]);
  const revisions = archive.manifest.tables.find((t) => t.name === 'note_revisions')!;
  assert.deepEqual(revisions.key, ['note_id', 'number'], 'the composite key is recorded');
  assert.ok(archive.entries.includes('files/settings.json'));
}

test('SQLite: a differently shaped app backs up', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-notes-'));
  const file = path.join(dataDir, 'notes.db');
  new Database(file).close();
  await writeFile(path.join(dataDir, 'settings.json'), '{"theme":"light"}');
  const server = await startServer({
    dataDir,
    env: {
      TARGET_DATABASE_URL: `file:${file}`,
      TARGET_SCHEMA: path.join(PROJECT_ROOT, 'test/fixtures/notes-app/schema'),
      TARGET_FILES: path.join(dataDir, 'settings.json'),
      TARGET_NAME: 'notes',
    },
  });
  try {
    const db = new Database(file);
    for (const sql of DATA_SQL(`x'00ff10'`, `'2026-03-01T10:00:00.000+00:00'`))
      db.exec(sql.replace(/\btrue\b/g, '1').replace(/\bfalse\b/g, '0'));
    db.close();
    await checkBackups(server);
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('PostgreSQL: a differently shaped app backs up', async () => {
  const database = await createScratchDatabase();
  const filesDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-notes-files-'));
  await writeFile(path.join(filesDir, 'settings.json'), '{"theme":"light"}');
  const server = await startServer({
    provider: 'postgresql',
    database,
    env: {
      TARGET_SCHEMA: path.join(PROJECT_ROOT, 'test/fixtures/notes-app-postgresql/schema'),
      TARGET_FILES: path.join(filesDir, 'settings.json'),
      TARGET_NAME: 'notes',
    },
  });
  try {
    await withPg(database.url, async (client) => {
      for (const sql of DATA_SQL(`'\\x00ff10'`, `'2026-03-01 10:00:00'`)) await client.query(sql);
    });
    await checkBackups(server);
  } finally {
    await server.close();
    await rm(filesDir, { recursive: true, force: true });
  }
});
