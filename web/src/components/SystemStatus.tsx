// The app being backed up, at a glance: its name and versions, its database, the backup folder
// and the room left there.
import type { ConsoleSystemQuery } from '../generated/graphql.ts';
import { formatBytes } from '../lib/format.ts';

export function SystemStatus({ system }: { system: ConsoleSystemQuery['system'] }) {
  return (
    <section class="status" aria-label="System status">
      <dl class="inline-facts">
        <div>
          <dt>App</dt>
          <dd>{system.targetName}</dd>
        </div>
        <div>
          <dt>Version</dt>
          <dd>{system.appVersion}</dd>
        </div>
        <div>
          <dt>Schema</dt>
          <dd class="schema">{system.schemaVersion ?? 'none'}</dd>
        </div>
        <div>
          <dt>Database</dt>
          <dd>
            {system.databaseProvider}
            {system.targetDatabase !== 'PRESENT' && ` (${system.targetDatabase.toLowerCase()})`}
          </dd>
        </div>
        <div>
          <dt>Backup folder</dt>
          <dd>
            <span class="file-name">{system.backupDir}</span>, {formatBytes(system.freeBytes)} free
          </dd>
        </div>
      </dl>
      {system.pendingMigrations.length > 0 && (
        <p class="alert warning">
          The app's database has {system.pendingMigrations.length} migration(s) not applied yet: {system.pendingMigrations.join(', ')}.
        </p>
      )}
    </section>
  );
}
