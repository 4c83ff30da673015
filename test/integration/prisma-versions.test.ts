// Schemas as Prisma 5 and 6 apps wrote them (datasource URLs, old preview features, a schema
// folder) and an app without migrations (`prisma db push`) start, back up and restore.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { createAdapterFactory } from '../../src/prisma/adapters.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { diffScript } from '../../src/prisma/schema-engine.ts';
import { readSchemaFiles } from '../../src/prisma/schema-files.ts';
import { GetBackupDocument, VerifyBackupDocument } from '../generated/graphql.ts';
import { dumpOf } from '../helpers/dumps.ts';
import { extractWithTar } from '../helpers/inspect.ts';
import { createScratchDatabase, withPg } from '../helpers/postgres.ts';
import { archivePath, createBackup, restoreAndWait } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const FIXTURES = path.join(PROJECT_ROOT, 'test/fixtures');

async function sql(server: TestServer, statement: string): Promise<Record<string, unknown>[]> {
  if (!server.targetUrl.startsWith('file:')) return withPg(server.targetUrl, async (client) => (await client.query(statement)).rows);
  const db = new Database(server.targetUrl.slice('file:'.length));
  try {
    if (statement.trimStart().startsWith('SELECT')) return db.prepare(statement).all() as Record<string, unknown>[];
    db.exec(statement);
    return [];
  } finally {
    db.close();
  }
}

/** A server on a fresh SQLite file, which `prepare` may fill before it starts. */
async function sqliteServer(env: Record<string, string>, prepare?: (file: string) => Promise<void>) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-prisma-versions-'));
  const file = path.join(dataDir, 'app.db');
  new Database(file).close();
  await prepare?.(file);
  return startServer({ dataDir, env: { TARGET_DATABASE_URL: `file:${file}`, ...env } });
}

/** A full backup, the rows changed, the backup restored: the rows are back, and the database dumps as before. */
async function roundTrip(server: TestServer, change: string[], query: string) {
  const before = await sql(server, query);
  const dump = dumpOf(server.targetUrl);
  const backup = await createBackup(server, { includeMedia: true });
  assert.equal(backup.restorable.ok, true, backup.restorable.reason ?? '');
  for (const statement of change) await sql(server, statement);
  assert.notDeepEqual(await sql(server, query), before);
  const { refused, job } = await restoreAndWait(server, backup.id);
  assert.equal(refused, null, JSON.stringify(refused));
  assert.equal(job?.status, 'SUCCEEDED', job?.error ?? '');
  assert.deepEqual(await sql(server, query), before);
  assert.equal(dumpOf(server.targetUrl), dump, 'the same dump, byte for byte');
  return { backup, manifest: extractWithTar(archivePath(server, backup.fileName)).manifest };
}

/** Creates a schema's tables as `prisma db push` would: the engine's diff from `from`, run on the file. */
async function push(file: string, schemaPath: string, from: string | null = null) {
  const handle = createAdapterFactory(parseDatabaseUrl(`file:${file}`));
  try {
    const previous = from === null ? null : await readSchemaFiles(from);
    const script = await diffScript(previous, await readSchemaFiles(schemaPath), handle.factory);
    const db = new Database(file);
    db.exec(script);
    db.close();
  } finally {
    await handle.close();
  }
}

test('a Prisma 6 SQLite schema with a datasource url and old preview features starts, backs up and restores', async () => {
  const server = await sqliteServer({ TARGET_SCHEMA: path.join(FIXTURES, 'prisma6-sqlite/schema.prisma') });
  try {
    await sql(server, `INSERT INTO "User" (id, email, name) VALUES (1, 'ada@example.com', 'Ada'), (2, 'bob@example.com', NULL)`);
    await sql(
      server,
      `INSERT INTO "Bookmark" (url, title, "userId") VALUES ('https://example.com/a', 'A', 1), ('https://example.com/b', 'B', 2)`,
    );
    const { backup, manifest } = await roundTrip(
      server,
      [`DELETE FROM "User" WHERE id = 2`, `UPDATE "Bookmark" SET url = 'changed'`],
      `SELECT u.email, u.name, b.url, b.title FROM "User" u JOIN "Bookmark" b ON b."userId" = u.id ORDER BY b.id`,
    );
    assert.equal(backup.schemaVersion, '20261101000000_init');
    assert.deepEqual(manifest.migrations, ['20261101000000_init']);
    assert.deepEqual(manifest.tables.map((t) => t.name).sort(), ['Bookmark', 'User']);
    // The fingerprint as docs/FORMAT.md defines it, from the tables of a full backup.
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const canonical = [...manifest.tables].sort(byName).map((t) => ({
      name: t.name,
      columns: [...t.columns]
        .sort(byName)
        .map((c) => ({ name: c.name, type: c.type, list: c.list, nullable: c.nullable, nativeType: c.nativeType })),
      key: t.key,
    }));
    assert.equal(manifest.dataModel?.fingerprint, createHash('sha256').update(JSON.stringify(canonical)).digest('hex'));
  } finally {
    await server.close();
  }
});

