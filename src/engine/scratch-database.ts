// Throwaway databases of the target's kind, for bringing an older backup forward and
// for verifying a backup without touching the target. A PostgreSQL one carries its instance's
// name as its comment, so the ones a killed instance left are dropped at a later start.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { withDatabase, type DatabaseLocation } from '../prisma/database-url.ts';
import { instanceGone, isInstanceId } from '../util/instance-id.ts';

const SCRATCH_PREFIX = 'bcp_scratch_';

export interface ScratchDatabase {
  location: DatabaseLocation;
  drop(): Promise<void>;
}

export async function createScratchDatabase(like: DatabaseLocation, scratchDir: string): Promise<ScratchDatabase> {
  const name = `${SCRATCH_PREFIX}${randomBytes(6).toString('hex')}`;
  if (like.provider === 'sqlite') {
    const filePath = path.join(scratchDir, `${name}.db`);
    return {
      location: { provider: 'sqlite', url: `file:${filePath}`, filePath },
      drop: async () => {
        for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${filePath}${suffix}`, { force: true });
      },
    };
  }
  // CREATE DATABASE cannot run in a transaction: a plain connection to the target's server.
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: like.connectionString });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  // The scratch folder is named after the instance (storage/scratch-folders.ts).
  const owner = path.basename(scratchDir);
  if (isInstanceId(owner)) await admin(`COMMENT ON DATABASE "${name}" IS '${owner.replace(/'/g, "''")}'`);
  return {
    location: { ...withDatabase(like, name), schema: 'public' },
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/**
 * Drops the PostgreSQL scratch databases whose instance is surely gone (util/instance-id.ts:
 * of this host, its process dead); those of live or unknown instances stay. Returns their names.
 */
export async function removeAbandonedScratchDatabases(like: DatabaseLocation): Promise<string[]> {
  if (like.provider !== 'postgresql') return [];
  const client = new pg.Client({ connectionString: like.connectionString });
  await client.connect();
  try {
    const found = await client.query<{ name: string; owner: string | null }>(
      `SELECT datname AS name, shobj_description(oid, 'pg_database') AS owner FROM pg_database WHERE starts_with(datname, $1)`,
      [SCRATCH_PREFIX],
    );
    const dropped: string[] = [];
    for (const { name, owner } of found.rows) {
      if (!/^bcp_scratch_[0-9a-f]{12}$/.test(name) || !owner || instanceGone(owner) !== true) continue;
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      dropped.push(name);
    }
    return dropped;
  } finally {
    await client.end();
  }
}
