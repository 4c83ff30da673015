// The backup settings (schedule, retention, folder, saved passphrase): one row in the control
// database, each wrong value a ValidationError naming its field. Listeners (the scheduler) hear
// of every change at once, and of one another instance made within SETTINGS_POLL_MS.
import { access, constants, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { passphraseProblem } from '../../archive/encryption/encrypted-archive.ts';
import { openSecret, sealSecret } from '../../control/secret-box.ts';
import type { ControlClient } from '../../control/control-db.ts';
import { ValidationError } from '../../core/errors.ts';
import { childLogger } from '../../core/logger.ts';
import type { OperationLog } from '../operation-log.ts';
import {
  cronPattern,
  cronProblem,
  FREQUENCIES,
  isTimeZone,
  MAX_DAY_OF_MONTH,
  serverTimeZone,
  TIME_OF_DAY,
  type BackupFrequency,
  type Schedule,
} from './schedule.ts';
import type { SwitchableFolderStore } from '../../storage/switchable-store.ts';

export interface BackupSettings extends Schedule {
  keep: number;
  includeMedia: boolean;
  backupDir: string;
  /** BACKUP_DIR is set: it wins over the setting. */
  backupDirFixed: boolean;
  passphraseSet: boolean;
  /** When the settings last changed: a run due before it was never missed. */
  updatedAt: Date;
}

export interface BackupSettingsInput {
  frequency?: BackupFrequency | null;
  cron?: string | null;
  timeOfDay?: string | null;
  dayOfWeek?: number | null;
  dayOfMonth?: number | null;
  timeZone?: string | null;
  keep?: number | null;
  includeMedia?: boolean | null;
  backupDir?: string | null;
  /** Write-only; "" clears the saved one. */
  passphrase?: string | null;
}

const log = childLogger('settings');

export const MAX_KEEP = 1000;
/** How often the row is read for changes made by another instance sharing the database. */
export const SETTINGS_POLL_MS = 5000;
const SETTINGS_ID = 1;

type SettingsRow = Awaited<ReturnType<ControlClient['backupSettings']['findUniqueOrThrow']>>;

export class SettingsService {
  private readonly listeners = new Set<(settings: BackupSettings) => void | Promise<void>>();
  private poll: NodeJS.Timeout | null = null;
  /** updatedAt of the settings in effect here. */
  private stamp = 0;

  constructor(
    private readonly deps: {
      control: ControlClient;
      store: SwitchableFolderStore;
      /** The folder BACKUP_DIR names, or the default under DATA_DIR. */
      defaultBackupDir: string;
      backupDirFixed: boolean;
      /** Seals the saved passphrase (see control/secret-box.ts). */
      secretKey: () => Promise<Buffer>;
      /** Each change is recorded here, with the names of the fields it set (never their values). */
      operations: Pick<OperationLog, 'track'>;
    },
  ) {}

  /** Creates the row with its defaults on first start, points the store at the chosen folder, and watches for changes. */
  async init(): Promise<BackupSettings> {
    const settings = await this.get();
    await this.followFolder(settings);
    this.stamp = settings.updatedAt.getTime();
    this.poll = setInterval(() => void this.pollChanges(), SETTINGS_POLL_MS);
    return settings;
  }

  /** Stops polling for other instances' changes. */
  close(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  /** The settings in the control database now, with their defaults filled in. */
  async get(): Promise<BackupSettings> {
    return this.describe(await this.row());
  }

  /** The saved passphrase for scheduled backups, or null. Never logged, never returned by the API. */
  async passphrase(): Promise<string | null> {
    const row = await this.row();
    return row.encryptedPassphrase ? openSecret(await this.deps.secretKey(), row.encryptedPassphrase) : null;
  }

  /** Calls `listener` with the new settings after every change; returns the way to stop. */
  onChange(listener: (settings: BackupSettings) => void | Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Checks every given field (ValidationError), stores them together, and lets them take effect. */
  update(input: BackupSettingsInput): Promise<BackupSettings> {
    const changed = Object.entries(input).flatMap(([field, value]) => (value == null ? [] : [field]));
    return this.deps.operations.track({ op: 'settings', details: { changed } }, () => this.change(input));
  }

  private async change(input: BackupSettingsInput): Promise<BackupSettings> {
    const current = await this.get();
    const data: Record<string, unknown> = {};
    const next: Schedule = { ...current };

    if (input.frequency != null) {
      if (!FREQUENCIES.includes(input.frequency))
        throw new ValidationError('frequency', `frequency must be one of ${FREQUENCIES.join(', ')}`);
      next.frequency = data.frequency = input.frequency;
    }
    if (input.cron != null) {
      next.cron = data.cron = input.cron.trim() || null;
    }
    if (input.timeOfDay != null) {
      if (!TIME_OF_DAY.test(input.timeOfDay))
        throw new ValidationError('timeOfDay', 'timeOfDay must be "HH:mm" on a 24-hour clock, e.g. "03:00"');
      next.timeOfDay = data.timeOfDay = input.timeOfDay;
    }
    if (input.dayOfWeek != null) {
      if (!Number.isInteger(input.dayOfWeek) || input.dayOfWeek < 0 || input.dayOfWeek > 6) {
        throw new ValidationError('dayOfWeek', 'dayOfWeek must be 0 (Sunday) to 6 (Saturday)');
      }
      next.dayOfWeek = data.dayOfWeek = input.dayOfWeek;
    }
    if (input.dayOfMonth != null) {
      if (!Number.isInteger(input.dayOfMonth) || input.dayOfMonth < 1 || input.dayOfMonth > MAX_DAY_OF_MONTH) {
        throw new ValidationError('dayOfMonth', `dayOfMonth must be 1 to ${MAX_DAY_OF_MONTH}, so that every month has it`);
      }
      next.dayOfMonth = data.dayOfMonth = input.dayOfMonth;
    }
    if (input.timeZone != null) {
      const zone = input.timeZone.trim();
      if (zone && !isTimeZone(zone))
        throw new ValidationError('timeZone', `${JSON.stringify(zone)} is not an IANA time zone (e.g. "Europe/Berlin")`);
      data.timeZone = zone || null;
      next.timeZone = zone || serverTimeZone();
    }
    if (input.keep != null) {
      if (!Number.isInteger(input.keep) || input.keep < 1 || input.keep > MAX_KEEP) {
        throw new ValidationError('keep', `keep must be a whole number from 1 to ${MAX_KEEP}`);
      }
      data.keep = input.keep;
    }
    if (input.includeMedia != null) data.includeMedia = input.includeMedia;

    if (next.frequency === 'CUSTOM') {
      if (!next.cron) throw new ValidationError('cron', 'a CUSTOM schedule needs a cron expression');
      const problem = cronProblem(next.cron, next.timeZone);
      if (problem) throw new ValidationError('cron', `the cron expression is not valid: ${problem}`);
    } else if (cronPattern(next) && cronProblem(cronPattern(next)!, next.timeZone)) {
      throw new ValidationError('frequency', `the schedule cannot run: ${cronProblem(cronPattern(next)!, next.timeZone)}`);
    }

    let backupDir: string | null = null;
    if (input.backupDir != null) {
      backupDir = await this.checkBackupDir(input.backupDir, current);
      data.backupDir = backupDir === this.deps.defaultBackupDir ? null : backupDir;
    }

    if (input.passphrase != null) {
      if (input.passphrase === '') data.encryptedPassphrase = null;
      else if (passphraseProblem(input.passphrase)) {
        throw new ValidationError('passphrase', passphraseProblem(input.passphrase)!);
      } else data.encryptedPassphrase = sealSecret(await this.deps.secretKey(), input.passphrase);
    }

    const row = await this.deps.control.backupSettings.update({ where: { id: SETTINGS_ID }, data });
    const settings = this.describe(row);
    await this.takeEffect(settings);
    return settings;
  }

  private async takeEffect(settings: BackupSettings): Promise<void> {
    this.stamp = settings.updatedAt.getTime();
    await this.followFolder(settings);
    for (const listener of this.listeners) await listener(settings);
  }

  /**
   * A saved folder that is unreachable now (an unmounted disk) is still the one used: backups
   * then fail there and say so in lastRun, instead of going quietly to another folder.
   */
  private async followFolder(settings: BackupSettings): Promise<void> {
    await this.deps.store.switchTo(settings.backupDir).catch((error: unknown) => {
      log.error({ err: error }, `the backup folder ${settings.backupDir} cannot be used now: ${(error as Error).message}`);
    });
  }

  private async pollChanges(): Promise<void> {
    try {
      const settings = await this.get();
      if (settings.updatedAt.getTime() !== this.stamp) await this.takeEffect(settings);
    } catch (error) {
      log.error({ err: error }, `cannot read the backup settings: ${(error as Error).message}`);
    }
  }

  private async checkBackupDir(requested: string, current: BackupSettings): Promise<string> {
    const trimmed = requested.trim();
    const folder = trimmed ? path.resolve(trimmed) : this.deps.defaultBackupDir;
    if (this.deps.backupDirFixed) {
      if (folder !== current.backupDir)
        throw new ValidationError('backupDir', `the backup folder is fixed by BACKUP_DIR (${current.backupDir})`);
      return folder;
    }
    if (trimmed && !path.isAbsolute(trimmed)) throw new ValidationError('backupDir', 'backupDir must be an absolute path');
    try {
      await mkdir(folder, { recursive: true });
      await access(folder, constants.W_OK);
    } catch (error) {
      throw new ValidationError(
        'backupDir',
        `${folder} is not a writable folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    return folder;
  }

  /** The row, created with its defaults on first use (two instances starting at once may race: one insert wins). */
  private async row(): Promise<SettingsRow> {
    const found = await this.deps.control.backupSettings.findUnique({ where: { id: SETTINGS_ID } });
    if (found) return found;
    try {
      return await this.deps.control.backupSettings.create({ data: { id: SETTINGS_ID } });
    } catch {
      return this.deps.control.backupSettings.findUniqueOrThrow({ where: { id: SETTINGS_ID } });
    }
  }

  private describe(row: SettingsRow): BackupSettings {
    return {
      frequency: (FREQUENCIES as readonly string[]).includes(row.frequency) ? (row.frequency as BackupFrequency) : 'DAILY',
      cron: row.cron,
      timeOfDay: row.timeOfDay,
      dayOfWeek: row.dayOfWeek,
      dayOfMonth: row.dayOfMonth,
      timeZone: row.timeZone ?? serverTimeZone(),
      keep: row.keep,
      includeMedia: row.includeMedia,
      backupDir: this.deps.backupDirFixed ? this.deps.defaultBackupDir : (row.backupDir ?? this.deps.defaultBackupDir),
      backupDirFixed: this.deps.backupDirFixed,
      passphraseSet: row.encryptedPassphrase !== null,
      updatedAt: row.updatedAt,
    };
  }
}
