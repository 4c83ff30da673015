// What the worst requests cost the service as `npm start` runs it: a large upload by GraphQL
// multipart and by REST, and a document of a million aliases. Prints the server's resident
// memory (peak and after) and the time each took. Usage: npm run bench:hostile -- [MiB]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';

const uploadMiB = Number(process.argv[2] ?? 512);
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-hostile-'));
const server = spawn(process.execPath, ['dist/src/main.js'], {
  env: { ...process.env, MALLOC_ARENA_MAX: '2', PORT: '0', DATA_DIR: dataDir, UPLOAD_MAX_BYTES: String(2 * 1024 ** 3) },
  stdio: ['ignore', 'pipe', 'pipe'],
});
const url = await new Promise<string>((resolve, reject) => {
  let seen = '';
  const look = (chunk: Buffer) => {
    seen += chunk.toString();
    const found = /https?:\/\/[\w.:[\]]+/.exec(seen);
    if (found && /listening|GraphiQL|serving/i.test(seen)) resolve(found[0]);
  };
  server.stdout.on('data', look);
  server.stderr.on('data', look);
  server.once('exit', (code) => reject(new Error(`the server stopped (${code}): ${seen}`)));
});

async function memory(): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${server.pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

async function gql(query: string, variables: object, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, { token?: string }> } };
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
const rows: string[] = [];
async function measure(name: string, work: () => Promise<string>) {
  const before = await memory();
  const started = performance.now();
  const outcome = await work();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const after = await memory();
  rows.push(`| ${name} | ${outcome} | ${seconds} s | ${mib(before.rss)} | ${mib(after.peak)} | ${mib(after.rss)} |`);
}

try {
  const setupCode = (await readFile(path.join(dataDir, 'setup-code'), 'utf8')).trim();
  const password = 'correct horse battery staple';
  await gql(
    'mutation($c: String!, $p: String!) { setupAccount(input: { username: "bench", password: $p, setupCode: $c }) { __typename } }',
    { c: setupCode, p: password },
  );
  const login = await gql('mutation($p: String!) { login(input: { username: "bench", password: $p }) { ... on LoginPayload { token } } }', {
    p: password,
  });
  const token = login.body.data!.login!.token!;
  const auth = { authorization: `Bearer ${token}` };

  // Not an archive: its bytes still have to arrive and be staged before the check refuses them.
  const file = path.join(dataDir, 'upload.bin');
  const out = createWriteStream(file);
  for (let i = 0; i < uploadMiB; i++) out.write(randomBytes(1024 * 1024));
  out.end();
  await finished(out);

  await measure(`GraphQL multipart upload, ${uploadMiB} MiB`, async () => {
    const form = new FormData();
    const query = 'mutation($input: UploadBackupInput!) { uploadBackup(input: $input) { __typename } }';
    form.set('operations', JSON.stringify({ query, variables: { input: { file: null } } }));
    form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
    form.set('0', await openAsBlob(file), 'upload.bin');
    const response = await fetch(`${url}/graphql`, { method: 'POST', body: form, headers: { 'x-graphql-yoga-csrf': '1', ...auth } });
    const body = (await response.json()) as { data?: { uploadBackup: { __typename: string } } };
    return `${response.status} ${body.data?.uploadBackup.__typename ?? 'error'}`;
  });
  await measure(`REST upload, ${uploadMiB} MiB`, async () => {
    const response = await fetch(`${url}/api/v1/uploads`, {
      method: 'POST',
      body: await openAsBlob(file),
      headers: { 'content-type': 'application/octet-stream', ...auth },
    });
    return `${response.status} ${((await response.json()) as { error?: { type: string } }).error?.type ?? 'stored'}`;
  });
  await measure('GraphQL document of 1,000,000 aliases', async () => {
    const query = `{ ${Array.from({ length: 1_000_000 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query }),
    });
    await response.arrayBuffer();
    return String(response.status);
  });

  console.log('| request | answer | time | RSS before | peak RSS so far | RSS after |\n|---|---|---|---|---|---|');
  console.log(rows.join('\n'));
} finally {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  await rm(dataDir, { recursive: true, force: true });
}
