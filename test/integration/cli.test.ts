// The command-line tool, run through its bin in processes of their own and with no terminal,
// as a script runs it: with the server stopped it lists, backs up, inspects, verifies,
// decrypts and restores, a restore onto a fresh machine (the SQLite file deleted, the
// PostgreSQL database recreated empty) included; it refuses what it must, with its exit codes.
// And a server started against a missing target serves the first-run restore that brings it back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { openControlDatabase } from '../../src/control/control-db.ts';
import { loadSecretKey } from '../../src/control/secret-box.ts';
import { AuditLog } from '../../src/modules/access/audit-log.ts';
import { WebhookService } from '../../src/modules/notifications/webhook-service.ts';
import { RestoreLease } from '../../src/modules/restore-lease.ts';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';
import { newInstanceId } from '../../src/util/instance-id.ts';
import { pack, readEntries } from '../helpers/archive-edit.ts';
import { CLI_BIN, jsonLines, restoredDump, runCli } from '../helpers/cli.ts';
import { dumpOf, pgDump, sqliteDump } from '../helpers/dumps.ts';
import { extractWithTar } from '../helpers/inspect.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { adminQuery, withPg } from '../helpers/postgres.ts';
import { RestoreBackupDocument } from '../generated/graphql.ts';
import { startServer, TEST_ADMIN, waitFor, type TestServer } from '../helpers/server.ts';
import { signedBy, startReceiver } from '../helpers/webhook-receiver.ts';

const run = promisify(execFile);
const PASSPHRASE = 'a passphrase for the command line';

type Json = Record<string, unknown>;

/** The one result object of a --json run, after its progress objects. */
function resultOf(stdout: string): Json {
  const lines = jsonLines(stdout);
  assert.equal(lines.at(-1)?.type, 'result', stdout);
  assert.ok(
    lines.slice(0, -1).every((line) => line.type === 'progress'),
    `only progress before the result: ${stdout}`,
  );
  return lines.at(-1)!;
}

