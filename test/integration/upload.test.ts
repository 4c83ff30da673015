// uploadBackup (GraphQL multipart request) stores an archive as kind UPLOADED only after
// the full check, under a name of its own, and within the size limit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fillLedger, ledgerTarget } from '../helpers/ledger.ts';
import { editManifest, pack, readEntries } from '../helpers/archive-edit.ts';
import { ARCHIVE_NAME, archivePath, createBackup } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { uploadArchive, type UploadResponse } from '../helpers/upload.ts';

let server: TestServer;

before(async () => {
  const target = await ledgerTarget({ UPLOAD_MAX_BYTES: String(256 * 1024) });
  server = await startServer({ dataDir: target.dataDir, env: target.env });
  fillLedger(target.file, 30, 10);
});

after(async () => {
  await server.close();
});

/** The GraphQL multipart request spec, as browser clients send it. */
function upload(bytes: Buffer, clientName: string): Promise<UploadResponse> {
  return uploadArchive(server, bytes, { clientName });
}

test('a genuine archive is stored as an upload, under a name of our own', async () => {
  const original = await createBackup(server, { includeMedia: true });
  const { body } = await upload(await readFile(archivePath(server, original.fileName)), '../../../etc/evil.tar.gz');
  const result = body.data?.uploadBackup;
  assert.equal(result?.__typename, 'UploadBackupPayload', JSON.stringify(body));
  if (result?.__typename !== 'UploadBackupPayload') return;
  assert.equal(result.backup.kind, 'UPLOADED');
  assert.match(result.backup.fileName, ARCHIVE_NAME);
  assert.deepEqual(result.backup.tables, original.tables);
  assert.equal(result.backup.restorable.ok, true);
});

test('a damaged archive is refused and nothing is stored', async () => {
  const original = await createBackup(server);
  const before = await readdir(server.app.config.backupDir);
  const entries = editManifest(await readEntries(await readFile(archivePath(server, original.fileName))), (m) => {
    m.tables[0]!.rows += 1;
  });
  const { body } = await upload(await pack(entries), 'backup.tar.gz');
  assert.equal(body.data?.uploadBackup.__typename, 'InvalidArchiveError');
  const junk = await upload(Buffer.from('definitely not a backup'), 'backup.tar.gz');
  assert.equal(junk.body.data?.uploadBackup.__typename, 'InvalidArchiveError');
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
  assert.deepEqual(await readdir(server.app.config.scratchDir), [], 'no staged upload is left');
});

test('a file over UPLOAD_MAX_BYTES is refused and nothing is stored', async () => {
  const before = await readdir(server.app.config.backupDir);
  const { status, body } = await upload(Buffer.alloc(300 * 1024, 7), 'big.tar.gz');
  assert.ok(
    status >= 400 || body.data?.uploadBackup.__typename === 'ValidationError',
    `refused: ${status} ${JSON.stringify(body).slice(0, 200)}`,
  );
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
});

test('an archive over 25 MB uploads (no request limit below UPLOAD_MAX_BYTES)', async () => {
  // The example app with 40 MB of incompressible bytes in its secrets folder: a real archive of that size.
  const big = await startServer();
  try {
    await writeFile(path.join(big.dataDir, 'example', 'secrets', 'large.bin'), randomBytes(40 * 1024 * 1024));
    const original = await createBackup(big);
    const bytes = await readFile(archivePath(big, original.fileName));
    assert.ok(bytes.length > 40 * 1024 * 1024, `${bytes.length} bytes`);
    const { status, body } = await uploadArchive(big, bytes);
    assert.equal(body.data?.uploadBackup.__typename, 'UploadBackupPayload', JSON.stringify(body).slice(0, 300));
    assert.equal(status, 200);
    // The REST upload takes the archive as the request body, streamed to disk.
    const rest = await big.fetch('/api/v1/uploads', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(rest.status, 201);
    assert.equal(((await rest.json()) as { kind: string }).kind, 'uploaded');
  } finally {
    await big.close();
  }
});

test('the REST upload refuses what the GraphQL one does, before reading what it can', async () => {
  const tooLarge = await server.fetch('/api/v1/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: Buffer.alloc(256 * 1024 + 1),
  });
  assert.equal(tooLarge.status, 413);
  const notAnArchive = await server.fetch('/api/v1/uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: Buffer.from('not a tar.gz'),
  });
  assert.equal(notAnArchive.status, 422);
  assert.equal(((await notAnArchive.json()) as { error: { type: string } }).error.type, 'InvalidArchiveError');
  const form = await server.fetch('/api/v1/uploads', { method: 'POST', body: new URLSearchParams({ a: 'b' }) });
  assert.equal(form.status, 415);
});

// --- the multipart request itself: parsed as it arrives, the file staged on disk ------------

/** A multipart request's parts, in the order given, sent by fetch as a browser would. */
async function multipart(parts: [string, string | Blob][], headers: Record<string, string> = {}) {
  const form = new FormData();
  for (const [name, value] of parts) form.append(name, value);
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    body: form,
    headers: { 'x-graphql-yoga-csrf': '1', ...server.authHeaders, ...headers },
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string }[] } };
}

