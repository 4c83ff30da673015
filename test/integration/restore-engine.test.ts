// The restore engine puts back exactly what was backed up, in one transaction, on both
// databases: a backup of the restored data has the same hash for every table.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { readManifest } from '../../src/archive/archive-reader.ts';
import { checkedArchiveSource, replaceData } from '../../src/engine/restore.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { loadTarget } from '../../src/target/target.ts';
import { editManifest, pack, readEntries, replaceTableRows } from '../helpers/archive-edit.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { countRows } from '../helpers/inspect.ts';
import { withPg } from '../helpers/postgres.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** Changes the app's data the way a user might regret: deletes, edits, new rows. */
async function mutate(server: TestServer) {
  const statements = [
    `DELETE FROM "MediaServer" WHERE id = 'server-jellyfin'`,
    `UPDATE "AppSetting" SET value = '{"language":"de"}' WHERE key = 'general'`,
    `DELETE FROM "WatchHistory" WHERE id % 3 = 0`,
    `INSERT INTO "LogEntry" (level, source, message, "createdAt") VALUES ('WARN', 'test', 'after the backup', '2026-06-01T00:00:00.000+00:00')`,
  ];
  await run(server, statements);
}

/** A connection of the app's own that keeps reading while the restore runs. */
async function reader(server: TestServer, sql: string) {
  if (server.targetUrl.startsWith('file:')) {
    const db = new Database(server.targetUrl.slice('file:'.length), { readonly: true });
    const statement = db.prepare(sql);
    return { query: async () => statement.get() as Record<string, number>, close: async () => void db.close() };
  }
  const client = new pg.Client({ connectionString: server.targetUrl });
  await client.connect();
  return {
    query: async () => Object.fromEntries(Object.entries((await client.query(sql)).rows[0]).map(([k, v]) => [k, Number(v)])),
    close: () => client.end(),
  };
}

/** Runs SQL as the app would, on its own connection. */
async function run(server: TestServer, statements: string[]) {
  if (server.targetUrl.startsWith('file:')) {
    const db = new Database(server.targetUrl.slice('file:'.length));
    for (const sql of statements) db.prepare(sql).run();
    db.close();
  } else {
    await withPg(server.targetUrl, async (client) => {
      for (const sql of statements) await client.query(sql);
    });
  }
}

