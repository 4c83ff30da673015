// A restore into a target database that is not there yet: a missing SQLite file, or a database
// with no tables (target/database-state.ts). The backup's own schema is made first, as a scratch
// database's is (forward-migration.ts); a restore that fails leaves the target as it found it.
import { chmod, chown, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { logUnexpectedError } from '../core/error-log.ts';
import type { Manifest } from '../archive/manifest.ts';
import { createAdapterFactory } from '../prisma/adapters.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { quoteIdentifier } from '../prisma/sql.ts';
import type { TableSpec } from '../target/target-schema.ts';
import { createBackupSchema, type ScratchRestoreRequest } from './forward-migration.ts';
import { stagingPathFor } from './target-file-leftovers.ts';

/** What SQLite keeps beside a database file while it writes. */
const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'];

export interface FreshTargetRequest {
  manifest: Manifest;
  target: ScratchRestoreRequest['target'];
}

/** Loads the backup's rows into `location`, whose schema is made, into `tables`; returns once they are committed. */
export type FreshLoad = (location: DatabaseLocation, tables: TableSpec[]) => Promise<void>;

/**
 * Makes the backup's schema in the fresh target, then runs `load`. SQLite: the database is
 * built beside its destination (`<file>.restoring-<hex>`) and renamed into place once `load`
 * returns. PostgreSQL: the schema is made in the database itself, and dropped again if `load`
 * throws. Either way the target's migrations are the backup's: newer ones stay pending.
 */
export async function restoreIntoFreshTarget(request: FreshTargetRequest, load: FreshLoad): Promise<void> {
  const { location } = request.target;
  if (location.provider === 'sqlite') await buildBeside(location.filePath, request, load);
  else await buildInPlace(location, request, load);
}

async function makeSchema(location: DatabaseLocation, request: FreshTargetRequest): Promise<TableSpec[]> {
  const handle = createAdapterFactory(location);
  try {
    return await createBackupSchema(handle.factory, request.manifest, request.target);
  } finally {
    await handle.close();
  }
}

async function buildBeside(destination: string, request: FreshTargetRequest, load: FreshLoad): Promise<void> {
  const folder = path.dirname(destination);
  await mkdir(folder, { recursive: true });
  // What a killed restore left: the caller holds the restore lease, so no other restore's.
  const leftover = new RegExp(`^${escapeRegExp(path.basename(destination))}\\.restoring-[0-9a-f]{8}(-wal|-shm|-journal)?$`);
  for (const name of await readdir(folder)) if (leftover.test(name)) await rm(path.join(folder, name), { force: true });
  // An empty file that was there keeps its mode and, where this process may give it, its owner.
  const previous = await stat(destination).catch(() => null);
  const staging = stagingPathFor(destination);
  const built: DatabaseLocation = { provider: 'sqlite', url: `file:${staging}`, filePath: staging };
  try {
    await load(built, await makeSchema(built, request));
    if (previous) {
      await chmod(staging, previous.mode & 0o7777);
      await chown(staging, previous.uid, previous.gid).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPERM') throw error;
      });
    }
    await syncPath(staging);
    // The journals of an empty file that was there would be read with the new one: they go first.
    for (const suffix of SQLITE_SIDE_FILES) await rm(`${destination}${suffix}`, { force: true });
    await rename(staging, destination);
    await syncPath(folder);
  } catch (error) {
    for (const suffix of ['', ...SQLITE_SIDE_FILES]) await rm(`${staging}${suffix}`, { force: true });
    throw error;
  }
}

async function buildInPlace(location: DatabaseLocation & { provider: 'postgresql' }, request: FreshTargetRequest, load: FreshLoad) {
  const before = await withClient(location, async (client) => {
    // A `?schema=` not made yet; asked first, as CREATE needs a right on the database even when it exists.
    const found = await client.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [location.schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdentifier(location.schema)}`);
    return schemaObjects(client, location.schema);
  });
  try {
    await load(location, await makeSchema(location, request));
  } catch (error) {
    await withClient(location, (client) => dropObjectsSince(client, location.schema, before)).catch((cleanup: unknown) => {
      logUnexpectedError(`dropping what a failed restore made in ${location.database} (schema ${location.schema})`, cleanup);
    });
    throw error;
  }
}

/** Drops what was made in the schema since `before` was listed: views and tables first (their keys and sequences go with them). */
async function dropObjectsSince(client: pg.Client, schema: string, before: Map<string, SchemaObject>): Promise<void> {
  const made = [...(await schemaObjects(client, schema))].filter(([key]) => !before.has(key)).map(([, object]) => object);
  made.sort((a, b) => DROP_ORDER.indexOf(a.kind) - DROP_ORDER.indexOf(b.kind));
  for (const { kind, name } of made) await client.query(`DROP ${kind} IF EXISTS ${name} CASCADE`);
}

const DROP_ORDER = ['MATERIALIZED VIEW', 'VIEW', 'TABLE', 'SEQUENCE', 'ROUTINE', 'DOMAIN', 'TYPE'];

interface SchemaObject {
  /** What DROP takes: TABLE, VIEW, TYPE, ROUTINE... */
  kind: string;
  /** Qualified and quoted; a routine with its argument types. */
  name: string;
}

/** Each object of the schema a migration can make, by `KIND name`; the members of extensions left out. */
async function schemaObjects(client: pg.Client, schema: string): Promise<Map<string, SchemaObject>> {
  const notExtension = (oid: string) => `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.objid = ${oid} AND d.deptype = 'e')`;
  const { rows } = await client.query<SchemaObject>(
    `SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
            format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND ${notExtension('c.oid')}
     UNION ALL
     SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, format('%I.%I', n.nspname, t.typname)
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 AND t.typtype IN ('e', 'r', 'd', 'c') AND ${notExtension('t.oid')}
        AND (t.typrelid = 0 OR (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c')
     UNION ALL
     SELECT 'ROUTINE', format('%I.%I', n.nspname, p.proname) || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND ${notExtension('p.oid')}`,
    [schema],
  );
  return new Map(rows.map((object) => [`${object.kind} ${object.name}`, object]));
}

async function withClient<T>(location: DatabaseLocation & { provider: 'postgresql' }, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: location.connectionString });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** fsync of a file or a folder (a rename is durable once its folder is). */
async function syncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
