// What every resolver receives: the plain services, who is asking, and nothing else of HTTP.
import type { AccessService } from '../modules/access/access-service.ts';
import type { AuditLog } from '../modules/access/audit-log.ts';
import type { Authentication } from '../modules/access/principal.ts';
import type { BackupJobs } from '../modules/backups/backup-jobs.ts';
import type { BackupService } from '../modules/backups/service.ts';
import type { WebhookService } from '../modules/notifications/webhook-service.ts';
import type { JobCancellation } from '../modules/jobs/job-cancellation.ts';
import type { JobHistory } from '../modules/jobs/job-history.ts';
import type { RestoreService } from '../modules/restores/service.ts';
import type { SettingsService } from '../modules/schedule/settings-service.ts';
import type { Scheduler } from '../modules/schedule/scheduler.ts';
import type { SystemService } from '../modules/system/service.ts';

export interface Services {
  backups: BackupService;
  backupJobs: BackupJobs;
  jobs: JobHistory;
  cancellation: JobCancellation;
  restores: RestoreService;
  system: SystemService;
  settings: SettingsService;
  scheduler: Scheduler;
  access: AccessService;
  audit: AuditLog;
  webhooks: WebhookService;
}

/** Sets or clears the browser's session cookie; over a websocket there is no cookie to set. */
export interface SessionCookie {
  set(token: string, expiresAt: Date): void;
  clear(): void;
}

export interface Context {
  services: Services;
  auth: Authentication;
  /** The client's address (after TRUST_PROXY), for throttling and the audit log. */
  address: string | null;
  sessionCookie: SessionCookie;
}