const UPLOAD = 'mutation($input: UploadBackupInput!) { uploadBackup(input: $input) { __typename } }';
const operations = JSON.stringify({ query: UPLOAD, variables: { input: { file: null } } });

/** What is staged in the instance's scratch folder (nothing, between requests). */
async function staged(): Promise<string[]> {
  const names = await readdir(server.app.config.scratchDir).catch(() => []);
  return names.filter((name) => name.startsWith('graphql-upload-'));
}

test('a multipart request out of order, with a second file or a hostile map is refused, nothing staged', async () => {
  const file = new Blob([new Uint8Array(1024)]);
  const cases: [string, [string, string | Blob][]][] = [
    [
      'the file before the map',
      [
        ['operations', operations],
        ['0', file],
        ['map', '{"0":["variables.input.file"]}'],
      ],
    ],
    [
      'a file the map does not name',
      [
        ['operations', operations],
        ['map', '{"1":["variables.input.file"]}'],
        ['0', file],
      ],
    ],
    [
      'two files',
      [
        ['operations', operations],
        ['map', '{"0":["variables.input.file"],"1":["variables.input.file"]}'],
        ['0', file],
        ['1', file],
      ],
    ],
    [
      'a map into a prototype',
      [
        ['operations', operations],
        ['map', '{"0":["variables.__proto__.polluted"]}'],
        ['0', file],
      ],
    ],
    [
      'a map outside variables',
      [
        ['operations', operations],
        ['map', '{"0":["query"]}'],
        ['0', file],
      ],
    ],
    [
      'a batch',
      [
        ['operations', `[${operations}]`],
        ['map', '{"0":["0.variables.input.file"]}'],
        ['0', file],
      ],
    ],
    [
      'operations that are not JSON',
      [
        ['operations', '{'],
        ['map', '{}'],
        ['0', file],
      ],
    ],
    [
      'no operations',
      [
        ['map', '{"0":["variables.input.file"]}'],
        ['0', file],
      ],
    ],
  ];
  for (const [name, parts] of cases) {
    const { status, body } = await multipart(parts);
    assert.equal(status, 400, `${name}: ${JSON.stringify(body)}`);
    assert.ok(body.errors?.[0]?.message, name);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(await staged(), []);
});

test('a multipart file over UPLOAD_MAX_BYTES sent without a length is cut at the limit, nothing staged', async () => {
  const before = await readdir(server.app.config.backupDir);
  // Chunked: no content-length for the server to refuse it by, so the parser's own limit must.
  const boundary = 'bcp-test-boundary';
  const head = [
    ['operations', operations],
    ['map', '{"0":["variables.input.file"]}'],
  ].map(([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(Buffer.from(head.join('')));
      controller.enqueue(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="0"; filename="a"\r\n\r\n`));
      for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(64 * 1024));
      controller.enqueue(Buffer.from(`\r\n--${boundary}--\r\n`));
      controller.close();
    },
  });
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    body,
    duplex: 'half',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-graphql-yoga-csrf': '1', ...server.authHeaders },
  } as RequestInit);
  assert.equal(response.status, 413, await response.text());
  assert.deepEqual(await staged(), []);
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
});

test('a File given any other way than as a file part is refused as bad input, not an unexpected error', async () => {
  const response = await server.fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: UPLOAD, variables: { input: { file: 'not a file' } } }),
  });
  const body = (await response.json()) as { errors: { message: string; extensions?: { code?: string } }[] };
  assert.match(body.errors[0]!.message, /multipart/);
  assert.notEqual(body.errors[0]!.extensions?.code, 'INTERNAL_SERVER_ERROR');
});

test('an upload cut off midway leaves nothing staged or stored', async () => {
  const before = await readdir(server.app.config.backupDir);
  const controller = new AbortController();
  const boundary = 'bcp-cut-off';
  let sent = 0;
  let wasStaged = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(stream) {
      if (sent === 0) {
        stream.enqueue(
          Buffer.from(
            `--${boundary}\r\ncontent-disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
              `--${boundary}\r\ncontent-disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
              `--${boundary}\r\ncontent-disposition: form-data; name="0"; filename="a"\r\n\r\n`,
          ),
        );
      } else if (sent < 4) {
        stream.enqueue(new Uint8Array(16 * 1024));
      } else {
        // The file is being staged now: the client goes away.
        for (let i = 0; i < 50 && (await staged()).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
        wasStaged = (await staged()).length;
        controller.abort();
      }
      sent++;
    },
  });
  const request = fetch(`${server.url}/graphql`, {
    method: 'POST',
    body,
    duplex: 'half',
    signal: controller.signal,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-graphql-yoga-csrf': '1', ...server.authHeaders },
  } as RequestInit);
  await assert.rejects(request);
  assert.equal(wasStaged, 1, 'the file was being staged when the client went away');
  for (let i = 0; i < 50 && (await staged()).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(await staged(), []);
  assert.deepEqual(await readdir(server.app.config.backupDir), before);
  // The server still answers.
  assert.equal((await server.fetch('/healthz')).status, 200);
});
