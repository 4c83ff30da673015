// Unexpected errors are logged with their causes, stack and an id that the client is given
// (GraphQL over HTTP and websocket, REST, a restore job); a failed migration names itself.
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { print } from 'graphql';
import { createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { createAdapterFactory } from '../../src/prisma/adapters.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { applyMigrations } from '../../src/prisma/schema-engine.ts';
import { readSchemaFiles } from '../../src/prisma/schema-files.ts';
import { CreateBackupDocument, RestoreBackupDocument, RestoreJobDocument } from '../generated/graphql.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { captureLog, type CapturedLog, type LogLine } from '../helpers/log-capture.ts';
import { createScratchDatabase } from '../helpers/postgres.ts';
import { archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, waitFor, wsAuth, type TestServer } from '../helpers/server.ts';

const MASKED = /^Unexpected error \(id ([0-9a-f]{8})\): see the server log\.$/;

/** The log line for an error id: its message has the causes on one line, its `err` the stack. */
function logEntry(log: CapturedLog, errorId: string): LogLine {
  const entry = log.lines().find((line) => line.errorId === errorId);
  assert.ok(entry, `a log line for error ${errorId} in:\n${log.text()}`);
  return entry;
}

describe('an unexpected error in a resolver', () => {
  let server: TestServer;
  let log: CapturedLog;

  before(async () => {
    const ledger = await ledgerTarget();
    fillLedger(ledger.file, 3, 2);
    server = await startServer({ dataDir: ledger.dataDir, env: ledger.env });
    // A table dropped behind the server's back: a full backup cannot read it.
    const db = new Database(ledger.file);
    db.exec('DROP TABLE "Entry"');
    db.close();
    log = captureLog();
  });

  after(async () => {
    log.stop();
    await server.close();
  });

  test('over HTTP: the client gets a masked error with an id, the log has the cause and stack', async () => {
    const response = await server.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: print(CreateBackupDocument), variables: { input: { includeMedia: true } } }),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    const [error] = body.errors;
    const errorId = MASKED.exec(error!.message)?.[1];
    assert.ok(errorId, error!.message);
    assert.deepEqual(error!.extensions, { code: 'INTERNAL_SERVER_ERROR', errorId });
    assert.doesNotMatch(text, /no such table|Entry|sqlite/i, 'nothing of the cause reaches the client');
    const entry = logEntry(log, errorId);
    assert.equal(entry.level, 'error');
    assert.match(entry.msg, /^error [0-9a-f]{8} in graphql createBackup: .*no such table: Entry/);
    assert.match((entry.err as { stack: string }).stack, /\n\s+at /, 'the stack is in the line');
  });

  test('over the websocket: the same masking, the same log', async () => {
    const client = createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: wsAuth(server.token),
    });
    try {
      const result = await new Promise<FormattedExecutionResult<unknown, unknown>>((resolve, reject) => {
        let last: FormattedExecutionResult<unknown, unknown> | null = null;
        client.subscribe(
          { query: print(CreateBackupDocument), variables: { input: { includeMedia: true } } },
          { next: (value) => void (last = value), error: reject, complete: () => resolve(last!) },
        );
      });
      const error = result.errors?.[0];
      const errorId = MASKED.exec(error?.message ?? '')?.[1];
      assert.ok(errorId, JSON.stringify(result));
      assert.equal(error!.extensions?.errorId, errorId);
      assert.equal(error!.extensions?.code, 'INTERNAL_SERVER_ERROR');
      assert.match(logEntry(log, errorId).msg, /in graphql createBackup: .*no such table: Entry/);
    } finally {
      await client.dispose();
    }
  });

  test('over REST: the 500 body carries the id of the log line', async () => {
    const response = await server.fetch('/api/v1/backups', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ includeMedia: true }),
    });
    assert.equal(response.status, 500);
    const { error } = (await response.json()) as { error: { type: string; message: string; errorId: string } };
    assert.equal(error.type, 'InternalError');
    assert.match(error.message, MASKED);
    assert.match(logEntry(log, error.errorId).msg, /in POST \/api\/v1\/backups: .*no such table: Entry/);
  });
});

