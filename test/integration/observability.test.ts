// Failures are loud: a scheduled backup that fails shows in the JSON log, /readyz, /metrics and
// a signed webhook; deliveries are retried and audited, restores notify the app, no secret
// reaches the log, and /metrics answers a VIEWER's token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { log } from '../../src/core/logger.ts';
import {
  BackupSettingsDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  UpdateBackupSettingsDocument,
  VerifyBackupDocument,
} from '../generated/graphql.ts';
import { captureLog } from '../helpers/log-capture.ts';
import { createBackup } from '../helpers/scenarios.ts';
import { leaveRoom, smallFilesystem } from '../helpers/small-filesystem.ts';
import { startServer, TEST_ADMIN, waitFor, type TestServer } from '../helpers/server.ts';
import { signedBy, startReceiver } from '../helpers/webhook-receiver.ts';

/** Quick retries: the schedule is a setting that is no environment variable. */
const QUICK = { webhookRetryDelaysMs: [50, 50, 50, 50] };

test('a scheduled backup that fails for lack of space shows in the log, /readyz, /metrics and a signed webhook', async (t) => {
  const folder = await smallFilesystem(t, 1024 * 1024);
  if (!folder) return;
  const captured = captureLog();
  t.after(() => captured.stop());
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const server = await startServer({ env: { BACKUP_DIR: folder }, config: QUICK });
  t.after(() => server.close());
  const secret = 'the receiver knows this one';
  await addWebhook(server, { url: receiver.url, secret });
  const before = parseMetrics(await scrape(server));
  assert.equal(before.value('bcp_backup_failures_total', { kind: 'scheduled' }), 0, 'the series exists before the first failure');

  // No room for any archive; the next scheduled backup is due in two or three seconds (UTC).
  await leaveRoom(folder, 4096);
  const due = new Date(Math.ceil(Date.now() / 1000) * 1000 + 2000);
  const cron = `${due.getUTCSeconds()} ${due.getUTCMinutes()} ${due.getUTCHours()} * * *`;
  const updated = await server.gql(UpdateBackupSettingsDocument, { input: { frequency: 'CUSTOM', cron, timeZone: 'UTC' } });
  assert.equal(updated.updateBackupSettings.__typename, 'UpdateBackupSettingsPayload', JSON.stringify(updated));
  const lastRun = await waitFor('the scheduled backup to fail', async () => {
    const run = (await server.gql(BackupSettingsDocument)).backupSettings.lastRun;
    return run?.status === 'FAILED' ? run : null;
  });
  assert.match(lastRun.error ?? '', /disk is full/);

  // The log: the operation's one line, with its cause.
  const line = captured.lines().find((l) => l.op === 'backup' && l.kind === 'scheduled');
  assert.ok(line, `an operation line for the scheduled backup in:\n${captured.text()}`);
  assert.equal(line.level, 'error');
  assert.equal(line.outcome, 'failed');
  assert.equal(line.jobId, due.toISOString());
  assert.match(String(line.err), /BackupFailedError: the backup could not be written: the disk is full/);
  assert.equal(typeof line.durationMs, 'number');
  const errors = captured.lines().filter((l) => l.level === 'error');
  assert.deepEqual(errors, [line], 'an expected failure is logged once, by its operation line');

  // /readyz: not ready, and /healthz alive all the same.
  const readyz = await fetch(`${server.url}/readyz`);
  assert.equal(readyz.status, 503);
  assert.match(((await readyz.json()) as { reason: string }).reason, /^the scheduled backup due at .+ failed$/);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);

  // /metrics: the failure counted, no success to show for the kind.
  const after = parseMetrics(await scrape(server));
  assert.equal(after.value('bcp_backup_failures_total', { kind: 'scheduled' }), 1);
  assert.equal(after.value('bcp_backup_duration_seconds_count', { kind: 'scheduled', outcome: 'failed' }), 1);
  assert.equal(after.value('bcp_backup_last_success_timestamp_seconds', { kind: 'scheduled' }), undefined);
  assert.equal(after.value('bcp_restore_in_progress', {}), 0);

  // The webhook: a backup.failed delivery, signed with the endpoint's secret.
  const [delivery] = await receiver.waitForDeliveries(1);
  assert.equal(delivery!.headers['content-type'], 'application/json');
  assert.equal(delivery!.headers['x-bcp-event'], 'backup.failed');
  assert.equal(delivery!.headers['x-bcp-delivery'], delivery!.json.deliveryId);
  assert.ok(signedBy(delivery!, secret), 'the HMAC verifies with the secret');
  assert.ok(!signedBy(delivery!, 'another secret'), 'and with no other');
  assert.ok(Math.abs(Number(delivery!.headers['x-bcp-timestamp']) - Date.now() / 1000) < 60, 'a current timestamp');
  assert.equal(delivery!.json.event, 'backup.failed');
  assert.equal(delivery!.json.data.kind, 'scheduled');
  assert.equal(delivery!.json.data.trigger, 'schedule');
  assert.equal(delivery!.json.data.jobId, due.toISOString());
  assert.match(String(delivery!.json.data.error), /disk is full/);
  await waitFor(
    'the delivery to be counted',
    async () =>
      parseMetrics(await scrape(server)).value('bcp_webhook_deliveries_total', { event: 'backup.failed', outcome: 'delivered' }) === 1,
  );
});