test('a Prisma 5 PostgreSQL schema folder with url, directUrl and shadowDatabaseUrl starts, backs up and restores', async () => {
  const server = await startServer({ provider: 'postgresql', env: { TARGET_SCHEMA: path.join(FIXTURES, 'prisma5-postgresql/schema') } });
  try {
    const project = '0b9a4a52-0000-4000-8000-000000000001';
    await sql(server, `INSERT INTO "Project" (id, name) VALUES ('${project}', 'Backups')`);
    await sql(
      server,
      `INSERT INTO "Task" ("projectId", title, status, labels) VALUES ('${project}', 'Write tests', 'DONE', '{a,b}'), ('${project}', 'Ship', 'OPEN', '{}')`,
    );
    const { backup, manifest } = await roundTrip(
      server,
      [`DELETE FROM "Task" WHERE status = 'OPEN'`, `UPDATE "Project" SET name = 'renamed'`],
      `SELECT p.name, t.title, t.status::text, t.labels FROM "Project" p JOIN "Task" t ON t."projectId" = p.id ORDER BY t.id`,
    );
    assert.equal(backup.schemaVersion, '20261101000000_init');
    assert.deepEqual(manifest.tables.map((t) => t.name).sort(), ['Project', 'Task'], 'the view ProjectSummary holds no rows of its own');
  } finally {
    await server.close();
  }
});

test('an app without migrations backs up and restores; after its schema changed, a restore is refused with the differences', async () => {
  const v1 = path.join(FIXTURES, 'db-push-sqlite/schema.prisma');
  const v2Dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-db-push-v2-'));
  const v2 = path.join(v2Dir, 'schema.prisma');
  const v1Text = await readFile(v1, 'utf8');
  await writeFile(v2, v1Text.replace('  read    Boolean @default(false)\n', '  read    Boolean @default(false)\n  note    String?\n'));
  assert.notEqual(await readFile(v2, 'utf8'), v1Text);

  const server = await sqliteServer({ TARGET_SCHEMA: v1 }, (file) => push(file, v1));
  let second: TestServer | null = null;
  try {
    await sql(server, `INSERT INTO "Shelf" (id, name) VALUES (1, 'Fiction'), (2, 'Cooking')`);
    await sql(server, `INSERT INTO "Book" ("shelfId", title, read) VALUES (1, 'Dune', 1), (2, 'Salt Fat Acid Heat', 0)`);
    const { backup, manifest } = await roundTrip(
      server,
      [`DELETE FROM "Book" WHERE read = 0`],
      `SELECT s.name, b.title, b.read FROM "Shelf" s JOIN "Book" b ON b."shelfId" = s.id ORDER BY b.id`,
    );
    assert.equal(backup.schemaVersion, null);
    assert.deepEqual(manifest.migrations, []);
    assert.match(manifest.dataModel?.fingerprint ?? '', /^[0-9a-f]{64}$/);
    const verified = await server.gql(VerifyBackupDocument, { input: { backupId: backup.id } });
    assert.equal(verified.verifyBackup.__typename, 'VerifyBackupPayload');
    if (verified.verifyBackup.__typename === 'VerifyBackupPayload') assert.equal(verified.verifyBackup.report.ok, true);

    // The app gains a field and pushes it; the control plane restarts with the new schema.
    await server.stop();
    await push(server.targetUrl.slice('file:'.length), v2, v1);
    second = await startServer({ dataDir: server.dataDir, env: { TARGET_DATABASE_URL: server.targetUrl, TARGET_SCHEMA: v2 } });
    const rows = `SELECT id, title FROM "Book" ORDER BY id`;
    const before = await sql(second, rows);
    const reason =
      "the backup's data model differs from this target's, which has no migrations to bring it forward: column Book.note is only in this target";
    const listed = (await second.gql(GetBackupDocument, { id: backup.id })).backup;
    assert.deepEqual(listed?.restorable, { ok: false, reason });
    const { refused } = await restoreAndWait(second, backup.id);
    assert.equal(refused?.__typename, 'NewerSchemaError');
    assert.equal(refused?.message, reason);
    assert.deepEqual(await sql(second, rows), before, 'nothing changed');
  } finally {
    // The second server shares the first one's data folder.
    await (second ?? server).close();
    await rm(v2Dir, { recursive: true, force: true });
  }
});

test('models in named database schemas (multiSchema) stop start-up with one line', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-multi-schema-'));
  const schema = path.join(dir, 'schema.prisma');
  await writeFile(
    schema,
    `datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n  schemas  = ["billing"]\n}\n\nmodel Invoice {\n  id Int @id\n\n  @@schema("billing")\n}\n`,
  );
  const database = await createScratchDatabase();
  try {
    await assert.rejects(startServer({ provider: 'postgresql', database, dataDir: dir, env: { TARGET_SCHEMA: schema } }), {
      message: 'TARGET_SCHEMA cannot be read: model Invoice is in database schema "billing": @@schema (multiSchema) is not supported',
    });
  } finally {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  }
});