/** Every index and constraint of the target, as the database itself prints them. */
async function keyDefinitions(server: TestServer) {
  if (server.targetUrl.startsWith('file:')) {
    const db = new Database(server.targetUrl.slice('file:'.length), { readonly: true });
    try {
      const indexes = db.prepare(`SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name`).all();
      return { constraints: [] as unknown[], indexes };
    } finally {
      db.close();
    }
  }
  return withPg(server.targetUrl, async (client) => {
    const constraints = await client.query(
      `SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def, condeferrable FROM pg_constraint
       WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`,
    );
    const indexes = await client.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2`,
    );
    return { constraints: constraints.rows, indexes: indexes.rows };
  });
}

async function restore(server: TestServer, fileName: string) {
  await restoreFile(server, archivePath(server, fileName));
}

/** As a restore of a current backup runs: the manifest first, then one pass that loads and checks. */
async function restoreFile(server: TestServer, file: string) {
  const manifest = await readManifest(createReadStream(file));
  const { target } = server.app.config;
  const tables = (await loadTarget(target)).schema.tables;
  const source = checkedArchiveSource({
    manifest,
    targetTables: tables,
    openArchive: () => createReadStream(file),
    compressedBytes: (await stat(file)).size,
  });
  await replaceData({ location: parseDatabaseUrl(server.targetUrl), tables, source });
}

for (const provider of ['sqlite', 'postgresql'] as const) {
  describe(`restoring the example on ${provider}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer({ provider });
    });
    after(async () => {
      await server.close();
    });

    test('a round trip is byte-identical for every table and every scalar type', async () => {
      const keys = await keyDefinitions(server);
      assert.ok(keys.indexes.length > 15, 'the example has indexes to keep');
      if (provider === 'postgresql') assert.ok(keys.constraints.length > 20, 'and constraints');
      const original = await createBackup(server, { includeMedia: true });
      const logRows = await countRows(server.targetUrl, 'LogEntry');
      await mutate(server);
      assert.equal(await countRows(server.targetUrl, 'LogEntry'), logRows + 1);
      await restore(server, original.fileName);
      const again = await createBackup(server, { includeMedia: true });
      assert.deepEqual(
        again.tables.map((t) => [t.name, t.rows, t.sha256]),
        original.tables.map((t) => [t.name, t.rows, t.sha256]),
      );
      assert.deepEqual(await keyDefinitions(server), keys, 'every index and constraint is back exactly as it was');
    });

    test('restored into a fresh database, the app inserts into autoincrement tables without a key conflict', async () => {
      const backup = await createBackup(server, { includeMedia: true });
      // A fresh install: every sequence at its start, so restored ids are ahead of it.
      await run(
        server,
        provider === 'sqlite'
          ? ['DELETE FROM sqlite_sequence']
          : [
              `SELECT setval(pg_get_serial_sequence('"LogEntry"', 'id'), 1, false)`,
              `SELECT setval(pg_get_serial_sequence('"WatchHistory"', 'id'), 1, false)`,
            ],
      );
      await restore(server, backup.fileName);
      await run(server, [
        `INSERT INTO "LogEntry" (level, source, message, "createdAt") VALUES ('INFO', 'app', 'next insert', '2026-06-02T00:00:00.000+00:00')`,
        `INSERT INTO "WatchHistory" ("userId", "mediaItemId", "watchedAt", progress, completed) SELECT 'user-admin', id, '2026-06-02T00:00:00.000+00:00', 0.5, false FROM "MediaItem" LIMIT 1`,
      ]);
    });

    test('a restore that fails at the commit leaves the old data exactly as it was', async () => {
      const before = await createBackup(server, { includeMedia: true });
      // Well-formed and consistent with its manifest, but every library's server is gone.
      const entries = replaceTableRows(await readEntries(await readFile(archivePath(server, before.fileName))), 'MediaServer', () => []);
      const broken = path.join(server.dataDir, 'broken.tar.gz');
      await writeFile(broken, await pack(entries));
      const keys = await keyDefinitions(server);
      await assert.rejects(restoreFile(server, broken), /foreign key|reference/i);
      assert.deepEqual(await keyDefinitions(server), keys, 'the rollback keeps every index and constraint');
      const after = await createBackup(server, { includeMedia: true });
      assert.deepEqual(
        after.tables.map((t) => [t.name, t.sha256]),
        before.tables.map((t) => [t.name, t.sha256]),
      );
    });

    test('a table that does not match its hash, found after its rows were loaded, rolls everything back', async () => {
      const before = await createBackup(server, { includeMedia: true });
      const entries = await readEntries(await readFile(archivePath(server, before.fileName)));
      // The last table of the archive: every other table is loaded by the time it is checked.
      const lastTable = before.tables.at(-1)!.name;
      const lying = editManifest(entries, (m) => void (m.tables.find((t) => t.name === lastTable)!.sha256 = '0'.repeat(64)));
      const broken = path.join(server.dataDir, 'lying.tar.gz');
      await writeFile(broken, await pack(lying));
      await mutate(server);
      const changed = await createBackup(server, { includeMedia: true });
      const keys = await keyDefinitions(server);
      await assert.rejects(restoreFile(server, broken), new RegExp(`${lastTable}.ndjson does not match its SHA-256`));
      assert.deepEqual(await keyDefinitions(server), keys, 'every index and constraint as it was');
      const after = await createBackup(server, { includeMedia: true });
      assert.deepEqual(
        after.tables.map((t) => [t.name, t.sha256]),
        changed.tables.map((t) => [t.name, t.sha256]),
        'every table as it was',
      );
      await restore(server, before.fileName);
    });

    test('a duplicate in a unique column fails the restore when its index is rebuilt, and changes nothing', async () => {
      const before = await createBackup(server, { includeMedia: true });
      const entries = await readEntries(await readFile(archivePath(server, before.fileName)));
      const manifest = JSON.parse(entries[0]!.content.toString()) as { tables: { name: string; columns: { name: string }[] }[] };
      const idColumn = manifest.tables.find((t) => t.name === 'User')!.columns.findIndex((c) => c.name === 'id');
      // A second user with the first one's username: only the unique index can tell.
      const duplicated = replaceTableRows(entries, 'User', (rows) => [
        ...rows,
        rows[0]!.map((value, i) => (i === idColumn ? 'user-duplicate' : value)),
      ]);
      const broken = path.join(server.dataDir, 'duplicate.tar.gz');
      await writeFile(broken, await pack(duplicated));
      const keys = await keyDefinitions(server);
      await assert.rejects(restoreFile(server, broken), /unique/i);
      assert.deepEqual(await keyDefinitions(server), keys);
      const after = await createBackup(server, { includeMedia: true });
      assert.deepEqual(
        after.tables.map((t) => [t.name, t.sha256]),
        before.tables.map((t) => [t.name, t.sha256]),
      );
    });

    test('a reader polling during the restore sees the old data or the new, never a mix', async () => {
      const backup = await createBackup(server, { includeMedia: true });
      await run(server, [`DELETE FROM "MediaServer"`]); // cascades to libraries, items and all that hangs off them
      const snapshotSql = `SELECT (SELECT count(*) FROM "MediaServer") AS servers, (SELECT count(*) FROM "MediaItem") AS items,
        (SELECT count(*) FROM "WatchHistory") AS history, (SELECT count(*) FROM "AppSetting") AS settings`;
      const expectedNew = (name: string) => backup.tables.find((t) => t.name === name)!.rows;
      const newState = `${expectedNew('MediaServer')}/${expectedNew('MediaItem')}/${expectedNew('WatchHistory')}/${expectedNew('AppSetting')}`;
      const oldState = `0/0/0/${expectedNew('AppSetting')}`;
      const seen = new Set<string>();
      let polling = true;
      const read = await reader(server, snapshotSql);
      const poller = (async () => {
        while (polling) {
          const row = await read.query();
          seen.add(`${row.servers}/${row.items}/${row.history}/${row.settings}`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await restore(server, backup.fileName);
      polling = false;
      await poller;
      seen.add(Object.values(await read.query()).join('/'));
      await read.close();
      assert.deepEqual(
        [...seen].filter((state) => state !== oldState && state !== newState),
        [],
        'no mixed state',
      );
      assert.ok(seen.has(oldState) && seen.has(newState), `the reader saw both sides: ${[...seen]}`);
    });

    if (provider === 'postgresql') {
      test('the restored tables are loaded frozen and all-visible, with nothing left for VACUUM to do', async () => {
        const backup = await createBackup(server, { includeMedia: true });
        await mutate(server);
        await restore(server, backup.fileName);
        const pages = await withPg(server.targetUrl, async (client) => {
          await client.query('CREATE EXTENSION IF NOT EXISTS pg_visibility');
          const map = await client.query(
            `SELECT count(*)::int AS pages, count(*) FILTER (WHERE all_frozen)::int AS frozen FROM pg_visibility_map('"WatchHistory"')`,
          );
          await client.query('DROP EXTENSION pg_visibility');
          return map.rows[0] as { pages: number; frozen: number };
        });
        assert.ok(pages.pages > 0, 'the table has pages');
        assert.equal(pages.frozen, pages.pages, 'every page is frozen');
      });
    }

    test('a config-only restore empties the media tables and restores the configuration', async () => {
      const configOnly = await createBackup(server);
      await mutate(server);
      await restore(server, configOnly.fileName);
      assert.equal(await countRows(server.targetUrl, 'MediaItem'), 0, 'media data is re-created by the next sync');
      assert.equal(await countRows(server.targetUrl, 'MediaServer'), 2, 'the deleted server is back');
    });
  });
}
