// The services that back up and restore the target, wired from the configuration: the server
// (app.ts) and the command-line tool (cli/) build them here alike, so both use the same backup
// folder, settings and restore lease.
import { ConfigError, type Config } from './core/config.ts';
import { APP_VERSION } from './core/version.ts';
import type { ControlDatabase } from './control/control-db.ts';
import { loadSecretKey } from './control/secret-box.ts';
import { removeAbandonedScratchDatabases } from './engine/scratch-database.ts';
import { removeTargetFileLeftovers } from './engine/target-file-leftovers.ts';
import { log } from './core/logger.ts';
import { BackupCatalog } from './modules/backups/catalog.ts';
import { BackupJobs, type BackupEvents } from './modules/backups/backup-jobs.ts';
import { BackupService } from './modules/backups/service.ts';
import { JobSignals, type JobEvents } from './modules/job-signals.ts';
import { OperationLog } from './modules/operation-log.ts';
import { RestoreGate } from './modules/restore-gate.ts';
import { RestoreLease } from './modules/restore-lease.ts';
import type { RestoreEvents } from './modules/restores/restore-progress.ts';
import { RestoreService } from './modules/restores/service.ts';
import { SettingsService } from './modules/schedule/settings-service.ts';
import type { BackupStore } from './storage/backup-store.ts';
import { openScratchFolder, type ScratchFolder } from './storage/scratch-folders.ts';
import { SwitchableFolderStore } from './storage/switchable-store.ts';
import type { Target } from './target/target.ts';

export interface BackupServices {
  /** The backup folder, following the setting unless BACKUP_DIR fixes it. */
  store: SwitchableFolderStore;
  settings: SettingsService;
  restoreGate: RestoreGate;
  backups: BackupService;
  restores: RestoreService;
  /** This instance's scratch folder; closed last. */
  scratch: ScratchFolder;
  /** The jobs running here and the cancels for them; stopped with the rest. */
  signals: JobSignals;
  backupJobs: BackupJobs;
}

export async function openBackupServices(
  config: Config,
  deps: {
    control: ControlDatabase;
    target: Target;
    /** Progress and cancels: in process, or through Redis to every instance. */
    events: RestoreEvents & BackupEvents & JobEvents;
    /** The store backups and restores read archives from, around the folder's (the tool adds an archive named by its path). */
    archives?: (folder: BackupStore) => BackupStore;
    /** Where backups, restores and settings changes are recorded as they end (the server adds metrics and webhooks). */
    operations?: OperationLog;
  },
): Promise<BackupServices> {
  const { control, target } = deps;
  const operations = deps.operations ?? new OperationLog();
  // This instance's own scratch folder; those of instances that are gone are removed.
  const scratch = await openScratchFolder(config.scratchDir, config.instanceId);
  // So are the PostgreSQL scratch databases of instances that are gone (a verify killed midway).
  await removeAbandonedScratchDatabases(config.target.location).catch((error: unknown) => {
    log.warn({ err: error }, `scratch databases of stopped instances could not be removed: ${(error as Error).message}`);
  });
  // The backup folder is a setting (unless BACKUP_DIR fixes it): the store follows it.
  const store = new SwitchableFolderStore(config.backupDir);
  await store.removeLeftovers();
  const settings = new SettingsService({
    control: control.client,
    store,
    defaultBackupDir: config.backupDir,
    backupDirFixed: config.backupDirFixed,
    secretKey: () => loadSecretKey(config.dataDir),
    operations,
  });
  await settings.init();
  const archives = deps.archives?.(store) ?? store;
  const catalog = new BackupCatalog(archives);
  const lease = new RestoreLease({ control: control.client, instance: config.instanceId });
  // A killed restore's copies of the target's files go, unless a restore on another instance
  // holds the lease: the copies would be its, staged for its commit.
  if (!(await lease.current())) {
    await removeTargetFileLeftovers(config.target.files).catch((error: unknown) => {
      settings.close();
      throw new ConfigError(
        'TARGET_FILES',
        `holds leftovers of an interrupted restore that cannot be removed: ${(error as Error).message}`,
      );
    });
  }
  const restoreGate = new RestoreGate(lease);
  const signals = new JobSignals(deps.events);
  signals.listen();
  const backupJobs = new BackupJobs({ control: control.client, events: deps.events });
  const backups = new BackupService({
    jobs: backupJobs,
    signals,
    instance: config.instanceId,
    catalog,
    store: archives,
    target,
    control: control.client,
    scratchDir: config.scratchDir,
    appVersion: APP_VERSION,
    restoreGate,
    uploadMaxBytes: config.uploadMaxBytes,
    operations,
  });
  const restores = new RestoreService({
    backups,
    store: archives,
    target,
    control: control.client,
    gate: restoreGate,
    instance: config.instanceId,
    scratchDir: config.scratchDir,
    events: deps.events,
    savedPassphrase: () => settings.passphrase(),
    operations,
    signals,
  });
  return { store, settings, restoreGate, backups, restores, scratch, signals, backupJobs };
}
