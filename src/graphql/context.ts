// What every resolver receives: the plain services, nothing of HTTP.
import type { BackupService } from '../modules/backups/service.ts';
import type { RestoreService } from '../modules/restores/service.ts';
import type { SettingsService } from '../modules/schedule/settings-service.ts';
import type { Scheduler } from '../modules/schedule/scheduler.ts';
import type { SystemService } from '../modules/system/service.ts';

export interface Services {
  backups: BackupService;
  restores: RestoreService;
  system: SystemService;
  settings: SettingsService;
  scheduler: Scheduler;
}

export interface Context {
  services: Services;
}
