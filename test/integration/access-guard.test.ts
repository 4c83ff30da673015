// Every root field of the schema and every REST route, called without credentials, with the
// setup code, and as a VIEWER (session and API token): each is refused unless ACCESS allows it.
// A field or route added later must be entered in ACCESS, and is refused until it is.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { schema } from '../../src/graphql/schema/index.ts';
import { REST_ACCESS } from '../../src/http/rest.ts';
import { openApiDocument } from '../../src/http/openapi.ts';
import { startServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';

type Who = 'anyone' | 'viewer' | 'admin';
/** Who may call each root field; `firstRun`: also the setup code, before the first account. */
const ACCESS: Record<string, { who: Who; firstRun?: true }> = {
  'Query.backups': { who: 'viewer', firstRun: true },
  'Query.backup': { who: 'viewer' },
  'Query.restoreJob': { who: 'viewer', firstRun: true },
  'Query.backupJob': { who: 'viewer' },
  'Query.jobs': { who: 'viewer' },
  'Query.system': { who: 'viewer' },
  'Query.backupSettings': { who: 'viewer' },
  'Query.me': { who: 'viewer' },
  'Query.accounts': { who: 'admin' },
  'Query.apiTokens': { who: 'admin' },
  'Query.auditLog': { who: 'admin' },
  'Query.webhooks': { who: 'admin' },
  'Mutation.createBackup': { who: 'admin' },
  'Mutation.deleteBackup': { who: 'admin' },
  'Mutation.uploadBackup': { who: 'admin' },
  'Mutation.verifyBackup': { who: 'admin' },
  'Mutation.restoreBackup': { who: 'admin', firstRun: true },
  'Mutation.startBackup': { who: 'admin' },
  'Mutation.cancelJob': { who: 'admin' },
  'Mutation.updateBackupSettings': { who: 'admin' },
  'Mutation.setupAccount': { who: 'anyone' },
  'Mutation.login': { who: 'anyone' },
  'Mutation.logout': { who: 'viewer' },
  'Mutation.logoutAll': { who: 'viewer' },
  'Mutation.changePassword': { who: 'viewer' },
  'Mutation.createAccount': { who: 'admin' },
  'Mutation.deleteAccount': { who: 'admin' },
  'Mutation.createApiToken': { who: 'admin' },
  'Mutation.revokeApiToken': { who: 'admin' },
  'Mutation.addWebhook': { who: 'admin' },
  'Mutation.removeWebhook': { who: 'admin' },
  'Mutation.testWebhook': { who: 'admin' },
  'Subscription.restoreProgress': { who: 'viewer', firstRun: true },
  'Subscription.backupProgress': { who: 'viewer' },
};
/** Allowed, but they would end the caller's session: their refusal is checked, their success elsewhere. */
const NOT_RUN_WHEN_ALLOWED = new Set(['Mutation.logout', 'Mutation.logoutAll']);

const ROOTS = [
  ['Query', 'query', schema.getQueryType()!],
  ['Mutation', 'mutation', schema.getMutationType()!],
  ['Subscription', 'subscription', schema.getSubscriptionType()!],
] as const;
const ROOT_FIELDS = ROOTS.flatMap(([root, operation, type]) =>
  Object.values(type.getFields()).map((field) => ({ name: `${root}.${field.name}`, operation, field })),
);

let server: TestServer;
let setupCode: string;
const tokens: Record<'viewerSession' | 'viewerToken' | 'admin', string> = { viewerSession: '', viewerToken: '', admin: '' };

before(async () => {
  server = await startServer({ signIn: false });
  assert.ok(server.setupCode, 'a fresh install has a setup code');
  setupCode = server.setupCode;
});

after(async () => {
  await server?.close();
});

test('ACCESS names every root field of the schema, and no other', () => {
  assert.deepEqual(ROOT_FIELDS.map((f) => f.name).sort(), Object.keys(ACCESS).sort());
});

test('REST_ACCESS and /openapi.json name the same routes', () => {
  const documented = Object.entries(openApiDocument.paths)
    .filter(([path]) => path.startsWith('/api/') || path === '/metrics')
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
  assert.deepEqual(documented.sort(), Object.keys(REST_ACCESS).sort());
});

test('before the first account: without credentials only login and setupAccount answer', async () => {
  for (const root of ROOT_FIELDS) {
    const outcome = await call(root, null);
    if (ACCESS[root.name]!.who === 'anyone') assert.equal(outcome, 'allowed', root.name);
    else assert.equal(outcome, 'UNAUTHENTICATED', root.name);
  }
});

test('before the first account: the setup code allows the first-run restore and nothing else', async () => {
  for (const root of ROOT_FIELDS) {
    const access = ACCESS[root.name]!;
    const outcome = await call(root, setupCode);
    if (access.who === 'anyone' || access.firstRun) assert.equal(outcome, 'allowed', root.name);
    else assert.equal(outcome, 'FORBIDDEN', root.name);
  }
});

test('REST before the first account: 401 without credentials, the setup code lists backups only', async () => {
  for (const route of restRoutes()) {
    assert.equal((await restCall(route, null)).status, 401, `${route.name} without credentials`);
    const expected = route.name === 'GET /api/v1/backups' ? [200] : [403];
    assert.ok(expected.includes((await restCall(route, setupCode)).status), `${route.name} with the setup code`);
  }
});

test('a websocket without valid credentials is closed with 4401', async () => {
  assert.equal(await websocketClose(undefined), 4401);
  assert.equal(await websocketClose({ authorization: 'Bearer bcps_not-a-session' }), 4401);
});

test('the owner sets up, then adds a VIEWER account and a VIEWER API token', async () => {
  const setup = await post(
    `mutation($input: SetupAccountInput!) { setupAccount(input: $input) { ... on LoginPayload { token } ... on Error { message } } }`,
    { input: { ...TEST_ADMIN, setupCode } },
    null,
  );
  tokens.admin = (setup.data as { setupAccount: { token: string } }).setupAccount.token;
  assert.ok(tokens.admin);
  await post(
    `mutation { createAccount(input: { username: "watcher", password: "twelve chars min", role: VIEWER }) { __typename } }`,
    {},
    tokens.admin,
  );
  const login = await post(
    `mutation { login(input: { username: "watcher", password: "twelve chars min" }) { ... on LoginPayload { token } } }`,
    {},
    null,
  );
  tokens.viewerSession = (login.data as { login: { token: string } }).login.token;
  const created = await post(
    `mutation { createApiToken(input: { name: "dashboard", role: VIEWER }) { ... on CreateApiTokenPayload { token } } }`,
    {},
    tokens.admin,
  );
  tokens.viewerToken = (created.data as { createApiToken: { token: string } }).createApiToken.token;
  assert.ok(tokens.viewerSession.startsWith('bcps_') && tokens.viewerToken.startsWith('bcpt_'));
});

for (const credential of ['viewerSession', 'viewerToken'] as const) {
  test(`a VIEWER (${credential === 'viewerSession' ? 'session' : 'API token'}) reads and watches, and is refused everything else`, async () => {
    for (const root of ROOT_FIELDS) {
      const access = ACCESS[root.name]!;
      if (access.who !== 'admin' && NOT_RUN_WHEN_ALLOWED.has(root.name)) continue;
      const outcome = await call(root, tokens[credential]);
      assert.equal(outcome, access.who === 'admin' ? 'FORBIDDEN' : 'allowed', root.name);
    }
    for (const route of restRoutes()) {
      const { status } = await restCall(route, tokens[credential]);
      if (REST_ACCESS[route.name] === 'admin') assert.equal(status, 403, route.name);
      else assert.ok(status !== 401 && status !== 403, `${route.name}: ${status}`);
    }
  });
}

test('an upload is refused before it is read unless it comes from an ADMIN', async () => {
  for (const [token, status] of [
    [null, 401],
    [tokens.viewerSession, 403],
  ] as const) {
    const form = new FormData();
    form.set(
      'operations',
      JSON.stringify({ query: 'mutation($f: File!) { uploadBackup(input: { file: $f }) { __typename } }', variables: { f: null } }),
    );
    form.set('map', JSON.stringify({ 0: ['variables.f'] }));
    form.set('0', new Blob([new Uint8Array(1024)]), 'x.tar.gz');
    const headers: Record<string, string> = { 'x-graphql-yoga-csrf': '1', ...(token ? { authorization: `Bearer ${token}` } : {}) };
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', body: form, headers });
    assert.equal(response.status, status);
  }
});

test('once an account exists the setup code is spent: it is refused as a credential and cannot make a second account', async () => {
  assert.equal(
    await call(
      ROOT_FIELDS.find((f) => f.name === 'Query.backups')!,
      setupCode,
    ),
    'UNAUTHENTICATED',
  );
  const again = await post(
    `mutation($input: SetupAccountInput!) { setupAccount(input: $input) { __typename } }`,
    { input: { username: 'intruder', password: 'another long password', setupCode } },
    null,
  );
  assert.deepEqual(again.data, { setupAccount: { __typename: 'InvalidSetupCodeError' } });
});

// --- calling a root field with the least valid arguments ---------------------------------

type Outcome = 'allowed' | 'UNAUTHENTICATED' | 'FORBIDDEN';

async function call(root: (typeof ROOT_FIELDS)[number], token: string | null): Promise<Outcome> {
  const { query, variables } = operationFor(root.operation, root.field);
  if (root.operation === 'subscription') return subscriptionOutcome(query, variables, token);
  const body = await post(query, variables, token);
  return outcomeOf(body.errors);
}

function outcomeOf(errors: { extensions?: { code?: string } }[] | undefined): Outcome {
  const codes = (errors ?? []).map((error) => error.extensions?.code);
  if (codes.includes('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (codes.includes('FORBIDDEN')) return 'FORBIDDEN';
  return 'allowed';
}

function operationFor(operation: string, field: GraphQLField<unknown, unknown>) {
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  const args: string[] = [];
  for (const arg of field.args) {
    if (!isNonNullType(arg.type)) continue;
    definitions.push(`$${arg.name}: ${String(arg.type)}`);
    args.push(`${arg.name}: $${arg.name}`);
    variables[arg.name] = leastValue(arg.type);
  }
  const selection = isCompositeType(getNamedType(field.type)) ? ' { __typename }' : '';
  const query = `${operation}${definitions.length ? `(${definitions.join(', ')})` : ''} { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`;
  return { query, variables };
}

function leastValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return leastValue(type.ofType);
  if (isListType(type)) return [leastValue(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(type.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined) value[field.name] = leastValue(field.type);
    }
    return value;
  }
  if (isScalarType(type) && type.name === 'File') return A_FILE;
  if (isScalarType(type)) {
    const scalars: Record<string, unknown> = { Int: 1, Float: 1, Boolean: false, SafeInt: 1, DateTime: '2026-01-01T00:00:00.000Z' };
    return scalars[type.name] ?? 'x';
  }
  throw new Error(`no least value for ${String(type)}`);
}

/** Where a File goes: sent as the file part of a multipart request, the only way a file can come. */
const A_FILE = Symbol('a file');

async function post(query: string, variables: Record<string, unknown>, token: string | null) {
  const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const json = JSON.stringify({ query, variables }, (_key, value: unknown) => (value === A_FILE ? null : value));
  // The File arguments are fields of top-level inputs here (`input.file`).
  const paths = Object.entries(variables).flatMap(([name, value]) =>
    Object.entries(value as Record<string, unknown>)
      .filter(([, field]) => field === A_FILE)
      .map(([field]) => `variables.${name}.${field}`),
  );
  const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json', ...authorization }, body: json };
  if (paths.length > 0) {
    const form = new FormData();
    form.set('operations', json);
    form.set('map', JSON.stringify({ 0: paths }));
    form.set('0', new Blob([new Uint8Array(16)]), 'x.tar.gz');
    Object.assign(init, { body: form, headers: { 'x-graphql-yoga-csrf': '1', ...authorization } });
  }
  const response = await fetch(`${server.url}/graphql`, init);
  return (await response.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** A subscription's first answer: refused (an error with a code), or anything else. */
async function subscriptionOutcome(query: string, variables: Record<string, unknown>, token: string | null): Promise<Outcome> {
  if (!token) return (await websocketClose(undefined)) === 4401 ? 'UNAUTHENTICATED' : 'allowed';
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  try {
    return await new Promise<Outcome>((resolve) => {
      client.subscribe(
        { query, variables },
        {
          next: (value) => resolve(outcomeOf(value.errors as { extensions?: { code?: string } }[] | undefined)),
          error: (error) => resolve(Array.isArray(error) ? outcomeOf(error as { extensions?: { code?: string } }[]) : 'allowed'),
          complete: () => resolve('allowed'),
        },
      );
    });
  } finally {
    await client.dispose();
  }
}

/** The close code of a websocket that connects with `connectionParams` and subscribes. */
function websocketClose(connectionParams: Record<string, string> | undefined): Promise<number> {
  const client = createClient({
    url: `${server.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams,
  });
  return new Promise<number>((resolve) => {
    client.on('closed', (event) => resolve((event as { code: number }).code));
    client.subscribe(
      { query: 'subscription { restoreProgress(jobId: "x") { phase } }' },
      { next: () => {}, error: () => {}, complete: () => {} },
    );
  }).finally(() => client.dispose());
}

// --- REST ----------------------------------------------------------------------------------

function restRoutes() {
  return Object.keys(REST_ACCESS).map((name) => {
    const [method, path] = name.split(' ') as [string, string];
    return { name, method, path: path.replace('{id}', 'app-backup-2026-01-01T00-00-00-manual.tar.gz') };
  });
}

async function restCall(route: { method: string; path: string }, token: string | null) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (route.method === 'POST') headers['content-type'] = 'application/json';
  // A POST that got through would take a backup: its body is wrong on purpose, so it is refused as input (400), not run.
  const body = route.method === 'POST' ? JSON.stringify({ includeMedia: 'not a boolean' }) : undefined;
  const response = await fetch(`${server.url}${route.path}`, { method: route.method, headers, body });
  await response.arrayBuffer();
  return { status: response.status };
}