test('a receiver that answers 500 twice gets a third attempt; each attempt is in the audit log; a dead one is given up on', async (t) => {
  const captured = captureLog();
  t.after(() => captured.stop());
  const receiver = await startReceiver([500, 500]);
  t.after(() => receiver.close());
  const dead = await startReceiver();
  await dead.close(); // nothing listens on its port any more
  const server = await startServer({ config: QUICK });
  t.after(() => server.close());
  const { webhook } = await addWebhook(server, { url: receiver.url, secret: 'the receiver knows this one', onSuccess: true });
  const { webhook: deadWebhook } = await addWebhook(server, { url: dead.url, secret: 'nobody will check this', onSuccess: true });

  const started = Date.now();
  const backup = await createBackup(server);
  assert.ok(Date.now() - started < 5000, 'the backup does not wait for its notifications');

  const deliveries = await receiver.waitForDeliveries(3);
  assert.deepEqual(
    deliveries.map((d) => d.status),
    [500, 500, 200],
  );
  assert.equal(new Set(deliveries.map((d) => d.json.deliveryId)).size, 1, 'one delivery, three attempts');
  assert.equal(deliveries[0]!.json.event, 'backup.succeeded');
  assert.equal(deliveries[0]!.json.data.backupId, backup.id);
  assert.equal(deliveries[0]!.json.data.sizeBytes, backup.sizeBytes);
  assert.ok(deliveries.every((d) => signedBy(d, 'the receiver knows this one')));

  const origin = new URL(receiver.url).origin;
  const attempts = await waitFor('three audited attempts', async () => {
    const found = (await auditEvents(server)).filter(
      (e) => e.action === 'webhook.delivery' && e.target === `${origin} (webhook ${webhook.id})`,
    );
    return found.length === 3 ? found.reverse() : null;
  });
  assert.deepEqual(
    attempts.map((e) => [e.outcome, e.detail?.replace(/delivery \S+, /, '')]),
    [
      ['FAILURE', 'backup.succeeded, attempt 1 of 5: HTTP 500'],
      ['FAILURE', 'backup.succeeded, attempt 2 of 5: HTTP 500'],
      ['SUCCESS', 'backup.succeeded, attempt 3 of 5: HTTP 200'],
    ],
  );
  assert.ok(
    attempts.every((e) => e.actor === null && !e.target!.includes('/hooks/')),
    'the origin only: a path may hold a token',
  );
  // The mutations that added them name them the same way.
  const added = (await auditEvents(server)).filter((e) => e.action === 'addWebhook');
  assert.deepEqual(
    added.map((e) => [e.outcome, e.target]),
    [
      ['SUCCESS', `url=${new URL(dead.url).origin}`],
      ['SUCCESS', `url=${origin}`],
    ],
  );

  // The dead endpoint: five refused connections, then given up, logged; the server carries on.
  await waitFor('the dead endpoint to be given up on', async () =>
    captured.lines().find((l) => l.level === 'error' && /^backup\.succeeded not delivered to /.test(l.msg) && l.attempts === 5),
  );
  const refused = (await auditEvents(server)).filter((e) => e.target === `${new URL(dead.url).origin} (webhook ${deadWebhook.id})`);
  assert.equal(refused.length, 5);
  assert.ok(refused.every((e) => e.outcome === 'FAILURE' && /ECONNREFUSED/.test(e.detail ?? '')));
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  const metrics = parseMetrics(await scrape(server));
  assert.equal(metrics.value('bcp_webhook_deliveries_total', { event: 'backup.succeeded', outcome: 'delivered' }), 1);
  assert.equal(metrics.value('bcp_webhook_deliveries_total', { event: 'backup.succeeded', outcome: 'failed' }), 1);
});

