// Abuse limits: oversized GraphQL documents are refused before any resolver runs, over HTTP
// and the websocket; websockets per address are capped; an oversized upload is refused from
// its content-length, before its body is read.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { getIntrospectionQuery, print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_GRAPHQL_BODY_BYTES } from '../../src/app.ts';
import { MAX_SOCKETS_PER_ADDRESS } from '../../src/graphql-websocket.ts';
import { GRAPHQL_LIMITS } from '../../src/graphql/limits.ts';
import { ListBackupsDocument } from '../generated/graphql.ts';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { createBackup } from '../helpers/scenarios.ts';
import { startServer, wsAuth, type TestServer } from '../helpers/server.ts';
import { uploadArchive } from '../helpers/upload.ts';

const UPLOAD_MAX_BYTES = 256 * 1024;

let server: TestServer;

before(async () => {
  const target = await ledgerTarget({ UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES) });
  server = await startServer({ dataDir: target.dataDir, env: target.env });
  fillLedger(target.file, 5, 5);
  await createBackup(server);
});

after(async () => {
  await server.close();
});

const backupFiles = async () => (await readdir(server.app.config.backupDir)).sort();

async function post(query: string): Promise<{ status: number; body: { data?: unknown; errors?: { message: string }[] } }> {
  const response = await server.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { errors?: { message: string }[] } };
}

const aliasedCreates = (count: number) =>
  `mutation { ${Array.from({ length: count }, (_, i) => `b${i}: createBackup { __typename }`).join(' ')} }`;
const nestedCreate = (depth: number) =>
  `mutation { ${'... on Mutation { '.repeat(depth - 2)}createBackup { __typename }${' }'.repeat(depth - 1)}`;

/** Sends `query` and checks that it was refused with an error matching `message` and that no backup was made. */
async function refused(query: string, message: RegExp): Promise<void> {
  const before = await backupFiles();
  const { body } = await post(query);
  assert.equal(body.data ?? undefined, undefined, 'nothing was executed');
  assert.ok(
    body.errors?.some((error) => message.test(error.message)),
    JSON.stringify(body).slice(0, 300),
  );
  assert.deepEqual(await backupFiles(), before, 'no backup was created');
}

test('10,000 aliased createBackup fields: refused at parsing, no backup made', async () => {
  await refused(aliasedCreates(10_000), new RegExp(`Token limit of ${GRAPHQL_LIMITS.maxTokens} exceeded`));
});

test('1,000,000 aliases (35 MB): refused from content-length before the body is read, and the server still answers', async () => {
  const before = await backupFiles();
  const { status, body } = await post(aliasedCreates(1_000_000));
  assert.equal(status, 413);
  assert.match(body.errors![0]!.message, new RegExp(`limited to ${MAX_GRAPHQL_BODY_BYTES}`));
  assert.deepEqual(await backupFiles(), before);
  // A body sent without a length cannot be capped before it is read: it is refused too.
  const chunked = await server.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: new Blob([JSON.stringify({ query: '{ __typename }' })]).stream(),
    duplex: 'half',
  } as RequestInit);
  assert.equal(chunked.status, 411);
  assert.equal((await post('{ __typename }')).status, 200);
});

test('aliases past the limit are refused, even in a short document', async () => {
  await refused(aliasedCreates(GRAPHQL_LIMITS.maxAliases + 1), new RegExp(`Aliases limit of ${GRAPHQL_LIMITS.maxAliases} exceeded`));
});

test('a document 50 deep is refused before createBackup runs', async () => {
  await refused(nestedCreate(50), new RegExp(`Query depth limit of ${GRAPHQL_LIMITS.maxDepth} exceeded, found 50`));
});

test('directives and cost past their limits are refused', async () => {
  const directives = `{ backups @include(if: true) { ${'totalCount @skip(if: false) '.repeat(GRAPHQL_LIMITS.maxDirectives)} } }`;
  await refused(directives, new RegExp(`Directives limit of ${GRAPHQL_LIMITS.maxDirectives} exceeded`));
  // Within the depth, alias and token limits, but ten connections of backups five fragments deep.
  const node = 'id fileName kind createdAt sizeBytes tables { name rows sha256 media } files { path size sha256 } restorable { ok reason }';
  const connections = Array.from({ length: 10 }, (_, i) => `b${i}: backups { edges { node { ${node} } } }`).join(' ');
  await refused(
    `{ ${'... on Query { '.repeat(5)}${connections}${' }'.repeat(5)} }`,
    new RegExp(`Cost limit of ${GRAPHQL_LIMITS.maxCost} exceeded`),
  );
});

test('the same limits hold over the websocket', async () => {
  const before = await backupFiles();
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: wsAuth(server.token),
  });
  try {
    const errors = await new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        { query: nestedCreate(50) },
        { next: () => reject(new Error('a result')), error: resolve, complete: () => reject(new Error('completed')) },
      );
    });
    assert.match(JSON.stringify(errors), /Query depth limit/);
  } finally {
    await client.dispose();
  }
  assert.deepEqual(await backupFiles(), before);
});

test("GraphiQL's introspection query and the tests' operations pass", async () => {
  const introspection = getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  });
  const { status, body } = await post(introspection);
  assert.equal(status, 200, JSON.stringify(body.errors));
  assert.ok((body.data as { __schema?: unknown }).__schema);
  const list = await post(print(ListBackupsDocument));
  assert.equal(list.body.errors, undefined);
});

test(`websockets: ${MAX_SOCKETS_PER_ADDRESS} open per address, the next refused until one closes`, async () => {
  const url = `${server.url.replace('http', 'ws')}/graphql`;
  const open = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const socket = new WebSocket(url, 'graphql-transport-ws');
      socket.on('open', () => {
        // Signed in, else graphql-ws closes it (after 3 s without connection_init, at once without credentials).
        socket.send(JSON.stringify({ type: 'connection_init', payload: wsAuth(server.token) }));
        resolve(socket);
      });
      socket.on('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
      socket.on('error', reject);
    });
  const sockets = await Promise.all(Array.from({ length: MAX_SOCKETS_PER_ADDRESS }, open));
  try {
    await assert.rejects(open(), /refused: 429/);
    const closed = new Promise((resolve) => sockets[0]!.once('close', resolve));
    sockets[0]!.close();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 100));
    sockets[0] = await open();
  } finally {
    for (const socket of sockets) socket.terminate();
  }
});

test('an upload whose content-length is over UPLOAD_MAX_BYTES is refused before its body is sent', async () => {
  const before = await backupFiles();
  // The request announces 10 GiB and sends a few bytes: the answer can only come from the headers.
  const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'multipart/form-data; boundary=x',
        'content-length': String(10 * 1024 ** 3),
        'x-graphql-yoga-csrf': '1',
        ...server.authHeaders,
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.write('--x\r\n');
  });
  assert.equal(answer.status, 413);
  assert.match(answer.body, /UPLOAD_MAX_BYTES/);
  // A real one, just over the limit, as a client sends it.
  const { status } = await uploadArchive(server, Buffer.alloc(UPLOAD_MAX_BYTES + 100 * 1024, 7));
  assert.equal(status, 413);
  assert.deepEqual(await backupFiles(), before);
});
