// What the control plane runs against: versions, provider and where backups go.
import type { BackupStore } from '../../storage/backup-store.ts';
import type { Target } from '../../target/target.ts';
import { listAppliedMigrations } from '../../target/applied-migrations.ts';
import { databaseState, type DatabaseState } from '../../target/database-state.ts';

export interface SystemInfo {
  appVersion: string;
  targetName: string;
  /** Whether the target database is there: `missing` and `empty` wait for a restore, which creates it. */
  targetDatabase: DatabaseState;
  /** The newest migration applied to the target database. */
  schemaVersion: string | null;
  /** Migrations in the target's folder that its database has not applied (the app applies its own). */
  pendingMigrations: string[];
  databaseProvider: string;
  controlDatabaseProvider: string;
  backupDir: string;
  freeBytes: number;
  tables: { name: string; media: boolean }[];
}

export class SystemService {
  constructor(private readonly deps: { target: Target; store: BackupStore; appVersion: string; controlProvider: string }) {}

  async info(): Promise<SystemInfo> {
    const [targetDatabase, applied] = await Promise.all([
      databaseState(this.deps.target.location),
      listAppliedMigrations(this.deps.target.location),
    ]);
    return {
      appVersion: this.deps.appVersion,
      targetName: this.deps.target.name,
      targetDatabase,
      schemaVersion: applied.at(-1) ?? null,
      pendingMigrations:
        this.deps.target.migrationsDir === null ? [] : this.deps.target.knownMigrations.filter((name) => !applied.includes(name)),
      databaseProvider: this.deps.target.schema.provider,
      controlDatabaseProvider: this.deps.controlProvider,
      backupDir: this.deps.store.location,
      freeBytes: await this.deps.store.freeBytes(),
      tables: this.deps.target.schema.tables.map((t) => ({ name: t.name, media: t.media })),
    };
  }
}
