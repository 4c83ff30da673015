// Start-up failures are one line naming the cause, exit code 78 and nothing changed: a taken
// port, a wrong host, an unreachable database, a schema that cannot be read or does not match
// the database, a migration that fails.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { LEDGER_DIR, ledgerTarget } from '../helpers/ledger.ts';
import { createScratchDatabase, withPg } from '../helpers/postgres.ts';
import { startProcess, type Exited } from '../helpers/start-process.ts';

let tmp: string;
let ledger: Awaited<ReturnType<typeof ledgerTarget>>;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'bcp-startup-failures-'));
  ledger = await ledgerTarget();
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
  await rm(ledger.dataDir, { recursive: true, force: true });
});

function start(env: Record<string, string>): Promise<Exited> {
  return startProcess({ PORT: '0', ...ledger.env, ...env });
}

/** Exit code 78 and one line, `configuration error: VARIABLE …`, matching `pattern`. */
function assertOneLine(result: { code: number | null; stderr: string }, variable: string, pattern: RegExp): void {
  assert.equal(result.code, 78, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, not a stack trace:\n${result.stderr}`);
  assert.match(lines[0]!, new RegExp(`^configuration error: ${variable} `));
  assert.match(lines[0]!, pattern);
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

describe('start-up failures', () => {
  let taken: Server;

  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  });

  after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  test('a port in use: one line, before the data folder is even made', async () => {
    const port = (taken.address() as { port: number }).port;
    const dataDir = path.join(tmp, 'port-data');
    const result = await start({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir });
    assertOneLine(result, 'PORT', new RegExp(`^configuration error: PORT ${port} is already in use on 127\\.0\\.0\\.1$`));
    await assert.rejects(stat(dataDir), 'nothing was created');
  });

  test('a schema that does not match the database: one line naming what is missing, the database untouched', async () => {
    const before = await sha256(ledger.file);
    // The v2 schema has Account.currency; the v1 migrations, all applied, never made it.
    const result = await start({
      DATA_DIR: path.join(tmp, 'mismatch-data'),
      TARGET_SCHEMA: path.join(PROJECT_ROOT, 'test/fixtures/ledger-v2-sqlite/schema.prisma'),
    });
    assertOneLine(result, 'TARGET_SCHEMA', /does not match the database.*: missing "Account"\."currency"$/);
    assert.equal(await sha256(ledger.file), before, 'the database file is as it was');
  });

  test('a migration with bad SQL: one line with its name and the database message', async () => {
    const migrations = path.join(tmp, 'broken-migrations');
    await cp(path.join(LEDGER_DIR, 'migrations'), migrations, { recursive: true });
    await mkdir(path.join(migrations, '20261201000000_broken'));
    await writeFile(path.join(migrations, '20261201000000_broken', 'migration.sql'), 'CREATE TABLE "Broken" (id INTEGER PRIMARY KEY,);\n');
    // A database of its own: the failed attempt is recorded in its _prisma_migrations.
    const own = await ledgerTarget();
    try {
      // Only a start asked to deploy runs the app's migrations.
      const result = await start({
        ...own.env,
        DATA_DIR: path.join(tmp, 'migration-data'),
        TARGET_MIGRATIONS: migrations,
        TARGET_MIGRATE: 'deploy',
      });
      assertOneLine(result, 'TARGET_MIGRATIONS', /migration 20261201000000_broken failed: near "\)": syntax error$/);
    } finally {
      await rm(own.dataDir, { recursive: true, force: true });
    }
  });

  test('a schema that cannot be parsed: one line with the parser message and the place', async () => {
    const schema = path.join(tmp, 'broken.prisma');
    await writeFile(schema, 'datasource db {\n  provider = "sqlite"\n}\n\nmodel Account {\n  id Int @id\n  name\n}\n');
    const result = await start({ DATA_DIR: path.join(tmp, 'schema-data'), TARGET_SCHEMA: schema });
    assertOneLine(result, 'TARGET_SCHEMA', new RegExp(`cannot be read: .*model "Account".*\\(${schema.replace(/[.]/g, '\\.')}:7\\)$`));
  });

  test('a host that is not an address of this machine: one line, nothing created, on a fixed port and on port 0', async () => {
    for (const port of ['0', String((taken.address() as { port: number }).port + 1)]) {
      const dataDir = path.join(tmp, `host-data-${port}`);
      const result = await start({ HOST: '256.1.1.1', PORT: port, DATA_DIR: dataDir });
      assertOneLine(result, 'HOST', /^configuration error: HOST 256\.1\.1\.1 is not an address of this machine \((ENOTFOUND|EAI_AGAIN)\)$/);
      await assert.rejects(stat(dataDir), `PORT=${port}: nothing was created`);
    }
    const unknown = await start({ HOST: 'no-such-host.invalid', DATA_DIR: path.join(tmp, 'host-name-data') });
    assertOneLine(
      unknown,
      'HOST',
      /^configuration error: HOST no-such-host\.invalid is not an address of this machine \((ENOTFOUND|EAI_AGAIN)\)$/,
    );
    await assert.rejects(stat(path.join(tmp, 'host-name-data')));
  });

  test('an unreachable control database: one line, and neither the data folder nor the target database touched', async () => {
    const target = await createScratchDatabase();
    try {
      const dataDir = path.join(tmp, 'control-data');
      const result = await start({
        DATA_DIR: dataDir,
        CONTROL_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/control',
        TARGET_SCHEMA: path.join(PROJECT_ROOT, 'test/fixtures/ledger-postgresql/schema.prisma'),
        TARGET_MIGRATIONS: path.join(PROJECT_ROOT, 'test/fixtures/ledger-postgresql/migrations'),
        TARGET_DATABASE_URL: target.url,
      });
      assertOneLine(
        result,
        'CONTROL_DATABASE_URL',
        /^configuration error: CONTROL_DATABASE_URL cannot connect to PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\)$/,
      );
      await assert.rejects(stat(dataDir), 'nothing was created');
      assert.deepEqual(await tablesIn(target.url), [], 'the target was not migrated');
    } finally {
      await target.drop();
    }
  });

  test('an unreachable target database: one line, no example files, setup code or control tables', async () => {
    const control = await createScratchDatabase('bcp_control');
    try {
      const dataDir = path.join(tmp, 'target-data');
      // The bundled example on PostgreSQL: its files and secrets would be made on a first start.
      const result = await startProcess({
        PORT: '0',
        DATA_DIR: dataDir,
        CONTROL_DATABASE_URL: control.url,
        TARGET_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/target',
      });
      assertOneLine(
        result,
        'TARGET_DATABASE_URL',
        /^configuration error: TARGET_DATABASE_URL cannot connect to PostgreSQL at 127\.0\.0\.1:1 \(ECONNREFUSED\)$/,
      );
      await assert.rejects(stat(dataDir), 'no data folder, example files or setup code');
      assert.deepEqual(await tablesIn(control.url), [], 'the control database was not migrated');
    } finally {
      await control.drop();
    }
  });

  test('a PostgreSQL server that refuses the database: its own words, on one line', async () => {
    const result = await start({
      DATA_DIR: path.join(tmp, 'missing-database-data'),
      CONTROL_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/bcp_no_such_database',
    });
    assertOneLine(
      result,
      'CONTROL_DATABASE_URL',
      /cannot connect to PostgreSQL at 127\.0\.0\.1:5432 \(database "bcp_no_such_database" does not exist\)$/,
    );
  });
});

async function tablesIn(url: string): Promise<string[]> {
  return withPg(url, async (client) =>
    (await client.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.name),
  );
}
