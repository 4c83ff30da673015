// The newcomer's path: the bundled example app backed up, listed, downloaded and deleted
// through the real server, on the embedded default (SQLite) and on PostgreSQL, where the
// control plane keeps its own state in PostgreSQL too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SystemDocument } from '../generated/graphql.ts';
import { configOnlyBackupMatchesDatabase, createBackup, downloadAndDelete, fullBackupHoldsEverything } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

for (const provider of ['sqlite', 'postgresql'] as const) {
  describe(`the bundled example on ${provider}`, () => {
    let server: TestServer;

    before(async () => {
      server = await startServer({ provider, controlOnPostgres: provider === 'postgresql' });
    });

    after(async () => {
      await server.close();
    });

    test('start-up migrated and seeded the example, and the system query says so', async () => {
      const { system } = await server.gql(SystemDocument);
      assert.equal(system.databaseProvider, provider);
      assert.equal(system.controlDatabaseProvider, provider);
      // The PostgreSQL variant's second migration gave it the SQLite variant's fields.
      assert.equal(system.schemaVersion, provider === 'sqlite' ? '20261101000000_init' : '20261206002959_same_fields_as_sqlite');
      assert.ok(system.freeBytes > 0);
    });

    test('a config-only backup leaves out exactly the media tables and matches the database', async () => {
      await configOnlyBackupMatchesDatabase(server);
    });

    test('a full backup holds every table', async () => {
      await fullBackupHoldsEverything(server);
    });

    test('a backup can be downloaded byte for byte and deleted', async () => {
      const backup = await createBackup(server);
      await downloadAndDelete(server, backup.id);
    });
  });
}
