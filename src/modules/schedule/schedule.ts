// What a schedule setting means as a croner job: the frequencies users pick, turned into
// one cron pattern in one time zone. Pure: no database, no timers.
import { Cron } from 'croner';

export const FREQUENCIES = ['OFF', 'EVERY_6_HOURS', 'EVERY_12_HOURS', 'DAILY', 'WEEKLY', 'MONTHLY', 'CUSTOM'] as const;
export type BackupFrequency = (typeof FREQUENCIES)[number];

export interface Schedule {
  frequency: BackupFrequency;
  /** For CUSTOM: a croner pattern, 5 fields or 6 with seconds first. */
  cron: string | null;
  /** "HH:mm", 24-hour clock, in `timeZone`. */
  timeOfDay: string;
  /** 0 = Sunday, for WEEKLY. */
  dayOfWeek: number;
  /** 1 to 28, for MONTHLY (every month has it). */
  dayOfMonth: number;
  /** IANA name. */
  timeZone: string;
}

export const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;
/** Days after the 28th are missing from some months; a monthly backup must happen every month. */
export const MAX_DAY_OF_MONTH = 28;

/** The server's own time zone: the default when none is set. */
export function serverTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The cron pattern for a schedule; null when it is OFF. */
export function cronPattern(schedule: Schedule): string | null {
  const [, hh, mm] = TIME_OF_DAY.exec(schedule.timeOfDay) ?? [null, '03', '00'];
  const hour = Number(hh);
  const minute = Number(mm);
  switch (schedule.frequency) {
    case 'OFF':
      return null;
    // Every N hours, anchored on the time of day: 03:00 gives 03:00, 09:00, 15:00, 21:00.
    case 'EVERY_6_HOURS':
      return `${minute} ${hour % 6}-23/6 * * *`;
    case 'EVERY_12_HOURS':
      return `${minute} ${hour % 12}-23/12 * * *`;
    case 'DAILY':
      return `${minute} ${hour} * * *`;
    case 'WEEKLY':
      return `${minute} ${hour} * * ${schedule.dayOfWeek}`;
    case 'MONTHLY':
      return `${minute} ${hour} ${schedule.dayOfMonth} * *`;
    case 'CUSTOM':
      return schedule.cron;
  }
}

/** Why croner refuses a pattern, or null when it accepts it and it has a next run. */
export function cronProblem(pattern: string, timeZone: string): string | null {
  let job: Cron | null = null;
  try {
    job = new Cron(pattern, { timezone: timeZone, paused: true });
    if (!job.nextRun()) return 'the cron expression never runs';
    return null;
  } catch (error) {
    return (error as Error).message.replace(/^CronPattern: /, '');
  } finally {
    job?.stop();
  }
}

/** The next times a schedule runs after `from`; empty when it is OFF. */
export function nextRuns(schedule: Schedule, count: number, from = new Date()): Date[] {
  const pattern = cronPattern(schedule);
  if (!pattern) return [];
  const job = new Cron(pattern, { timezone: schedule.timeZone, paused: true });
  try {
    return job.nextRuns(count, from);
  } finally {
    job.stop();
  }
}

/** The last time the schedule was due strictly before `before`, or null. */
export function previousRun(schedule: Schedule, before = new Date()): Date | null {
  const pattern = cronPattern(schedule);
  if (!pattern) return null;
  const job = new Cron(pattern, { timezone: schedule.timeZone, paused: true });
  try {
    return job.previousRuns(1, before)[0] ?? null;
  } finally {
    job.stop();
  }
}
