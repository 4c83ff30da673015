// What every command works with: the configuration read from the environment as the server
// reads it, the same start-up checks (no port, the target left as it is), and the services the
// server uses, so a restore here takes the same lease in the control database.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { looksLikeArchive } from '../archive/archive-name.ts';
import { openBackupServices, type BackupServices } from '../backup-services.ts';
import { loadSecretKey } from '../control/secret-box.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { setLogLevel } from '../core/logger.ts';
import { openEventBus } from '../events/event-bus.ts';
import { AuditLog } from '../modules/access/audit-log.ts';
import type { BackupTopics } from '../modules/backups/backup-jobs.ts';
import type { JobTopics } from '../modules/job-signals.ts';
import { WebhookService } from '../modules/notifications/webhook-service.ts';
import { OperationLog } from '../modules/operation-log.ts';
import type { RestoreTopics } from '../modules/restores/restore-progress.ts';
import { prepareCommandLine } from '../startup.ts';
import type { Target } from '../target/target.ts';
import { UsageError } from './exit-codes.ts';
import { ExternalArchiveStore } from './external-archive-store.ts';

/** How long the tool waits, before it exits, for its notifications to be delivered (retries included). */
const NOTIFY_GRACE_MS = 30_000;

export interface CommandContext {
  config: Config;
  target: Target;
  services: BackupServices;
  /** The backup the command's ARCHIVE names: a file name in the backup folder, or that of a file given by its path. */
  archiveId: string | null;
  close(): Promise<void>;
}

/**
 * Opens the control plane without its server. `archive`: a name in the backup folder, or the
 * path of an archive anywhere else, which is read in place.
 */
export async function openCommandContext(archive?: string): Promise<CommandContext> {
  const config = loadConfig();
  // The server's log lines (on stderr here) only when LOG_LEVEL asks: the tool says what happened itself.
  setLogLevel(process.env.LOG_LEVEL?.trim() ? config.logLevel : 'silent');
  const external = archive === undefined ? null : await archivePath(archive);
  const { control, target } = await prepareCommandLine(config);
  // In process: the restore started here is followed here.
  const bus = await openEventBus<RestoreTopics & BackupTopics & JobTopics>(null);
  // The server's webhooks hear of the backups and restores done here too: a backup run by
  // cron through this tool fails as loudly as a scheduled one.
  const operations = new OperationLog();
  const webhooks = new WebhookService({
    control: control.client,
    secretKey: () => loadSecretKey(config.dataDir),
    audit: new AuditLog(control.client),
    retryDelaysMs: config.webhookRetryDelaysMs,
  });
  operations.onFinished((record) => webhooks.notify(record));
  let overlay: ExternalArchiveStore | null = null;
  let services: BackupServices;
  try {
    services = await openBackupServices(config, {
      control,
      target,
      events: bus.events,
      archives: external ? (folder) => (overlay = new ExternalArchiveStore(folder, external)) : undefined,
      operations,
    });
  } catch (error) {
    await control.close();
    throw error;
  }
  const close = async () => {
    await webhooks.drain(NOTIFY_GRACE_MS);
    services.settings.close();
    await services.restores.stop();
    await services.signals.stop();
    await control.close();
    await bus.close();
    services.scratch.close();
  };
  try {
    await (overlay as ExternalArchiveStore | null)?.checkNoTwin();
  } catch (error) {
    await close();
    throw error;
  }
  const archiveId = external ? path.basename(external) : (archive ?? null);
  return { config, target, services, archiveId, close };
}

/** The absolute path when ARCHIVE is a file; null when it is a name to look for in the backup folder. */
async function archivePath(archive: string): Promise<string | null> {
  const info = await stat(archive).catch(() => null);
  if (!info?.isFile()) {
    if (archive.includes('/') || archive.includes(path.sep)) throw new UsageError(`${archive}: no such file`);
    return null;
  }
  if (!looksLikeArchive(path.basename(archive))) {
    throw new UsageError(`${archive}: not a backup archive (its name ends in .tar.gz, or .tar.gz.enc when encrypted)`);
  }
  return path.resolve(archive);
}
