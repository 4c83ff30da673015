// Parses a Prisma schema with Prisma's own WebAssembly parser, so models, columns and
// relations come from the schema exactly as Prisma understands it.
import { createRequire } from 'node:module';
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

const schemaWasm = createRequire(import.meta.url)('@prisma/prisma-schema-wasm') as {
  get_dmmf(params: string): string;
};

export class SchemaParseError extends Error {}

export function parseDatamodel(files: SchemaFile[]): Datamodel {
  let raw: string;
  try {
    raw = schemaWasm.get_dmmf(
      JSON.stringify({ prismaSchema: files.map((file) => [file.path, file.content]), noColorErrors: true }),
    );
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    let message = text;
    try {
      message = (JSON.parse(text) as { message: string }).message;
    } catch {
      // not JSON: keep the engine's text
    }
    throw new SchemaParseError(message.replace(/\u001b\[[0-9;]*m/g, ''));
  }
  return (JSON.parse(raw) as { datamodel: Datamodel }).datamodel;
}
