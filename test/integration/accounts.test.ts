// Accounts, sessions and API tokens through the real server: the cookie a browser gets, logout
// and logoutAll, a password change ending the other sessions (and their websockets), revoked
// tokens, throttled sign-ins, and the audit log that records all of it.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MAX_FAILURES_PER_ACCOUNT } from '../../src/modules/access/login-throttle.ts';
import { startServer, TEST_ADMIN, type TestServer } from '../helpers/server.ts';

let server: TestServer;
/** An ADMIN API token: unlike sessions, it outlives changePassword, logoutAll and the throttle. */
let harness: Record<string, string>;

before(async () => {
  server = await startServer({ signIn: false });
});

after(async () => {
  await server?.close();
});

type Body = { data?: Record<string, Record<string, unknown>>; errors?: { message: string; extensions?: { code?: string } }[] };

async function gql(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { response, body: (await response.json()) as Body };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const LOGIN = `mutation($u: String!, $p: String!) { login(input: { username: $u, password: $p }) {
  __typename ... on LoginPayload { token expiresAt account { username role } } ... on TooManyAttemptsError { retryAfterSeconds } ... on Error { message } } }`;
const login = (username: string, password: string, headers: Record<string, string> = {}) =>
  gql(LOGIN, { u: username, p: password }, headers);
const whoAmI = async (headers: Record<string, string>) => (await gql('{ me { username role } }', {}, headers)).body;

test('the setup code file is readable by the owner only, and setupAccount wants a 12-character password', async () => {
  const file = path.join(server.dataDir, 'setup-code');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const short = await gql(
    `mutation($input: SetupAccountInput!) { setupAccount(input: $input) { __typename ... on ValidationError { field } } }`,
    { input: { username: 'owner', password: 'too short', setupCode: server.setupCode } },
  );
  assert.deepEqual(short.body.data, { setupAccount: { __typename: 'ValidationError', field: 'password' } });
  const made = await gql(
    `mutation($input: SetupAccountInput!) { setupAccount(input: $input) { __typename ... on LoginPayload { account { username role } } } }`,
    { input: { ...TEST_ADMIN, setupCode: server.setupCode } },
  );
  assert.deepEqual(made.body.data, { setupAccount: { __typename: 'LoginPayload', account: { username: 'admin', role: 'ADMIN' } } });
  await assert.rejects(stat(file), { code: 'ENOENT' }, 'the code is burnt with its file');
  const session = bearer((await login(TEST_ADMIN.username, TEST_ADMIN.password)).body.data!.login!.token as string);
  const created = await gql(
    'mutation { createApiToken(input: { name: "harness", role: ADMIN }) { ... on CreateApiTokenPayload { token } } }',
    {},
    session,
  );
  harness = bearer(created.body.data!.createApiToken!.token as string);
});

test('login gives a browser an HttpOnly SameSite=Strict cookie that works on its own; logout ends it', async () => {
  const { response, body } = await login(TEST_ADMIN.username, TEST_ADMIN.password);
  const cookie = response.headers.get('set-cookie') ?? '';
  assert.match(cookie, /^bcp_session=bcps_[\w-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
  const token = body.data!.login!.token as string;
  assert.ok(cookie.includes(token));
  const sessionCookie = { cookie: cookie.split(';')[0]! };
  assert.deepEqual((await whoAmI(sessionCookie)).data, { me: { username: 'admin', role: 'ADMIN' } });
  const out = await gql('mutation { logout { ... on LogoutPayload { sessionsEnded } } }', {}, sessionCookie);
  assert.match(out.response.headers.get('set-cookie') ?? '', /^bcp_session=; Path=\/; Max-Age=0/);
  const after = await whoAmI(sessionCookie);
  assert.equal(after.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.match(after.errors![0]!.message, /not valid/);
});

test('behind a trusted proxy that says HTTPS, the cookie is Secure', async () => {
  const proxied = await startServer({ signIn: true, env: { TRUST_PROXY: '127.0.0.1' } });
  try {
    const response = await fetch(`${proxied.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7, 203.0.113.9' },
      body: JSON.stringify({ query: LOGIN, variables: { u: TEST_ADMIN.username, p: TEST_ADMIN.password } }),
    });
    assert.match(response.headers.get('set-cookie') ?? '', /; Secure$/);
    // The audit log records the nearest address the proxy saw, not the proxy's own.
    const events = await fetch(`${proxied.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...proxied.authHeaders },
      body: JSON.stringify({ query: '{ auditLog(first: 1) { edges { node { action address } } } }' }),
    }).then((r) => r.json() as Promise<Body>);
    assert.deepEqual(events.data?.auditLog, { edges: [{ node: { action: 'login', address: '203.0.113.9' } }] });
  } finally {
    await proxied.close();
  }
});

test('changePassword ends the other sessions and closes their websockets; logoutAll ends every one', async () => {
  const first = (await login(TEST_ADMIN.username, TEST_ADMIN.password)).body.data!.login!.token as string;
  const second = (await login(TEST_ADMIN.username, TEST_ADMIN.password)).body.data!.login!.token as string;
  let connected!: () => void;
  const acknowledged = new Promise<void>((resolve) => (connected = resolve));
  const closed = new Promise<number>((resolve) => {
    createClient({
      url: `${server.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {}, // the close is what this test waits for
      connectionParams: bearer(second),
      on: { connected: () => connected(), closed: (event) => resolve((event as { code: number }).code) },
    });
  });
  await acknowledged;
  const wrong = await gql(
    'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }',
    { i: { currentPassword: 'not the password', newPassword: 'a brand new password' } },
    bearer(first),
  );
  assert.equal(wrong.body.data!.changePassword!.__typename, 'InvalidCredentialsError');
  const changed = await gql(
    'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }',
    { i: { currentPassword: TEST_ADMIN.password, newPassword: 'a brand new password' } },
    bearer(first),
  );
  assert.equal(changed.body.data!.changePassword!.__typename, 'ChangePasswordPayload');
  assert.equal(await closed, 4401, "the other session's websocket is closed");
  assert.equal((await whoAmI(bearer(second))).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.deepEqual((await whoAmI(bearer(first))).data, { me: { username: 'admin', role: 'ADMIN' } });
  assert.equal((await login(TEST_ADMIN.username, TEST_ADMIN.password)).body.data!.login!.__typename, 'InvalidCredentialsError');
  const third = (await login(TEST_ADMIN.username, 'a brand new password')).body.data!.login!.token as string;
  const all = await gql('mutation { logoutAll { ... on LogoutPayload { sessionsEnded } } }', {}, bearer(third));
  assert.deepEqual(all.body.data, { logoutAll: { sessionsEnded: 2 } });
  assert.equal((await whoAmI(bearer(first))).errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  // Back to the known password for the tests below.
  const again = (await login(TEST_ADMIN.username, 'a brand new password')).body.data!.login!.token as string;
  await gql(
    'mutation($i: ChangePasswordInput!) { changePassword(input: $i) { __typename } }',
    { i: { currentPassword: 'a brand new password', newPassword: TEST_ADMIN.password } },
    bearer(again),
  );
});

test('an API token is shown once, listed with its last use, and ends when revoked', async () => {
  const admin = harness;
  const created = await gql(
    'mutation { createApiToken(input: { name: "offsite copy", role: ADMIN }) { ... on CreateApiTokenPayload { token apiToken { id name role createdBy lastUsedAt } } } }',
    {},
    admin,
  );
  const { token, apiToken } = created.body.data!.createApiToken as { token: string; apiToken: { id: string; lastUsedAt: null } };
  assert.match(token, /^bcpt_/);
  assert.deepEqual(apiToken, { id: apiToken.id, name: 'offsite copy', role: 'ADMIN', createdBy: 'token:harness', lastUsedAt: null });
  const list = await fetch(`${server.url}/api/v1/backups`, { headers: bearer(token) });
  assert.equal(list.status, 200);
  const listed = await gql('{ apiTokens { name lastUsedAt } }', {}, admin);
  const offsite = (listed.body.data!.apiTokens as unknown as { name: string; lastUsedAt: string | null }[]).find(
    (t) => t.name === 'offsite copy',
  );
  assert.ok(offsite?.lastUsedAt, 'its use is recorded');
  assert.ok(!JSON.stringify(listed.body).includes(token), 'the secret is never listed');
  await gql('mutation($id: ID!) { revokeApiToken(input: { apiTokenId: $id }) { __typename } }', { id: apiToken.id }, admin);
  const refused = await fetch(`${server.url}/api/v1/backups`, { headers: bearer(token) });
  assert.equal(refused.status, 401);
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /revoked/);
});

test('failed logins are throttled per account, with a clear time to retry, even for the right password', async () => {
  for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++) {
    assert.equal((await login('admin', `wrong password ${i}`)).body.data!.login!.__typename, 'InvalidCredentialsError');
  }
  const throttled = (await login('admin', TEST_ADMIN.password)).body.data!.login!;
  assert.equal(throttled.__typename, 'TooManyAttemptsError');
  assert.ok((throttled.retryAfterSeconds as number) > 0 && (throttled.retryAfterSeconds as number) <= 15 * 60);
  assert.match(throttled.message as string, /try again in \d+ s/);
  // An unknown username answers like a wrong password (no account enumeration).
  assert.equal((await login('nobody', 'whatever it is')).body.data!.login!.__typename, 'InvalidCredentialsError');
});

test('the audit log records sign-ins, changes and refusals, newest first, for admins', async () => {
  await gql('mutation { deleteBackup(input: { backupId: "nope" }) { __typename } }');
  const anonymous = await fetch(`${server.url}/api/v1/backups/nope`, { method: 'DELETE' });
  assert.equal(anonymous.status, 401);
  const page = await gql('{ auditLog(first: 50) { totalCount edges { node { actor action target outcome detail } } } }', {}, harness);
  const events = (page.body.data!.auditLog as unknown as { edges: { node: Record<string, string | null> }[] }).edges.map((e) => e.node);
  const find = (action: string, outcome: string) => events.find((e) => e.action === action && e.outcome === outcome);
  assert.deepEqual(find('setupAccount', 'SUCCESS')?.actor, 'admin');
  assert.ok(events.some((e) => e.action === 'login' && e.outcome === 'FAILURE' && e.actor === 'admin (unverified)'));
  assert.equal(find('login', 'DENIED')?.detail?.startsWith('too many failed attempts'), true);
  assert.equal(find('changePassword', 'SUCCESS')?.actor, 'admin');
  assert.equal(find('revokeApiToken', 'SUCCESS')?.actor, 'token:harness');
  assert.deepEqual(find('deleteBackup', 'DENIED'), {
    actor: null,
    action: 'deleteBackup',
    target: 'backupId=nope',
    outcome: 'DENIED',
    detail: 'sign in first: log in with the login mutation, or send Authorization: Bearer <token>',
  });
  assert.equal(find('DELETE /api/v1/backups/{id}', 'DENIED')?.target, 'nope');
  assert.ok(!JSON.stringify(events).includes(TEST_ADMIN.password), 'no password is recorded');
});
