// What a page on another site can make a browser send, sent as the browser sends it: nothing
// runs, nothing changes, and no reply is readable there. The same calls from the server's own
// origin, from an origin in CORS_ORIGINS or from a script (no Origin) still work. The
// cross-site requests carry the signed-in owner's session cookie, as a browser attaches it:
// the refusals hold even then.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ConfigError, loadConfig } from '../../src/core/config.ts';
import { CreateBackupDocument, DeleteBackupDocument, ListBackupsDocument } from '../generated/graphql.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const FOREIGN = 'https://evil.example';
const ALLOWED = 'https://admin.example.test';

let server: TestServer;
let backupId: string;

before(async () => {
  const target = await ledgerTarget({ CORS_ORIGINS: `${ALLOWED}, https://other.example.test:8443` });
  server = await startServer({ dataDir: target.dataDir, env: target.env });
  fillLedger(target.file, 5, 5);
  backupId = (await createBackup(server)).id;
});

after(async () => {
  await server.close();
});

const deleteQuery = () => print(DeleteBackupDocument);
const deleteVariables = () => ({ input: { backupId } });

async function backupFiles(): Promise<string[]> {
  return (await readdir(server.app.config.backupDir)).filter((name) => !name.startsWith('.')).sort();
}

/** The owner's session cookie, which a browser attaches to every request to the server, cross-site ones included. */
function ownerCookie(): { cookie: string } {
  return { cookie: `bcp_session=${server.token}` };
}

/** Runs `send`, then checks that the backup folder is as it was and the reply is not readable by `origin`. */
async function changesNothing(send: () => Promise<Response>, origin = FOREIGN): Promise<Response> {
  const before = await backupFiles();
  const response = await send();
  await response.arrayBuffer();
  assert.deepEqual(await backupFiles(), before, 'the backups are as they were');
  assert.ok(before.includes(backupId), 'the backup still exists');
  assert.notEqual(response.headers.get('access-control-allow-origin'), origin, 'the reply is not readable cross-site');
  assert.equal(response.headers.get('access-control-allow-credentials'), null);
  return response;
}

function deleteForm(): FormData {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: deleteQuery(), variables: deleteVariables() }));
  form.set('map', '{}');
  return form;
}

function deleteUrlEncoded(): URLSearchParams {
  return new URLSearchParams({ query: deleteQuery(), variables: JSON.stringify(deleteVariables()) });
}

test('a cross-site multipart form POST to /graphql does not run deleteBackup', async () => {
  const fromPage = await changesNothing(() =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { origin: FOREIGN, ...ownerCookie() }, body: deleteForm() }),
  );
  assert.equal(fromPage.status, 403);
  // Even where the Origin is not checked, the form lacks the header a page cannot add without a preflight.
  const noHeader = await changesNothing(() =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: ownerCookie(), body: deleteForm() }),
  );
  assert.equal(noHeader.status, 403);
});

test('a cross-site urlencoded form POST to /graphql does not run deleteBackup', async () => {
  const fromPage = await changesNothing(() =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: { origin: FOREIGN, ...ownerCookie() }, body: deleteUrlEncoded() }),
  );
  assert.equal(fromPage.status, 403);
  const noHeader = await changesNothing(() =>
    fetch(`${server.url}/graphql`, { method: 'POST', headers: ownerCookie(), body: deleteUrlEncoded() }),
  );
  assert.equal(noHeader.status, 403);
  const body = (await (
    await fetch(`${server.url}/graphql`, { method: 'POST', headers: ownerCookie(), body: deleteUrlEncoded() })
  ).json()) as {
    errors: { message: string }[];
  };
  assert.match(body.errors[0]!.message, /CSRF/);
});

test('a cross-site text/plain POST to /api/v1/backups creates nothing', async () => {
  const fromPage = await changesNothing(() =>
    fetch(`${server.url}/api/v1/backups`, {
      method: 'POST',
      headers: { origin: FOREIGN, 'content-type': 'text/plain', ...ownerCookie() },
      body: '{"includeMedia":true}',
    }),
  );
  assert.equal(fromPage.status, 403);
  const noOrigin = await changesNothing(() =>
    fetch(`${server.url}/api/v1/backups`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...ownerCookie() },
      body: '{"includeMedia":true}',
    }),
  );
  assert.equal(noOrigin.status, 415);
  const form = await changesNothing(() =>
    fetch(`${server.url}/api/v1/backups`, { method: 'POST', headers: ownerCookie(), body: new URLSearchParams({ includeMedia: 'true' }) }),
  );
  assert.equal(form.status, 415);
  const refused = await fetch(`${server.url}/api/v1/backups`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', ...ownerCookie() },
    body: '{}',
  });
  assert.equal(((await refused.json()) as { error: { type: string } }).error.type, 'UnsupportedMediaType');
});

