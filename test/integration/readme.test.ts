// README.md's examples run as a reader runs them, top to bottom, against a real server first
// started, as GraphiQL runs them (with its session cookie): every ```graphql operation and every
// ```sh block that curls it. `$setupCode` is the server's, `$id` the last createBackup's id,
// `$jobId` the last restoreBackup's or startBackup's job, as the README says.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { Kind, parse, print, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startServer, waitFor, type TestServer } from '../helpers/server.ts';

const README_HOST = 'http://127.0.0.1:4000';
const run = promisify(execFile);

interface Block {
  lang: string;
  code: string;
  line: number;
}

type Json = Record<string, unknown>;

let server: TestServer;
let workDir: string;
let blocks: Block[];
/** What the README tells the reader to carry from one example to the next. */
const carried: { setupCode?: string; id?: string; jobId?: string } = {};
/** The session cookie GraphiQL's browser would hold: set by setupAccount and login. */
let cookie: string | null = null;
/** A restore started by an example and not yet followed to its end. */
let pendingJob: string | null = null;

before(async () => {
  blocks = codeBlocks(await readFile(new URL('../../README.md', import.meta.url), 'utf8'));
  server = await startServer({ signIn: false });
  carried.setupCode = server.setupCode ?? undefined;
  workDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-readme-'));
});

after(async () => {
  await server?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

test("README.md's GraphQL and curl examples run as written, top to bottom", { timeout: 120_000 }, async (t) => {
  let operations = 0;
  let scripts = 0;
  for (const block of blocks) {
    if (block.lang === 'graphql') {
      const document = parse(block.code);
      const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
      for (const operation of document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)) {
        const name = `README.md:${block.line} ${operation.operation} ${operation.name?.value ?? '(anonymous)'}`;
        const single: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] };
        await t.test(name, () => runOperation(name, operation, print(single)));
        operations++;
      }
    } else if (callsTheServer(block)) {
      await t.test(`README.md:${block.line} sh`, () => runScript(block));
      scripts++;
    }
  }
  await settleRestore('the end of the README');
  assert.ok(operations > 0, 'the README shows GraphQL operations');
  assert.ok(scripts > 0, 'the README shows curl lines');
});

async function runOperation(name: string, operation: OperationDefinitionNode, query: string): Promise<void> {
  const variables: Json = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const variable = definition.variable.name.value;
    const value = carried[variable as keyof typeof carried];
    assert.ok(
      value,
      `${name} takes $${variable}, but no earlier example gave it (the test knows $setupCode, $id from createBackup and $jobId from restoreBackup or startBackup)`,
    );
    variables[variable] = value;
  }
  if (operation.operation === 'subscription') return runSubscription(name, query, variables);
  await settleRestore(name);
  const data = await post(name, query, variables);
  if (operation.operation !== 'mutation') return;
  for (const [field, result] of Object.entries(data)) {
    assert.ok(
      result && typeof result === 'object' && Object.keys(result).length > 0,
      `${name}: ${field} returned a union member the example does not select: ${JSON.stringify(result)}`,
    );
    assert.ok(!('message' in result), `${name}: ${field} returned an error: ${JSON.stringify(result)}`);
  }
  const created = (data.createBackup as { backup?: { id?: string } } | undefined)?.backup?.id;
  if (created) carried.id = created;
  const job = (data.restoreBackup as { job?: { id?: string } } | undefined)?.job?.id;
  if (job) carried.jobId = pendingJob = job;
  const backupJob = (data.startBackup as { job?: { id?: string } } | undefined)?.job?.id;
  if (backupJob) carried.jobId = backupJob;
}

async function post(name: string, query: string, variables: Json): Promise<Json> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const set = /^(bcp_session=[^;]*);.*Max-Age=(\d+)/.exec(response.headers.get('set-cookie') ?? '');
  if (set) cookie = set[2] === '0' ? null : set[1]!;
  const body = (await response.json()) as { data?: Json | null; errors?: unknown[] };
  assert.equal(body.errors, undefined, `${name}: ${JSON.stringify(body.errors)}`);
  assert.equal(response.status, 200, name);
  assert.ok(body.data, `${name}: no data`);
  return body.data;
}

/** Over graphql-ws, as GraphiQL does: every event until the server completes the stream. */
async function runSubscription(name: string, query: string, variables: Json): Promise<void> {
  // The browser sends its cookie with the websocket upgrade.
  const headers = cookie ? { cookie } : {};
  class BrowserSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const client = createClient({ url: `${server.url.replace('http', 'ws')}/graphql`, webSocketImpl: BrowserSocket, retryAttempts: 0 });
  const events: Json[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no completion within 60 s`)), 60_000);
      client.subscribe<Json>(
        { query, variables },
        {
          next: (value) => {
            if (value.errors?.length) reject(new Error(`${name}: ${JSON.stringify(value.errors)}`));
            if (value.data) events.push(value.data);
          },
          error: (error) => reject(error instanceof Error ? error : new Error(`${name}: ${JSON.stringify(error)}`)),
          complete: () => {
            clearTimeout(timer);
            resolve();
          },
        },
      );
    });
  } finally {
    await client.dispose();
  }
  assert.ok(events.length > 0, `${name}: no events`);
  const last = Object.values(events.at(-1)!)[0] as { job?: { status?: string; error?: string } } | undefined;
  if (last?.job?.status) {
    assert.equal(last.job.status, 'SUCCEEDED', `${name}: ${JSON.stringify(last)}`);
    pendingJob = null;
  }
}

/** The next example must not meet a restore still running (it would get RestoreInProgressError). */
async function settleRestore(before: string): Promise<void> {
  if (!pendingJob) return;
  const id = pendingJob;
  pendingJob = null;
  const query = 'query ($id: ID!) { restoreJob(id: $id) { status error } }';
  const job = await waitFor(`restore ${id} to end before ${before}`, async () => {
    const { restoreJob } = (await post(`restoreJob ${id}`, query, { id })) as { restoreJob: { status: string; error: string | null } };
    return restoreJob.status === 'SUCCEEDED' || restoreJob.status === 'FAILED' ? restoreJob : null;
  });
  assert.equal(job.status, 'SUCCEEDED', `the restore started before ${before}: ${job.error}`);
}

/** A ```sh block with curl lines for the server; set-up and deployment blocks are not run. */
function callsTheServer(block: Block): boolean {
  return block.lang === 'sh' && /\bcurl\b/.test(block.code) && block.code.includes(README_HOST);
}

/**
 * The block in one bash, pointed at the test server. `curl` also fails on an HTTP error
 * status, so an example that gets a 404 fails here rather than printing an error body.
 */
async function runScript(block: Block): Promise<void> {
  await settleRestore(`README.md:${block.line}`);
  const script = [
    'set -euo pipefail',
    'curl() { command curl --fail-with-body --max-time 60 "$@"; }',
    block.code.replaceAll(README_HOST, server.url),
  ].join('\n');
  try {
    await run('bash', ['-c', script], {
      cwd: workDir,
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
      timeout: 60_000,
    });
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    assert.fail(`README.md:${block.line}: bash exited with ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`);
  }
}

/** Fenced code blocks, indented ones (inside list items) too, with the line each opens on. */
function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j]!.trim() !== '```'; j++) body.push(lines[j]!.slice(indent!.length));
    found.push({ lang: lang!, code: body.join('\n'), line: i + 1 });
    i = j;
  }
  return found;
}
