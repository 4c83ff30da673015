// Throwaway databases of the target's kind, for bringing an older backup forward and
// for verifying a backup without touching the target.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { withDatabase, type DatabaseLocation } from '../prisma/database-url.ts';

export interface ScratchDatabase {
  location: DatabaseLocation;
  drop(): Promise<void>;
}

export async function createScratchDatabase(like: DatabaseLocation, scratchDir: string): Promise<ScratchDatabase> {
  const name = `bcp_scratch_${randomBytes(6).toString('hex')}`;
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
  return {
    location: { ...withDatabase(like, name), schema: 'public' },
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
