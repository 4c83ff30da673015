// Reads a Prisma schema given as one file or as a folder of `.prisma` files, as Prisma 7's
// parser and schema engine take it: every reader of a schema goes through here.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { cleanSchemaText } from './schema-text.ts';

export interface SchemaFile {
  path: string;
  content: string;
}

/** The files with what Prisma 7 refuses from a Prisma 5 or 6 schema blanked out (cleanSchemaText). */
export async function readSchemaFiles(schemaPath: string): Promise<SchemaFile[]> {
  const info = await stat(schemaPath);
  const read = async (file: string) => ({ path: file, content: cleanSchemaText(await readFile(file, 'utf8')) });
  if (info.isFile()) return [await read(schemaPath)];
  const names = (await readdir(schemaPath, { recursive: true }))
    .filter((name) => name.endsWith('.prisma'))
    .sort();
  if (names.length === 0) throw new Error(`no .prisma files in ${schemaPath}`);
  return Promise.all(names.map((name) => read(path.join(schemaPath, name))));
}