test('a restore that succeeds is sent as restore.succeeded, to endpoints without onSuccess too', async (t) => {
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const server = await startServer({ config: QUICK });
  t.after(() => server.close());
  const { secret } = await addWebhook(server, { url: receiver.url });
  assert.match(secret ?? '', /^bcpw_[\w-]{43}$/, 'a secret is made and shown once');
  const backup = await createBackup(server);

  const started = await server.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
  assert.equal(started.restoreBackup.__typename, 'RestoreBackupPayload', JSON.stringify(started));
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return;
  const jobId = started.restoreBackup.job.id;
  const [delivery] = await receiver.waitForDeliveries(1);
  assert.equal(delivery!.json.event, 'restore.succeeded');
  assert.ok(signedBy(delivery!, secret!));
  assert.equal(delivery!.json.data.jobId, jobId);
  assert.equal(delivery!.json.data.backupId, backup.id);
  assert.match(String(delivery!.json.data.preRestoreBackupId), /-pre-restore\.tar\.gz$/);
  assert.equal(delivery!.json.data.error, null);
  // Sent once the job is recorded as ended: the app may read it at once.
  const { restoreJob } = await server.gql(RestoreJobDocument, { id: jobId });
  assert.equal(restoreJob?.status, 'SUCCEEDED');
  assert.deepEqual(
    receiver.received.map((d) => d.json.event),
    ['restore.succeeded'],
    'the safety backup is no news to an endpoint without onSuccess',
  );
  const metrics = parseMetrics(await scrape(server));
  assert.equal(metrics.value('bcp_restore_duration_seconds_count', { outcome: 'succeeded' }), 1);
  assert.equal(metrics.value('bcp_restore_failures_total', {}), 0);
});

test('no password, passphrase, token or webhook secret reaches the log', async (t) => {
  const captured = captureLog();
  t.after(() => captured.stop());
  const receiver = await startReceiver();
  t.after(() => receiver.close());
  const server = await startServer({ env: { LOG_LEVEL: 'trace' }, config: QUICK });
  t.after(() => server.close());
  const passphrase = 'a passphrase nobody logs';
  const savedPassphrase = 'a saved passphrase nobody logs';

  const login = await graphql(
    server,
    `
      mutation ($input: LoginInput!) {
        login(input: $input) {
          ... on LoginPayload {
            token
          }
        }
      }
    `,
    {
      input: TEST_ADMIN,
    },
  );
  const session = (login.login as { token: string }).token;
  const created = await graphql(
    server,
    `
      mutation {
        createApiToken(input: { name: "dashboard", role: VIEWER }) {
          ... on CreateApiTokenPayload {
            token
          }
        }
      }
    `,
  );
  const apiToken = (created.createApiToken as { token: string }).token;
  const { webhook, secret } = await addWebhook(server, { url: receiver.url, onSuccess: true });
  await graphql(
    server,
    `
      mutation ($id: ID!) {
        testWebhook(input: { webhookId: $id }) {
          __typename
        }
      }
    `,
    { id: webhook.id },
  );
  await server.gql(UpdateBackupSettingsDocument, { input: { passphrase: savedPassphrase } });

  const encrypted = await graphql(
    server,
    `
      mutation ($p: String!) {
        createBackup(input: { passphrase: $p }) {
          ... on CreateBackupPayload {
            backup {
              id
            }
          }
        }
      }
    `,
    {
      p: passphrase,
    },
  );
  const backupId = (encrypted.createBackup as { backup: { id: string } }).backup.id;
  const verified = await server.gql(VerifyBackupDocument, { input: { backupId, passphrase } });
  assert.equal(verified.verifyBackup.__typename, 'VerifyBackupPayload', JSON.stringify(verified));
  const wrong = await server.gql(RestoreBackupDocument, { input: { backupId, passphrase: 'not the passphrase at all' } });
  assert.equal(wrong.restoreBackup.__typename, 'WrongPassphraseError');
  const started = await server.gql(RestoreBackupDocument, { input: { backupId, passphrase } });
  if (started.restoreBackup.__typename !== 'RestoreBackupPayload') return assert.fail(JSON.stringify(started));
  const jobId = started.restoreBackup.job.id;
  await waitFor(
    'the restore to succeed',
    async () => (await server.gql(RestoreJobDocument, { id: jobId })).restoreJob?.status === 'SUCCEEDED',
  );
  await server.fetch('/api/v1/backups', { headers: { authorization: `Bearer ${apiToken}`, cookie: `bcp_session=${session}` } });
  await receiver.waitForDeliveries(4); // test, the backup, the safety backup, the restore

  const text = captured.text();
  const secrets = {
    password: TEST_ADMIN.password,
    passphrase,
    savedPassphrase,
    'the session': session,
    "the setup's session": server.token!,
    'the API token': apiToken,
    'the webhook secret': secret!,
  };
  for (const [what, value] of Object.entries(secrets)) assert.ok(!text.includes(value), `${what} is in the log`);
  const ops = captured.lines().map((l) => `${String(l.op)} ${String(l.outcome)}`);
  for (const op of ['settings succeeded', 'backup succeeded', 'verify succeeded', 'restore refused', 'restore succeeded']) {
    assert.ok(ops.includes(op), `a line for ${op} in:\n${text}`);
  }
  // Nor in the audit log, which records each attempt.
  assert.ok(!JSON.stringify(await auditEvents(server)).includes(secret!), 'the webhook secret is in the audit log');

  // Logged objects lose what their secret keys hold, wherever such a key sits.
  const before = captured.lines().length;
  log.info(
    {
      input: { password: 'p4ssw0rd!', passphrase: 'zz top', setupCode: 'ABCD' },
      headers: { authorization: 'Bearer t0ken', cookie: 'c00kie' },
    },
    'objects',
  );
  const logged = captured.lines()[before]!;
  assert.deepEqual(logged.input, { password: '[redacted]', passphrase: '[redacted]', setupCode: '[redacted]' });
  assert.deepEqual(logged.headers, { authorization: '[redacted]', cookie: '[redacted]' });
});