test('a foreign Origin on GraphQL over HTTP is refused, JSON included, and its preflight allows nothing', async () => {
  const json = await changesNothing(() =>
    fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: FOREIGN, 'content-type': 'application/json', ...ownerCookie() },
      body: JSON.stringify({ query: deleteQuery(), variables: deleteVariables() }),
    }),
  );
  assert.equal(json.status, 403);
  const query = await changesNothing(() =>
    fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: FOREIGN, 'content-type': 'application/json', ...ownerCookie() },
      body: JSON.stringify({ query: '{ backups { totalCount } }' }),
    }),
  );
  assert.equal(query.status, 403);
  const preflight = await changesNothing(() =>
    fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: FOREIGN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
        ...ownerCookie(),
      },
    }),
  );
  assert.equal(preflight.headers.get('access-control-allow-methods'), null);
  assert.equal(preflight.headers.get('access-control-allow-headers'), null);
});

test('a foreign Origin on REST: changes and downloads refused, the list readable only by the server itself', async () => {
  const id = encodeURIComponent(backupId);
  for (const [method, path] of [
    ['DELETE', `/api/v1/backups/${id}`],
    ['GET', `/api/v1/backups/${id}/download`],
    ['POST', '/api/v1/backups'],
    ['OPTIONS', '/api/v1/backups'],
  ] as const) {
    const response = await changesNothing(() =>
      fetch(`${server.url}${path}`, {
        method,
        headers: { origin: FOREIGN, 'content-type': 'application/json', 'access-control-request-method': 'DELETE', ...ownerCookie() },
        body: method === 'POST' ? '{}' : undefined,
      }),
    );
    assert.equal(response.status, 403, `${method} ${path}`);
  }
  for (const path of ['/api/v1/backups', '/healthz']) {
    const response = await changesNothing(() => fetch(`${server.url}${path}`, { headers: { origin: FOREIGN, ...ownerCookie() } }));
    assert.equal(response.status, 200, path);
  }
});

test('a websocket from a foreign origin is refused at the upgrade; createBackup never runs', async () => {
  const before = await backupFiles();
  const status = await new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws', {
      origin: FOREIGN,
      headers: ownerCookie(),
    });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'connection_init' }));
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: print(CreateBackupDocument), variables: {} } }));
      reject(new Error('the websocket opened'));
    });
    socket.on('error', () => {});
  });
  assert.equal(status, 403);
  await assert.rejects(wsOperation(FOREIGN, print(CreateBackupDocument), { input: {} }));
  assert.deepEqual(await backupFiles(), before);
});

