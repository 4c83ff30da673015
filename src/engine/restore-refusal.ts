// Whether a target can take a backup: the one decision behind `Backup.restorable`, verifyBackup
// and the restore, so that each refuses what the others would, with the same message.
import type { PublicMetadata } from '../archive/encryption/envelope-header.ts';
import type { Manifest } from '../archive/manifest.ts';
import { DataModelMismatchError, NewerSchemaError } from '../core/errors.ts';
import type { DatabaseLocation } from '../prisma/database-url.ts';
import { dataModelDifferences, dataModelFingerprint, loadDifferences } from '../target/data-model.ts';
import type { TableSpec } from '../target/target-schema.ts';

/** What the decision needs of the target. */
export interface RefusalTarget {
  location: Pick<DatabaseLocation, 'provider'>;
  /** Null for an app without migrations (`prisma db push`). */
  migrationsDir: string | null;
  knownMigrations: string[];
  tables: TableSpec[];
}

/** What every backup shows, encrypted or not. */
export type BackupSchema = Pick<PublicMetadata, 'provider' | 'schemaVersion' | 'migrations' | 'dataModel'>;
/** What only the manifest shows (an encrypted backup's, once its passphrase opens it). */
export type BackupTables = Pick<Manifest, 'tables' | 'excludedTables'>;

const fingerprints = new WeakMap<TableSpec[], string>();

/**
 * The error a restore of this backup into this target gives before it changes anything, or
 * null. `tables` null (an encrypted backup still closed): what the metadata alone tells.
 * - Same kind of database, with migrations: every migration must be known; a backup at the
 *   target's version must also fit its tables (an older one is migrated forward instead).
 * - Same kind, no migrations: the data model fingerprint, with the differences.
 * - The other kind: migrations do not apply (each provider has its own folder), so the
 *   models must be the same: tables, columns, Prisma types and list-ness, nullability
 *   where the backup could hold nulls; native types aside.
 */
export function restoreRefusal(backup: BackupSchema, tables: BackupTables | null, target: RefusalTarget): NewerSchemaError | null {
  const version = backup.schemaVersion;
  if (backup.provider !== target.location.provider) {
    if (!tables) return null;
    const differences = loadDifferences(tables.tables, tables.excludedTables, target.tables, true);
    const why = `and migrations do not apply from ${backup.provider} to ${target.location.provider}`;
    return differences.length > 0 ? new DataModelMismatchError(version, differences, why) : null;
  }
  if (target.migrationsDir !== null) {
    const known = new Set(target.knownMigrations);
    const unknown = backup.migrations.filter((name) => !known.has(name));
    if (unknown.length > 0) return new NewerSchemaError(version, unknown);
    if (!tables || version !== (target.knownMigrations.at(-1) ?? null)) return null;
    const differences = loadDifferences(tables.tables, [], target.tables, false);
    return differences.length > 0 ? new DataModelMismatchError(version, differences, `though both are at migration ${version}`) : null;
  }
  let fingerprint = fingerprints.get(target.tables);
  if (fingerprint === undefined) fingerprints.set(target.tables, (fingerprint = dataModelFingerprint(target.tables)));
  const recorded = backup.dataModel?.fingerprint;
  if (recorded === fingerprint) return null;
  if (!tables) return recorded ? new DataModelMismatchError(version, ['its tables are listed inside the encrypted archive']) : null;
  const differences = dataModelDifferences(tables.tables, tables.excludedTables, target.tables);
  if (differences.length === 0 && recorded) {
    // Every table it holds matches: what differs is in the tables it knows by name only.
    const leftOut = tables.excludedTables.join(', ');
    differences.push(leftOut ? `the tables it leaves out differ (${leftOut})` : `its data model fingerprint is ${recorded}`);
  }
  return differences.length > 0 ? new DataModelMismatchError(version, differences) : null;
}
