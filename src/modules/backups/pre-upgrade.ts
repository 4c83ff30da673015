// Before TARGET_MIGRATE=deploy migrates the app's database: a `pre-upgrade` backup of it as it is.
// The schema file already describes the next version, so the database is read with the tables of
// the newest backup taken at its own schema version: an archive's manifest records every column.
import { readManifest } from '../../archive/archive-reader.ts';
import type { Manifest } from '../../archive/manifest.ts';
import { ConfigError } from '../../core/config.ts';
import { manifestTables } from '../../engine/restore.ts';
import { listAppliedMigrations } from '../../target/applied-migrations.ts';
import { missingColumns } from '../../target/missing-columns.ts';
import type { Target } from '../../target/target.ts';
import type { Backup } from './catalog.ts';
import type { BackupService } from './service.ts';

export interface PreUpgradeDeps {
  backups: BackupService;
  target: Target;
  /** The saved passphrase: it encrypts the backup, and opens encrypted backups to find the tables. */
  passphrase: () => Promise<string | null>;
}

/**
 * Takes the backup and returns it; null when the database has no migration applied (nothing
 * of an older version to keep). A ConfigError naming TARGET_MIGRATE when no backup tells how
 * the database's tables look at its version: then nothing is migrated.
 */
export async function backUpBeforeUpgrade(deps: PreUpgradeDeps, pending: string[]): Promise<Backup | null> {
  const version = (await listAppliedMigrations(deps.target.location)).at(-1);
  if (!version) return null;
  const passphrase = await deps.passphrase();
  const reference = await manifestAt(deps, version, passphrase);
  if (!reference) {
    throw new ConfigError(
      'TARGET_MIGRATE',
      `deploy backs the database up before migrating it, reading it with the tables of a backup taken at its schema version ${version}, ` +
        'and the backup folder holds none: take one with the app at that version (npx backup-control-plane backup), then start again',
    );
  }
  // Media tables a config-only reference left out are read with the schema's columns when the
  // database has every one of them (a migration that changes them is then caught by its reference).
  const schemaTables = deps.target.schema.tables;
  const leftOut = schemaTables.filter((table) => reference.excludedTables.includes(table.name));
  const readable = leftOut.length > 0 && (await missingColumns(deps.target.location, leftOut)).length === 0;
  const tables = [...manifestTables(reference, schemaTables), ...leftOut];
  const { backup } = await deps.backups.createWithManifest({
    kind: 'pre-upgrade',
    includeMedia: reference.includesMedia || readable,
    trigger: 'upgrade',
    note: `before applying ${pending.join(', ')}`,
    passphrase,
    tables,
  });
  return backup;
}

/** The newest backup's manifest at `version` from this kind of database, one with the media tables first. */
async function manifestAt(deps: PreUpgradeDeps, version: string, passphrase: string | null): Promise<Manifest | null> {
  const { provider } = deps.target.location;
  let configOnly: Manifest | null = null;
  for (const backup of await deps.backups.list()) {
    const manifest = await openManifest(deps, backup, version, passphrase);
    if (!manifest || manifest.schemaVersion !== version || manifest.provider !== provider) continue;
    if (manifest.includesMedia) return manifest;
    configOnly ??= manifest;
  }
  return configOnly;
}

/** A backup's manifest: a plain one's as listed, an encrypted one's opened with the saved passphrase; null otherwise. */
async function openManifest(deps: PreUpgradeDeps, backup: Backup, version: string, passphrase: string | null): Promise<Manifest | null> {
  if (backup.manifest) return backup.manifest;
  if (!backup.encrypted || !passphrase || (backup.summary && backup.summary.schemaVersion !== version)) return null;
  try {
    return await readManifest((await deps.backups.access(backup, passphrase)).open());
  } catch {
    return null; // another passphrase, or a damaged file: not one to learn from
  }
}