test('from an origin in CORS_ORIGINS: readable, and it may change things', async () => {
  const preflight = await fetch(`${server.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.equal(preflight.headers.get('access-control-allow-origin'), ALLOWED);
  const query = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { origin: ALLOWED, 'content-type': 'application/json', ...server.authHeaders },
    body: JSON.stringify({ query: print(ListBackupsDocument), variables: {} }),
  });
  assert.equal(query.status, 200);
  assert.equal(query.headers.get('access-control-allow-origin'), ALLOWED);
  assert.equal(
    query.headers.get('access-control-allow-credentials'),
    null,
    'no cookies cross-site: a page on an allowed origin sends a bearer token',
  );
  assert.ok(((await query.json()) as { data: { backups: { totalCount: number } } }).data.backups.totalCount >= 1);

  const restPreflight = await fetch(`${server.url}/api/v1/backups`, {
    method: 'OPTIONS',
    headers: { origin: ALLOWED, 'access-control-request-method': 'POST' },
  });
  assert.equal(restPreflight.status, 204);
  assert.equal(restPreflight.headers.get('access-control-allow-origin'), ALLOWED);
  const created = await fetch(`${server.url}/api/v1/backups`, {
    method: 'POST',
    headers: { origin: ALLOWED, 'content-type': 'application/json', ...server.authHeaders },
    body: '{}',
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get('access-control-allow-origin'), ALLOWED);
  const { id, sizeBytes, downloadUrl } = (await created.json()) as { id: string; sizeBytes: number; downloadUrl: string };
  const download = await server.fetch(downloadUrl, { headers: { origin: ALLOWED } });
  assert.equal((await download.arrayBuffer()).byteLength, sizeBytes);
  const deleted = await server.fetch(`/api/v1/backups/${encodeURIComponent(id)}`, { method: 'DELETE', headers: { origin: ALLOWED } });
  assert.equal(deleted.status, 200);

  const overSocket = await wsOperation(ALLOWED, print(ListBackupsDocument), {});
  assert.ok((overSocket.backups as { totalCount: number }).totalCount >= 1);
});

test("from the server's own origin and from scripts (no Origin): everything works", async () => {
  const sameOrigin = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { origin: server.url, 'content-type': 'application/json', ...ownerCookie() },
    body: JSON.stringify({ query: print(CreateBackupDocument), variables: { input: {} } }),
  });
  assert.equal(sameOrigin.status, 200);
  assert.equal(sameOrigin.headers.get('access-control-allow-origin'), null, 'same-origin needs no CORS header');
  const created = ((await sameOrigin.json()) as { data: { createBackup: { backup: { id: string } } } }).data.createBackup.backup.id;
  assert.ok((await backupFiles()).includes(created));

  // The multipart request a script sends, with the CSRF header: it runs.
  const form = deleteForm();
  form.set('operations', JSON.stringify({ query: deleteQuery(), variables: { input: { backupId: created } } }));
  const scripted = await server.fetch('/graphql', { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1' }, body: form });
  const result = (await scripted.json()) as { data: { deleteBackup: { deletedId?: string } } };
  assert.equal(result.data.deleteBackup.deletedId, created);
  assert.ok(!(await backupFiles()).includes(created));
  // And the urlencoded one: the forms above were refused, not malformed.
  const second = await createBackup(server);
  const encoded = new URLSearchParams({ query: deleteQuery(), variables: JSON.stringify({ input: { backupId: second.id } }) });
  const urlencoded = await server.fetch('/graphql', { method: 'POST', headers: { 'x-graphql-yoga-csrf': '1' }, body: encoded });
  assert.equal(((await urlencoded.json()) as typeof result).data.deleteBackup.deletedId, second.id);

  const rest = await fetch(`${server.url}/api/v1/backups`, {
    method: 'POST',
    headers: { origin: server.url, 'content-type': 'application/json', ...ownerCookie() },
  });
  assert.equal(rest.status, 201);
  const restId = ((await rest.json()) as { id: string }).id;
  assert.equal((await server.fetch(`/api/v1/backups/${encodeURIComponent(restId)}`, { method: 'DELETE' })).status, 200);

  const overSocket = await wsOperation(null, print(ListBackupsDocument), {});
  assert.ok((overSocket.backups as { totalCount: number }).totalCount >= 1);
});

test('CORS_ORIGINS takes exact origins; anything else stops start-up naming the variable', () => {
  assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).corsOrigins, [
    'https://a.example',
    'http://b.example:8080',
  ]);
  for (const wrong of ['*', 'https://a.example/', 'https://a.example/app', 'a.example', 'ftp://a.example']) {
    assert.throws(
      () => loadConfig({ CORS_ORIGINS: wrong }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'CORS_ORIGINS',
      wrong,
    );
  }
});

/** One operation over graphql-ws, the websocket opened with `origin` (null: none, as a script) and the owner's cookie. */
async function wsOperation(origin: string | null, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  class OriginSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: ownerCookie(), ...(origin ? { origin } : {}) });
    }
  }
  const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: OriginSocket, retryAttempts: 0 });
  try {
    return await new Promise((resolve, reject) => {
      let data: Record<string, unknown> | null = null;
      client.subscribe<Record<string, unknown>>(
        { query, variables },
        {
          next: (value) => (value.errors ? reject(new Error(JSON.stringify(value.errors))) : (data = value.data ?? null)),
          error: (error) => reject(error instanceof Error ? error : new Error(String((error as { reason?: string }).reason ?? error))),
          complete: () => (data ? resolve(data) : reject(new Error('no data'))),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}
