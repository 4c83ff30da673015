// The control database at open: one an older version left gets the migrations it lacks (the
// check that skips the schema engine when none is missing must not skip those), on both providers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openControlDatabase } from '../../src/control/control-db.ts';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { createAdapterFactory } from '../../src/prisma/adapters.ts';
import { parseDatabaseUrl, type DatabaseLocation } from '../../src/prisma/database-url.ts';
import { listMigrationNames } from '../../src/prisma/migrations-folder.ts';
import { applyMigrations } from '../../src/prisma/schema-engine.ts';
import { readSchemaFiles } from '../../src/prisma/schema-files.ts';
import { listAppliedMigrations } from '../../src/target/applied-migrations.ts';
import { createScratchDatabase } from '../helpers/postgres.ts';

/** Migrates `location` as the version before the newest migration did. */
async function migrateAsTheVersionBefore(location: DatabaseLocation): Promise<string[]> {
  const schemaDir = path.join(PROJECT_ROOT, 'prisma', location.provider);
  const names = await listMigrationNames(path.join(schemaDir, 'migrations'));
  const handle = createAdapterFactory(location);
  try {
    const schema = await readSchemaFiles(path.join(schemaDir, 'schema.prisma'));
    await applyMigrations(schema, path.join(schemaDir, 'migrations'), handle.factory, { only: names.slice(0, -1) });
  } finally {
    await handle.close();
  }
  return names;
}

async function opensUpToDate(location: DatabaseLocation): Promise<void> {
  const names = await migrateAsTheVersionBefore(location);
  assert.deepEqual(await listAppliedMigrations(location), names.slice(0, -1), 'the older version left one out');
  for (let open = 0; open < 2; open++) {
    const control = await openControlDatabase(location);
    try {
      assert.deepEqual(await listAppliedMigrations(location), names, 'every migration applied');
      // What the newest migrations made is there: the client reads it.
      assert.equal(await control.client.restoreLease.count({ where: { settling: true } }), 0);
      assert.equal(await control.client.loginFailure.count(), 0);
    } finally {
      await control.close();
    }
  }
}

test('SQLite: a control database an older version left gets the newest migration at open', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-control-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await opensUpToDate(parseDatabaseUrl(`file:${path.join(dir, 'control.db')}`));
});

test('PostgreSQL: a control database an older version left gets the newest migration at open', async (t) => {
  const database = await createScratchDatabase('bcp_control_upgrade');
  t.after(() => database.drop());
  await opensUpToDate(parseDatabaseUrl(database.url));
});
