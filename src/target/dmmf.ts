// Parses a Prisma schema with Prisma's own WebAssembly parser, so models, columns and
// relations come from the schema exactly as Prisma understands it.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SchemaFile } from '../prisma/schema-files.ts';

export interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object' | 'unsupported';
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  type: string;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
}

export interface DmmfModel {
  name: string;
  dbName: string | null;
  schema: string | null;
  documentation?: string;
  fields: DmmfField[];
  primaryKey: { name: string | null; fields: string[] } | null;
  uniqueFields: string[][];
}

export interface DmmfEnum {
  name: string;
  dbName?: string | null;
  values: { name: string; dbName: string | null }[];
}

export interface Datamodel {
  models: DmmfModel[];
  enums: DmmfEnum[];
}

export class SchemaParseError extends Error {}

/**
 * Prisma's schema parser runs in a short-lived worker thread: its WebAssembly instance's
 * memory would otherwise stay with a long-running service (and add to a backup's peak) for
 * good, and the worker's memory goes back when it exits. The worker is plain JavaScript
 * with no loader hooks, so it starts quickly. It asks for the datamodel alone: the full
 * DMMF adds the query engine's input and output types, growing with every model, which
 * raise the peak for nothing read here (docs/PERFORMANCE.md, "Measurements behind the code").
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
try {
  parentPort.postMessage({ datamodel: require(workerData.wasm).get_datamodel(workerData.params) });
} catch (error) {
  parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) });
}`;

const SCHEMA_WASM_PATH = createRequire(import.meta.url).resolve('@prisma/prisma-schema-wasm');

export async function parseDatamodel(files: SchemaFile[]): Promise<Datamodel> {
  const params = JSON.stringify({ prismaSchema: files.map((file) => [file.path, file.content]), noColorErrors: true });
  const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { wasm: SCHEMA_WASM_PATH, params } });
  let reply: { datamodel?: string; error?: string };
  try {
    [reply] = (await once(worker, 'message')) as [{ datamodel?: string; error?: string }];
  } finally {
    await worker.terminate();
  }
  if (reply.error !== undefined) throw new SchemaParseError(engineMessage(reply.error));
  return JSON.parse(reply.datamodel!) as Datamodel;
}

/** The parser reports errors as JSON with a message, coloured for a terminal. */
function engineMessage(text: string): string {
  let message = text;
  try {
    message = (JSON.parse(text) as { message: string }).message;
  } catch {
    // not JSON: keep the engine's text
  }
  // eslint-disable-next-line no-control-regex -- ANSI colour codes start with ESC
  return message.replace(/\u001b\[[0-9;]*m/g, '');
}
