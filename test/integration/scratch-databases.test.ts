// PostgreSQL scratch databases (verify, forward migration) that a killed instance left are
// dropped at the next start, and only those: a live or unknown instance's stay.
import assert from 'node:assert/strict';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { adminQuery, POSTGRES_ADMIN_URL, withPg } from '../helpers/postgres.ts';
import { startServer } from '../helpers/server.ts';

const names = {
  dead: `bcp_scratch_${randomBytes(6).toString('hex')}`,
  elsewhere: `bcp_scratch_${randomBytes(6).toString('hex')}`,
  unowned: `bcp_scratch_${randomBytes(6).toString('hex')}`,
};

after(async () => {
  for (const name of Object.values(names)) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

async function scratchDatabases(): Promise<string[]> {
  return withPg(POSTGRES_ADMIN_URL, async (client) => {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE starts_with(datname, 'bcp_scratch_')`);
    return rows.map((row) => row.datname);
  });
}

test("start-up drops the scratch databases of this host's dead instances, and no other", async () => {
  // A pid above Linux's largest (2^22) is never a live process.
  await adminQuery(`CREATE DATABASE "${names.dead}"`);
  await adminQuery(`COMMENT ON DATABASE "${names.dead}" IS '${os.hostname()}~4194305~deadbeef'`);
  await adminQuery(`CREATE DATABASE "${names.elsewhere}"`);
  await adminQuery(`COMMENT ON DATABASE "${names.elsewhere}" IS 'another-host~1~cafe'`);
  await adminQuery(`CREATE DATABASE "${names.unowned}"`);
  const server = await startServer({ provider: 'postgresql' });
  try {
    const left = await scratchDatabases();
    assert.ok(!left.includes(names.dead), 'the dead instance’s database is dropped');
    assert.ok(left.includes(names.elsewhere), 'another host’s stays');
    assert.ok(left.includes(names.unowned), 'one without an owner stays');
  } finally {
    await server.close();
  }
});
