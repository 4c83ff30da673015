// Starts the real control plane on an ephemeral port against real databases, and talks
// to it the way clients do: GraphQL over HTTP with generated typed documents.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { buildApp, type App } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/core/config.ts';
import { createScratchDatabase, type ScratchDatabase } from './postgres.ts';

export interface TestServerOptions {
  provider?: 'sqlite' | 'postgresql';
  /** Extra environment: TARGET_SCHEMA, TARGET_FILES, ... */
  env?: Record<string, string>;
  /** Reuse a data folder (for restarts); a new temporary one otherwise. */
  dataDir?: string;
  /** Reuse a PostgreSQL target database (for restarts). */
  database?: ScratchDatabase;
  /** Keep the control plane's own state in a scratch PostgreSQL database instead of SQLite. */
  controlOnPostgres?: boolean;
  /**
   * Sign in as the test admin (the default): with the setup code on a fresh control
   * database, else with login. False leaves the server as a first start finds it.
   */
  signIn?: boolean;
  /** Settings that are no environment variable, such as shorter waits between webhook attempts. */
  config?: Partial<Config>;
}

/** The account startServer creates and signs in with. */
export const TEST_ADMIN = { username: 'admin', password: 'correct horse battery staple' };

export interface TestServer {
  url: string;
  app: App;
  dataDir: string;
  targetUrl: string;
  database: ScratchDatabase | null;
  /** The setup code the server started with (null once an account exists). */
  setupCode: string | null;
  /** The test admin's session token; null with `signIn: false`. */
  token: string | null;
  /** `{ authorization: 'Bearer …' }` for the test admin, or nothing. */
  authHeaders: Record<string, string>;
  /** GraphQL over HTTP as the test admin. */
  gql<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** fetch() on this server's `path`, as the test admin unless `init.headers` sets authorization. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Stops the server only: the data stays for a restart. */
  stop(): Promise<void>;
  /** Stops the server and removes its data and database. */
  close(): Promise<void>;
}

export async function startServer(options: TestServerOptions = {}): Promise<TestServer> {
  const provider = options.provider ?? 'sqlite';
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'bcp-test-')));
  const database = provider === 'postgresql' ? (options.database ?? (await createScratchDatabase())) : null;
  const targetUrl = database ? database.url : `file:${path.join(dataDir, 'example', 'media-library.db')}`;
  const controlDatabase = options.controlOnPostgres ? await createScratchDatabase('bcp_control') : null;
  // Test targets are fixtures created empty: start-up migrates them (TARGET_MIGRATE=deploy) unless a test says otherwise.
  const env: Record<string, string> = {
    DATA_DIR: dataDir,
    PORT: '0',
    TARGET_DATABASE_URL: targetUrl,
    TARGET_MIGRATE: 'deploy',
    ...options.env,
  };
  if (controlDatabase) env.CONTROL_DATABASE_URL = controlDatabase.url;
  const app = await buildApp({ ...loadConfig(env), ...options.config });
  const url = await app.start();
  const token = options.signIn === false ? null : await signInAt(url, app.setupCode);
  const authHeaders: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  return {
    url,
    app,
    dataDir,
    targetUrl: env.TARGET_DATABASE_URL!,
    database,
    setupCode: app.setupCode,
    token,
    authHeaders,
    gql: (document, variables) => gqlAt(url, document, variables, token),
    fetch: (path, init = {}) =>
      fetch(`${url}${path}`, { ...init, headers: { ...authHeaders, ...(init.headers as Record<string, string>) } }),
    stop,
    async close() {
      await stop();
      await database?.drop();
      await controlDatabase?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One GraphQL operation over HTTP against a server at `url`, as a client sends it, with a bearer token if given. */
export async function gqlAt<R, V>(url: string, document: TypedDocumentNode<R, V>, variables?: V, token?: string | null): Promise<R> {
  return rawGqlAt(url, print(document), variables, token) as Promise<R>;
}

async function rawGqlAt(url: string, query: string, variables: unknown, token?: string | null): Promise<unknown> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data;
}

/**
 * A session token for the test admin at `url`: the account is created with the setup code
 * when one is given (a fresh control database), else signed in to (a restart, a second instance).
 */
export async function signInAt(url: string, setupCode: string | null = null): Promise<string> {
  const { username, password } = TEST_ADMIN;
  const payload = '... on LoginPayload { token } ... on Error { message }';
  const data = (
    setupCode
      ? await rawGqlAt(url, `mutation($input: SetupAccountInput!) { result: setupAccount(input: $input) { ${payload} } }`, {
          input: { username, password, setupCode },
        })
      : await rawGqlAt(url, `mutation($input: LoginInput!) { result: login(input: $input) { ${payload} } }`, {
          input: { username, password },
        })
  ) as { result: { token?: string; message?: string } };
  if (!data.result.token) throw new Error(`signing in as ${username} failed: ${data.result.message}`);
  return data.result.token;
}

/** graphql-ws `connectionParams` that sign a websocket in with `token`. */
export function wsAuth(token: string | null): { authorization: string } | undefined {
  return token ? { authorization: `Bearer ${token}` } : undefined;
}

/** Polls until `check` returns a value; a deadline only so that a broken server fails instead of hanging. */
export async function waitFor<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
