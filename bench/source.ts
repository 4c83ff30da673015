// A case's source: a freshly seeded example library in a SQLite file or a new PostgreSQL
// database, with the environment the product's children and the seed run in.
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { EXAMPLE_APP_DIR } from '../src/core/config.ts';
import type { Provider } from '../src/prisma/database-url.ts';
import { createPgDatabase, createSqliteFile, pgUrl } from './databases.ts';
import { runChild } from './processes.ts';
import { productEnv } from './product.ts';

export interface Source {
  provider: Provider;
  /** Environment for the product's children and the seed. */
  env: NodeJS.ProcessEnv;
  /** The SQLite file, or the PostgreSQL database name. */
  where: string;
  work: string;
}

export async function prepareSource(provider: Provider, items: number, work: string): Promise<{ source: Source; seedMs: number }> {
  const dataDir = path.join(work, 'data');
  const exampleDir = path.join(dataDir, 'example');
  await mkdir(exampleDir, { recursive: true });
  // The example's config.toml and secrets/: the target files every backup carries.
  await cp(path.join(EXAMPLE_APP_DIR, 'template'), exampleDir, { recursive: true });
  let where: string;
  let url: string;
  if (provider === 'sqlite') {
    where = path.join(exampleDir, 'media-library.db');
    createSqliteFile(where);
    url = `file:${where}`;
  } else {
    where = (await createPgDatabase()).name;
    url = pgUrl(where);
  }
  const env = productEnv(dataDir, url);
  console.log(`\n== ${provider}, ${items.toLocaleString('en-US')} items: seeding`);
  const started = performance.now();
  await runChild(`npm run seed -- --items ${items}`, 'npm', ['run', '--silent', 'seed', '--', '--items', String(items)], {
    env,
    showOutput: true,
  });
  return { source: { provider, env, where, work }, seedMs: performance.now() - started };
}