async function removeSqlite(file: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${file}${suffix}`, { force: true });
}

describe('the tool against the bundled example on SQLite, the server stopped', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let tmp: string;
  let passphraseFile: string;
  let plain: string;
  let encrypted: string;

  before(async () => {
    server = await startServer();
    await server.stop();
    env = { DATA_DIR: server.dataDir, TARGET_DATABASE_URL: server.targetUrl };
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bcp-cli-'));
    passphraseFile = path.join(tmp, 'passphrase');
    await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  });

  after(async () => {
    await server?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('npx runs the bin from the checkout: --help lists the commands and the exit codes; a wrong command is a usage error', async () => {
    const { stdout } = await run('npx', ['--no-install', 'backup-control-plane', '--help'], { cwd: path.dirname(path.dirname(CLI_BIN)) });
    for (const command of ['list', 'backup', 'verify', 'restore', 'decrypt', 'inspect'])
      assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
    assert.match(stdout, /Exit codes:\n {2}0 {3}done\n {2}1 /);
    const wrong = await runCli(['restroe', 'x'], env);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /unknown command 'restroe'/);
  });

  test('list, backup (plain and encrypted) and inspect, with --json and as plain lines', async () => {
    const listed = resultOf((await runCli(['list', '--json'], env)).stdout);
    assert.deepEqual(listed.backups, []);
    assert.deepEqual((listed.target as Json).state, 'present');

    const made = await runCli(['backup', '--media', '--note', 'from the tool', '--json'], env);
    assert.equal(made.code, 0, made.stderr);
    const lines = jsonLines(made.stdout);
    assert.equal(lines[0]?.type, 'progress');
    const backup = resultOf(made.stdout).backup as Json;
    plain = backup.id as string;
    assert.match(plain, /^app-backup-.*-manual\.tar\.gz$/);
    assert.equal(backup.includesMedia, true);
    assert.equal(backup.encrypted, false);

    const sealed = await runCli(['backup', '--passphrase-file', passphraseFile], env);
    assert.equal(sealed.code, 0, sealed.stderr);
    encrypted = /^(app-backup-\S+\.tar\.gz\.enc):/.exec(sealed.stdout)?.[1] ?? '';
    assert.ok(encrypted, sealed.stdout);
    assert.match(sealed.stderr, /^BACKING_UP: /m, 'plain progress lines without a terminal');

    const shown = await runCli(['list'], env);
    assert.match(shown.stdout, /^2 archive\(s\) in /);
    assert.ok(shown.stdout.includes(plain) && shown.stdout.includes(encrypted));

    const inspected = resultOf((await runCli(['inspect', plain, '--json'], env)).stdout);
    const manifest = inspected.manifest as { note: string; tables: { name: string; rows: number }[] };
    assert.equal(manifest.note, 'from the tool');
    assert.deepEqual(manifest, extractWithTar(path.join(server.app.config.backupDir, plain)).manifest);
    // Without its passphrase, an encrypted archive shows what its header tells.
    const closed = resultOf((await runCli(['inspect', encrypted, '--json'], env)).stdout);
    assert.equal(closed.encrypted, true);
    assert.equal(closed.manifest, null);
    const opened = resultOf((await runCli(['inspect', encrypted, '--passphrase-file', passphraseFile, '--json'], env)).stdout);
    assert.equal((opened.manifest as Json).kind, 'manual');
  });

  test("a backup by the tool is sent to the server's webhooks, signed, before the tool exits", async (t) => {
    const receiver = await startReceiver();
    t.after(() => receiver.close());
    const secret = 'the receiver of the tool knows this';
    const control = await openControlDatabase(parseDatabaseUrl(`file:${path.join(server.dataDir, 'control.db')}`));
    const webhooks = new WebhookService({
      control: control.client,
      secretKey: () => loadSecretKey(server.dataDir),
      audit: new AuditLog(control.client),
      retryDelaysMs: [],
    });
    const { webhook } = await webhooks.add({ url: receiver.url, secret, onSuccess: true });
    try {
      const made = await runCli(['backup', '--json'], env);
      assert.equal(made.code, 0, made.stderr);
      const backup = resultOf(made.stdout).backup as Json;
      // Nothing is waited for here: the tool delivered it before it exited.
      assert.equal(receiver.received.length, 1, 'one delivery, made before the tool exited');
      const [delivery] = receiver.received;
      assert.equal(delivery!.json.event, 'backup.succeeded');
      assert.equal(delivery!.json.data.backupId, backup.id);
      assert.equal(delivery!.json.data.trigger, 'cli');
      assert.ok(signedBy(delivery!, secret), 'signed with the endpoint secret');
    } finally {
      await webhooks.remove(webhook.id);
      await control.close();
    }
  });

  test('verify and decrypt; a wrong passphrase is refused with exit code 3', async () => {
    const verified = await runCli(['verify', plain], env);
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`^${plain.replace(/\./g, '\\.')}: ok$`, 'm'));
    const report = resultOf((await runCli(['verify', encrypted, '--passphrase-file', passphraseFile, '--json'], env)).stdout)
      .report as Json;
    assert.equal(report.ok, true, JSON.stringify(report));
    // An encrypted archive and no way to ask for its passphrase: a usage error.
    const unasked = await runCli(['verify', encrypted], env);
    assert.equal(unasked.code, 2, unasked.stderr);
    assert.match(unasked.stderr, /is encrypted: give its passphrase with --passphrase-file FILE/);

    const output = path.join(tmp, 'decrypted.tar.gz');
    const decrypted = await runCli(['decrypt', encrypted, '--passphrase-file', passphraseFile, '-o', output, '--json'], env);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    assert.equal(resultOf(decrypted.stdout).output, output);
    const archive = extractWithTar(output);
    assert.equal(archive.entries[0], 'manifest.json');
    for (const table of archive.manifest.tables) assert.equal(archive.sha256(table.path), table.sha256, table.name);
    assert.equal(((await stat(output)).mode & 0o777).toString(8), '600', 'the plain archive holds secrets: private');
    const again = await runCli(['decrypt', encrypted, '--passphrase-file', passphraseFile, '-o', output], env);
    assert.equal(again.code, 2, 'an existing file is not overwritten');

    const wrongFile = path.join(tmp, 'wrong');
    await writeFile(wrongFile, 'not the passphrase at all\n');
    const wrong = await runCli(['decrypt', encrypted, '--passphrase-file', wrongFile, '-o', path.join(tmp, 'never.tar.gz'), '--json'], env);
    assert.equal(wrong.code, 3, wrong.stderr);
    assert.deepEqual(jsonLines(wrong.stdout), [
      {
        type: 'error',
        command: 'decrypt',
        exitCode: 3,
        error: 'WrongPassphraseError',
        message: 'the passphrase does not match this encrypted backup',
      },
    ]);
    await assert.rejects(stat(path.join(tmp, 'never.tar.gz')));
    const wrongVerify = await runCli(['verify', encrypted, '--passphrase-file', wrongFile, '--json'], env);
    assert.equal(wrongVerify.code, 3, wrongVerify.stderr);
    assert.equal(jsonLines(wrongVerify.stdout).at(-1)?.error, 'WrongPassphraseError');
  });

  test('a restore is refused without --yes and no terminal, and while a restore holds the lease (as a server would)', async () => {
    const before = dumpOf(server.targetUrl);
    const unconfirmed = await runCli(['restore', plain], env);
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    assert.match(unconfirmed.stderr, /confirm with --yes when not on a terminal; nothing was restored/);

    // A live instance of this host (this process) takes the lease, as a server's restore does.
    const control = await openControlDatabase(parseDatabaseUrl(`file:${path.join(server.dataDir, 'control.db')}`));
    const lease = new RestoreLease({ control: control.client, instance: newInstanceId() });
    try {
      assert.equal(await lease.take('job-of-a-server'), null, 'the lease was free');
      const held = await runCli(['restore', plain, '--yes', '--json'], env);
      assert.equal(held.code, 3, held.stderr);
      const [error] = jsonLines(held.stdout);
      assert.equal(error?.error, 'RestoreInProgressError');
      assert.match(String(error?.message), /job job-of-a-server/);
    } finally {
      await lease.release('job-of-a-server');
      await control.close();
    }
    assert.equal(dumpOf(server.targetUrl), before, 'nothing changed');
  });

  test('with the SQLite file deleted, restore creates it from the backup, showing progress; the server then starts on it', async () => {
    const file = parseDatabaseUrl(server.targetUrl);
    assert.equal(file.provider, 'sqlite');
    const expected = restoredDump(dumpOf(server.targetUrl));
    await removeSqlite(file.filePath);
    const backupsBefore = resultOf((await runCli(['list', '--json'], env)).stdout);
    assert.equal((backupsBefore.target as Json).state, 'missing');
    const nothing = await runCli(['backup'], env);
    assert.equal(nothing.code, 3, 'nothing to back up yet');
    assert.match(nothing.stderr, /does not exist yet: there is nothing to back up; restore a backup to create it/);

    // A restore that fails leaves no file behind: the database is built beside it, renamed into place at the end.
    const entries = await readEntries(await readFile(path.join(server.app.config.backupDir, plain)));
    const tampered = path.join(tmp, 'tampered.tar.gz');
    const edited = entries.map((e) =>
      e.name === 'db/WatchHistory.ndjson' ? { ...e, content: Buffer.from(e.content.toString().replace('"', '"x')) } : e,
    );
    await writeFile(tampered, await pack(edited));
    const failed = await runCli(['restore', tampered, '--yes'], env);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /^the restore failed: .*WatchHistory/m);
    await assert.rejects(stat(file.filePath));
    assert.deepEqual(
      (await readdir(path.dirname(file.filePath))).filter((name) => name.includes('restoring')),
      [],
      'nothing left beside it',
    );

    const restored = await runCli(['restore', plain, '--yes'], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /^restored app-backup-\S+ into a new database \(it did not exist\)$/m);
    // One plain line per phase and per table.
    assert.match(restored.stderr, /^MIGRATING: creating the target database with the backup's 1 migration\(s\)$/m);
    assert.match(restored.stderr, /^RESTORING: MediaItem \(\d+ of 16 tables, [\d,]+ of [\d,]+ rows\)$/m);
    assert.doesNotMatch(restored.stderr, /SAFETY_BACKUP/, 'nothing to keep: no safety backup');
    assert.equal(restoredDump(dumpOf(server.targetUrl)), expected);
    const backupsAfter = resultOf((await runCli(['list', '--json'], env)).stdout);
    assert.equal((backupsAfter.backups as Json[]).length, (backupsBefore.backups as Json[]).length, 'no pre-restore backup of nothing');

    const again = await startServer({ dataDir: server.dataDir });
    try {
      const info = await again.app.services.system.info();
      assert.equal(info.targetDatabase, 'present');
      assert.equal(restoredDump(dumpOf(server.targetUrl)), expected, 'the example is not seeded again');
    } finally {
      await again.stop();
    }
  });

  test('an archive named by its path elsewhere is restored in place, progress and result as JSON lines', async () => {
    const elsewhere = path.join(tmp, 'brought-here.tar.gz');
    await copyFile(path.join(server.app.config.backupDir, plain), elsewhere);
    const restored = await runCli(['restore', elsewhere, '--yes', '--json'], env);
    assert.equal(restored.code, 0, restored.stderr);
    const result = resultOf(restored.stdout);
    assert.equal(result.ok, true);
    assert.equal((result.job as Json).status, 'SUCCEEDED');
    assert.match(String((result.job as Json).preRestoreBackupId), /-pre-restore\.tar\.gz$/, 'a present target is backed up first');
    const phases = new Set(jsonLines(restored.stdout).map((line) => line.phase));
    for (const phase of ['VERIFYING', 'SAFETY_BACKUP', 'RESTORING', 'DONE']) assert.ok(phases.has(phase), phase);
    // Read in place: the backup folder did not get a copy.
    await assert.rejects(stat(path.join(server.app.config.backupDir, 'brought-here.tar.gz')));
  });

  test('on a terminal, the progress is one line redrawn in place', async (t) => {
    const hasScript = await run('script', ['--version']).then(
      () => true,
      () => false,
    );
    if (!hasScript) return t.skip('no `script` command to give the tool a terminal');
    const { LOG_LEVEL: _, ...inherited } = process.env;
    const { stdout } = await run('script', ['-q', '-e', '-c', `${process.execPath} ${CLI_BIN} restore ${plain} --yes`, '/dev/null'], {
      env: { ...inherited, ...env },
      cwd: path.dirname(path.dirname(CLI_BIN)),
    });
    // Each frame starts by going back to the line's start and erasing it.
    const frames = stdout.split('\r\u001b[2K');
    assert.ok(
      frames.some((frame) => /^RESTORING +\[[#.]{20}\] +\d+% +\d+s +\w+ \(/.test(frame)),
      stdout,
    );
    assert.ok(
      frames.some((frame) => /^DONE +\[#{20}\] 100%/.test(frame)),
      stdout,
    );
    assert.match(stdout, /restored app-backup-/);
  });

  test('a running server refuses a restore while the tool restores', async () => {
    const running = await startServer({ dataDir: server.dataDir });
    const control = await openControlDatabase(parseDatabaseUrl(`file:${path.join(server.dataDir, 'control.db')}`));
    try {
      const lease = new RestoreLease({ control: control.client, instance: newInstanceId() });
      const tool = runCli(['restore', plain, '--yes'], env);
      const holder = await waitFor('the tool to take the restore lease', async () => (await lease.current()) ?? false, 120_000);
      const refused = await running.gql(RestoreBackupDocument, { input: { backupId: plain } });
      assert.equal(refused.restoreBackup.__typename, 'RestoreInProgressError', JSON.stringify(refused));
      assert.notEqual(holder.holder.split('~')[1], String(process.pid), 'the tool holds it, not the server in this process');
      const finished = await tool;
      assert.equal(finished.code, 0, finished.stderr);
    } finally {
      await control.close();
      await running.stop();
    }
  });
});

describe('the tool against PostgreSQL: a target dropped and recreated empty', () => {
  let server: TestServer;
  let env: Record<string, string>;
  let archive: string;
  let tmp: string;
  let expected: string;

  before(async () => {
    server = await startServer({ provider: 'postgresql' });
    await server.stop();
    expected = restoredDump(pgDump(server.targetUrl));
    env = { DATA_DIR: server.dataDir, TARGET_DATABASE_URL: server.targetUrl };
    tmp = await mkdtemp(path.join(os.tmpdir(), 'bcp-cli-pg-'));
    const made = await runCli(['backup', '--media', '--json'], env);
    assert.equal(made.code, 0, made.stderr);
    archive = (resultOf(made.stdout).backup as Json).id as string;
  });

  after(async () => {
    await server?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const recreateEmpty = async () => {
    await adminQuery(`DROP DATABASE "${server.database!.name}" WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE "${server.database!.name}"`);
  };
  const tablesIn = () =>
    withPg(server.targetUrl, async (client) => (await client.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows);

  test('a restore that fails in an empty database leaves it empty', async () => {
    // Rows that do not match their hash: the load is rolled back, and the tables made for it dropped.
    const entries = await readEntries(await readFile(path.join(server.app.config.backupDir, archive)));
    const tampered = entries.map((entry) =>
      entry.name === 'db/LogEntry.ndjson' ? { ...entry, content: Buffer.from(entry.content.toString().replace('"', '"x')) } : entry,
    );
    const file = path.join(tmp, 'app-backup-2001-01-01T00-00-00-uploaded.tar.gz');
    await writeFile(file, await pack(tampered));
    await recreateEmpty();
    const failed = await runCli(['restore', file, '--yes'], env);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /^RESTORING: AppSetting /m, 'the schema was made, rows were loaded');
    assert.match(failed.stdout, /^the restore failed: /m);
    assert.deepEqual(await tablesIn(), [], 'no table left behind');
  });

  test("restore creates the schema with the backup's migrations and brings every row back", async () => {
    await recreateEmpty();
    const restored = await runCli(['restore', archive, '--yes'], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(restored.stdout, /into a new database \(it held no tables\)/);
    assert.match(restored.stderr, /^RESTORING: WatchHistory /m);
    assert.equal(restoredDump(pgDump(server.targetUrl)), expected);
    const listed = resultOf((await runCli(['list', '--json'], env)).stdout);
    assert.equal((listed.target as Json).state, 'present');
  });
});

describe('a server started against a missing target', () => {
  let ledger: Awaited<ReturnType<typeof ledgerTarget>>;
  let server: TestServer;
  let archive: string;
  let expected: string;

  before(async () => {
    ledger = await ledgerTarget();
    fillLedger(ledger.file, 5, 20);
    const env = { ...ledger.env, DATA_DIR: ledger.dataDir };
    const made = await runCli(['backup', '--media', '--json'], env);
    assert.equal(made.code, 0, made.stderr);
    archive = (resultOf(made.stdout).backup as Json).id as string;
    expected = restoredDump(sqliteDump(ledger.file));
    await removeSqlite(ledger.file);
    // Even asked to deploy its migrations, start-up does not create the app's database.
    server = await startServer({ dataDir: ledger.dataDir, env: ledger.env, signIn: false });
  });

  after(async () => {
    await server?.close();
  });

  test('starts, says the target is missing without creating it, and restores it with the setup code', async () => {
    assert.equal((await server.app.services.system.info()).targetDatabase, 'missing');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    await assert.rejects(stat(ledger.file), 'neither start-up nor a health check created the file');

    const gql = async (query: string, variables: Json, secret: string) => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
        body: JSON.stringify({ query, variables }),
      });
      return ((await response.json()) as { data: Json }).data;
    };
    const code = server.setupCode!;
    const started = await gql(
      'mutation($id: ID!) { restoreBackup(input: { backupId: $id }) { ... on RestoreBackupPayload { job { id } } ... on Error { message } } }',
      { id: archive },
      code,
    );
    const jobId = ((started.restoreBackup as Json).job as Json | undefined)?.id as string;
    assert.ok(jobId, JSON.stringify(started));
    const job = await waitFor('the first-run restore', async () => {
      const { restoreJob } = (await gql(
        'query($id: ID!) { restoreJob(id: $id) { status error preRestoreBackup { id } } }',
        { id: jobId },
        code,
      )) as {
        restoreJob: { status: string; error: string | null; preRestoreBackup: unknown };
      };
      return restoreJob.status === 'SUCCEEDED' || restoreJob.status === 'FAILED' ? restoreJob : null;
    });
    assert.deepEqual(job, { status: 'SUCCEEDED', error: null, preRestoreBackup: null });
    assert.equal(restoredDump(sqliteDump(ledger.file)), expected, 'the data is back');

    const setup = await gql(
      'mutation($input: SetupAccountInput!) { setupAccount(input: $input) { ... on LoginPayload { token } } }',
      { input: { ...TEST_ADMIN, setupCode: code } },
      code,
    );
    const token = (setup.setupAccount as Json).token as string;
    const system = (await gql('{ system { targetDatabase schemaVersion } }', {}, token)).system as Json;
    assert.deepEqual(system, { targetDatabase: 'PRESENT', schemaVersion: '20261101000000_init' });
  });

  test("an older backup goes into a missing file at its own version; the app's newer migration stays pending", async () => {
    await server.stop();
    await removeSqlite(ledger.file);
    const v2 = path.join(PROJECT_ROOT, 'test/fixtures/ledger-v2-sqlite');
    const env = {
      ...ledger.env,
      DATA_DIR: ledger.dataDir,
      TARGET_SCHEMA: path.join(v2, 'schema.prisma'),
      TARGET_MIGRATIONS: path.join(v2, 'migrations'),
    };
    const restored = await runCli(['restore', archive, '--yes', '--json'], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.match(String(resultOf(restored.stdout).message), /; the app's 1 newer migration\(s\) are pending: /);
    assert.equal(restoredDump(sqliteDump(ledger.file)), expected, "the backup's own schema and rows");
  });
});
