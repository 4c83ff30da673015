// GraphQL multipart requests parsed as they arrive: the file goes straight to a scratch file
// on disk, so an upload of UPLOAD_MAX_BYTES costs the same memory as one of a kilobyte.
// Replaces Yoga's parser, which buffers the whole form (request.formData()) in memory.
import { Busboy, type BusboyFileStream } from '@fastify/busboy';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';

/** The operations and map fields: far above any real document (GraphQL bodies are capped at 1 MiB too). */
const MAX_FIELD_BYTES = 1024 * 1024;

/** A file of a multipart request, staged on disk for the length of the request. */
export class StagedUpload {
  constructor(
    readonly name: string,
    readonly type: string,
    readonly size: number,
    /** Where the bytes are; removed once the response is sent. */
    readonly path: string,
  ) {}

  stream(): ReadableStream<Uint8Array> {
    return Readable.toWeb(createReadStream(this.path)) as ReadableStream<Uint8Array>;
  }
}

export interface StreamingUploadOptions {
  /** Where files are staged: the instance's own scratch folder. */
  dir: string;
  /** UPLOAD_MAX_BYTES. */
  maxFileBytes: number;
}

/** A Yoga plugin parsing `multipart/form-data` GraphQL requests with one file streamed to disk. */
export function useStreamingUploads(options: StreamingUploadOptions): Plugin {
  const staged = new WeakMap<Request, string[]>();
  const cleanUp = async (request: Request) => {
    const paths = staged.get(request) ?? [];
    staged.delete(request);
    await Promise.all(paths.map((file) => rm(file, { force: true })));
  };
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== 'POST' || !/^multipart\/form-data/i.test(request.headers.get('content-type') ?? '')) return;
      // The request parsed is the one handed in: Yoga's body-size limit wraps the original's body.
      setRequestParser(async (limited) => {
        const paths: string[] = [];
        staged.set(request, paths);
        if (!limited.body) throw badRequest('the multipart request has no body');
        // A ponyfilled stream (node:stream cannot adopt it), async-iterable all the same.
        const body = Readable.from(limited.body as unknown as AsyncIterable<Uint8Array>, { objectMode: false });
        return parseMultipart(body, limited.headers.get('content-type')!, options, paths);
      });
    },
    // After the response: the resolver has finished with the file (it reads it in place).
    onResponse: ({ request }) => cleanUp(request),
  };
}

/**
 * Reads `operations`, then `map`, then the one file the map names, as the GraphQL multipart
 * request spec orders them; anything else (a second file, a file before the map, an unknown
 * field) is refused before it is read.
 */
async function parseMultipart(body: Readable, contentType: string, options: StreamingUploadOptions, paths: string[]) {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const busboy = new Busboy({
    headers: { 'content-type': contentType },
    limits: { fields: 2, files: 1, parts: 3, fieldSize: MAX_FIELD_BYTES, fileSize: options.maxFileBytes, headerPairs: 20 },
  });
  let operations: Record<string, unknown> | null = null;
  let map: Record<string, string[]> | null = null;
  const files: Promise<void>[] = [];
  const open = new Set<BusboyFileStream>();
  // After a failure the rest of the body is still parsed, its file bytes discarded, so the
  // client, still sending, gets the answer once it has finished.
  let failure: unknown = null;
  const fail = (error: unknown) => void (failure ??= error);

  busboy.on('field', (name: string, value: string, nameTruncated: boolean, valueTruncated: boolean) => {
    if (failure) return;
    if (valueTruncated) return fail(tooLarge(`the "${name}" field is over ${MAX_FIELD_BYTES} bytes`));
    if (name === 'operations' && !operations) return void (operations = parseOperations(value, fail));
    if (name === 'map' && operations && !map) return void (map = parseMap(value, fail));
    fail(badRequest(`unexpected field "${name}": send "operations", then "map", then the file`));
  });
  busboy.on('file', (name: string, stream: BusboyFileStream, fileName: string, _encoding: string, mimeType: string) => {
    const keys = map?.[name];
    if (failure || !keys) {
      stream.resume();
      if (!keys) fail(badRequest(`the file "${name}" must come after "operations" and a "map" naming it`));
      return;
    }
    const file = path.join(options.dir, `graphql-upload-${randomUUID()}`);
    paths.push(file);
    open.add(stream);
    files.push(
      (async () => {
        let truncated = false;
        stream.once('limit', () => (truncated = true));
        await pipeline(stream, createWriteStream(file, { flags: 'wx', mode: 0o600 })).finally(() => open.delete(stream));
        if (truncated) throw tooLarge(`the file is over ${options.maxFileBytes} bytes (UPLOAD_MAX_BYTES)`);
        const upload = new StagedUpload(fileName, mimeType, (await stat(file)).size, file);
        for (const key of keys) setVariable(operations!, key, upload);
      })().catch(fail),
    );
  });
  busboy.on('partsLimit', () => fail(badRequest('one file per request')));
  busboy.on('filesLimit', () => fail(badRequest('one file per request')));
  busboy.on('fieldsLimit', () => fail(badRequest('only the "operations" and "map" fields')));

  await new Promise<void>((resolve) => {
    const cutOff = () => {
      fail(badRequest('the request was cut off before its end'));
      for (const stream of open) stream.destroy(new Error('the request was cut off'));
      resolve();
    };
    busboy.once('finish', resolve);
    busboy.once('error', (error: unknown) => (fail(badRequest(`the multipart body is malformed: ${(error as Error).message}`)), resolve()));
    body.once('error', cutOff);
    body.once('close', () => body.readableEnded || cutOff());
    body.pipe(busboy);
  });
  await Promise.all(files);
  if (failure) throw failure;
  if (!operations) throw badRequest('the "operations" field is missing');
  return operations as GraphQLParams;
}

function parseOperations(value: string, fail: (error: unknown) => void): Record<string, unknown> | null {
  const parsed = parseJson(value);
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  fail(badRequest('"operations" must be one JSON object (batches are not accepted)'));
  return null;
}

function parseMap(value: string, fail: (error: unknown) => void): Record<string, string[]> | null {
  const parsed = parseJson(value);
  const valid =
    parsed &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((keys) => Array.isArray(keys) && keys.every((key) => typeof key === 'string'));
  if (valid) return parsed as Record<string, string[]>;
  fail(badRequest('"map" must be a JSON object of field names to lists of variable paths'));
  return null;
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/**
 * Puts the file at a path such as `variables.input.file` in the operations. Only paths under
 * `variables` through existing objects: a hostile path cannot reach a prototype.
 */
function setVariable(operations: Record<string, unknown>, key: string, value: unknown) {
  const [root, ...steps] = key.split('.');
  const last = steps.pop();
  let target: unknown = root === 'variables' ? operations.variables : undefined;
  for (const step of steps) {
    target = isPlainObject(target) && Object.hasOwn(target, step) ? target[step] : undefined;
  }
  if (!isPlainObject(target) || last === undefined || !Object.hasOwn(target, last) || target[last] !== null) {
    throw badRequest(`the map names "${key}", which is not a null variable of the operation`);
  }
  target[last] = value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badRequest(message: string) {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

function tooLarge(message: string) {
  return new GraphQLError(message, { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
}
