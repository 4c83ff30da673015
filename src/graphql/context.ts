// What every resolver receives: the plain services, nothing of HTTP.
import type { BackupService } from '../modules/backups/service.ts';
import type { SystemService } from '../modules/system/service.ts';

export interface Services {
  backups: BackupService;
  system: SystemService;
}

export interface Context {
  services: Services;
}