test('/metrics answers an account or API token (a VIEWER is enough), and remembers backups across a restart', async (t) => {
  const server = await startServer();
  let again: TestServer | null = null;
  t.after(async () => {
    await again?.stop();
    await server.close();
  });
  const refused = await fetch(`${server.url}/metrics`);
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/);
  const created = await graphql(
    server,
    `
      mutation {
        createApiToken(input: { name: "prometheus", role: VIEWER }) {
          ... on CreateApiTokenPayload {
            token
          }
        }
      }
    `,
  );
  const viewer = (created.createApiToken as { token: string }).token;
  const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
  assert.equal(scraped.status, 200);
  assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await scraped.text();
  assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m, "the process's default metrics");
  assert.match(text, /^# HELP bcp_backup_last_success_timestamp_seconds /m);
  const posted = await fetch(`${server.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${viewer}` } });
  assert.equal(posted.status, 405);

  const backup = await createBackup(server, { includeMedia: true });
  const afterBackup = parseMetrics(await scrape(server));
  assert.equal(afterBackup.value('bcp_backup_size_bytes', { kind: 'manual' }), backup.sizeBytes);
  await server.stop();

  // A restart reads the newest archive of each kind from the backup folder.
  again = await startServer({ dataDir: server.dataDir });
  const restarted = parseMetrics(await scrape(again));
  assert.equal(
    restarted.value('bcp_backup_last_success_timestamp_seconds', { kind: 'manual' }),
    new Date(backup.createdAt).getTime() / 1000,
  );
  assert.equal(restarted.value('bcp_backup_size_bytes', { kind: 'manual' }), backup.sizeBytes);
  assert.equal(restarted.value('bcp_backup_last_success_timestamp_seconds', { kind: 'scheduled' }), undefined);
});

// --- helpers --------------------------------------------------------------------------------

async function graphql(server: TestServer, query: string, variables: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const response = await server.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data!;
}

async function addWebhook(server: TestServer, input: { url: string; secret?: string; onSuccess?: boolean }) {
  const data = await graphql(
    server,
    `
      mutation ($input: AddWebhookInput!) {
        addWebhook(input: $input) {
          ... on AddWebhookPayload {
            webhook {
              id
              url
              onSuccess
            }
            secret
          }
          ... on Error {
            message
          }
        }
      }
    `,
    { input },
  );
  const result = data.addWebhook as { webhook?: { id: string; url: string; onSuccess: boolean }; secret: string | null; message?: string };
  assert.ok(result.webhook, result.message);
  return result as { webhook: { id: string; url: string; onSuccess: boolean }; secret: string | null };
}

interface AuditEntry {
  actor: string | null;
  action: string;
  target: string | null;
  outcome: string;
  detail: string | null;
}

async function auditEvents(server: TestServer): Promise<AuditEntry[]> {
  const data = await graphql(
    server,
    `
      {
        auditLog(first: 50) {
          edges {
            node {
              actor
              action
              target
              outcome
              detail
            }
          }
        }
      }
    `,
  );
  return (data.auditLog as { edges: { node: AuditEntry }[] }).edges.map((edge) => edge.node);
}

/** A real scrape, as the test admin. */
async function scrape(server: TestServer): Promise<string> {
  const response = await server.fetch('/metrics');
  assert.equal(response.status, 200);
  return response.text();
}

/** Prometheus's text format: `name{label="value",…} number` lines. */
function parseMetrics(text: string) {
  const samples = text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
  return {
    /** The sample with exactly these labels, or undefined. */
    value(name: string, labels: Record<string, string>): number | undefined {
      const wanted = JSON.stringify(Object.entries(labels).sort());
      return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
    },
  };
}