/** A copy of a ledger fixture with one more migration, whose SQL is `sql`. */
async function ledgerWithMigration(provider: 'sqlite' | 'postgresql', name: string, sql: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-migration-'));
  await cp(path.join(PROJECT_ROOT, 'test/fixtures', `ledger-${provider}`), dir, { recursive: true });
  await mkdir(path.join(dir, 'migrations', name));
  await writeFile(path.join(dir, 'migrations', name, 'migration.sql'), sql);
  return dir;
}

describe('a migration that fails', () => {
  const cases = [
    { provider: 'sqlite', sql: 'CREATE TABLE "Broken" (id INTEGER PRIMARY KEY,);', message: 'near ")": syntax error' },
    { provider: 'postgresql', sql: 'ALTER TABLE "Nope" ADD COLUMN "x" INTEGER;', message: 'relation "Nope" does not exist' },
  ] as const;
  for (const { provider, sql, message } of cases) {
    test(`on ${provider}: the database's message and the migration's name, not the engine's`, async () => {
      const dir = await ledgerWithMigration(provider, '20261201000000_broken', sql);
      const database = provider === 'postgresql' ? await createScratchDatabase() : null;
      const url = database?.url ?? `file:${path.join(dir, 'ledger.db')}`;
      const handle = createAdapterFactory(parseDatabaseUrl(url));
      try {
        const schema = await readSchemaFiles(path.join(dir, 'schema.prisma'));
        const error = await applyMigrations(schema, path.join(dir, 'migrations'), handle.factory).then(
          () => assert.fail('the migration should fail'),
          (error: unknown) => error as Error,
        );
        assert.equal(error.message, `migration 20261201000000_broken failed: ${message}`);
        assert.doesNotMatch(error.message, /external connector error|sql_schema_connector/);
      } finally {
        await handle.close();
        await database?.drop();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  test('while an older backup is brought forward: the restore job says so, the log has the id', async () => {
    // The new migration holds on the empty target but not on the backup's rows: two entries per account.
    const migration = '20261201000000_one_entry_per_account';
    const dir = await ledgerWithMigration('sqlite', migration, 'CREATE UNIQUE INDEX "Entry_one_per_account" ON "Entry"("accountId");');
    const old = await ledgerTarget();
    const next = await ledgerTarget({ TARGET_MIGRATIONS: path.join(dir, 'migrations') });
    const v1 = await startServer({ dataDir: old.dataDir, env: old.env });
    const v2 = await startServer({ dataDir: next.dataDir, env: next.env });
    const log = captureLog();
    try {
      fillLedger(old.file, 3, 2);
      const backup = await createBackup(v1, { includeMedia: true });
      await copyFile(archivePath(v1, backup.fileName), archivePath(v2, backup.fileName));
      const started = await v2.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
      assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload', JSON.stringify(started));
      if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return;
      const jobId = started.restoreBackup.job.id;
      const job = await waitFor('the restore to end', async () => {
        const { restoreJob } = await v2.gql(RestoreJobDocument, { id: jobId });
        return restoreJob && ['SUCCEEDED', 'FAILED'].includes(restoreJob.status) ? restoreJob : null;
      });
      assert.equal(job.status, 'FAILED');
      assert.match(job.error ?? '', new RegExp(`^migration ${migration} failed: UNIQUE constraint failed: Entry\\.accountId`));
      const errorId = /\(error id ([0-9a-f]{8}): see the server log\)$/.exec(job.error ?? '')?.[1];
      assert.ok(errorId, job.error ?? '');
      assert.match(logEntry(log, errorId).msg, new RegExp(`in restore job ${jobId}: SchemaEngineError: migration ${migration} failed`));
      const target = new Database(next.file, { readonly: true });
      assert.deepEqual(target.prepare('SELECT count(*) AS n FROM "Entry"').get(), { n: 0 }, 'the target was left as it was');
      target.close();
    } finally {
      log.stop();
      await v1.close();
      await v2.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
