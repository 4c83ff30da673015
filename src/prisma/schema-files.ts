// Reads a Prisma schema given as one file or as a folder of `.prisma` files.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface SchemaFile {
  path: string;
  content: string;
}

export async function readSchemaFiles(schemaPath: string): Promise<SchemaFile[]> {
  const info = await stat(schemaPath);
  if (info.isFile()) return [{ path: schemaPath, content: await readFile(schemaPath, 'utf8') }];
  const names = (await readdir(schemaPath, { recursive: true }))
    .filter((name) => name.endsWith('.prisma'))
    .sort();
  if (names.length === 0) throw new Error(`no .prisma files in ${schemaPath}`);
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(schemaPath, name);
      return { path: file, content: await readFile(file, 'utf8') };
    }),
  );
}
