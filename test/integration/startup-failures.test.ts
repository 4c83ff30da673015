// Start-up failures are one line naming the cause, exit code 78 and nothing changed: a taken
// port, a schema that cannot be read or does not match the database, a migration that fails.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { LEDGER_DIR, ledgerTarget } from '../helpers/ledger.ts';
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
      const result = await start({ ...own.env, DATA_DIR: path.join(tmp, 'migration-data'), TARGET_MIGRATIONS: migrations });
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

  test('an unreachable control database: one line', async () => {
    const result = await start({
      DATA_DIR: path.join(tmp, 'control-data'),
      CONTROL_DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/control',
    });
    assertOneLine(result, 'CONTROL_DATABASE_URL', /cannot be used: Can't reach database server at `127\.0\.0\.1:1`/);
  });
});
