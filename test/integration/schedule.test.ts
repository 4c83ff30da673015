// Scheduled backups through the real server: settings and their validation, an every-second
// CUSTOM schedule with retention, a backup folder that turns read-only mid-schedule, and a
// run missed while the server was down.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  BackupSettingsDocument,
  ListBackupsDocument,
  RestoreBackupDocument,
  RestoreJobDocument,
  SystemDocument,
  UpdateBackupSettingsDocument,
  type BackupSettingsInput,
} from '../generated/graphql.ts';
import { seedExampleLibrary } from '../../src/examples/seed.ts';
import { createBackup } from '../helpers/scenarios.ts';
import { startServer, waitFor, type TestServer } from '../helpers/server.ts';

const EVERY_SECOND = '* * * * * *';
const servers: TestServer[] = [];

after(async () => {
  for (const server of servers) await server.close();
});

async function start(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const server = await startServer(options);
  servers.push(server);
  return server;
}

async function update(server: TestServer, input: BackupSettingsInput) {
  const result = await server.gql(UpdateBackupSettingsDocument, { input });
  return result.updateBackupSettings;
}

async function settingsOf(server: TestServer) {
  return (await server.gql(BackupSettingsDocument)).backupSettings;
}

/** Turns the schedule off and waits until no scheduled backup is running. */
async function stopSchedule(server: TestServer) {
  assert.equal((await update(server, { frequency: 'OFF' })).__typename, 'UpdateBackupSettingsPayload');
  await waitFor('the last scheduled run to end', async () => (await settingsOf(server)).lastRun?.status !== 'RUNNING');
}

function scheduledRuns(server: TestServer) {
  const db = new Database(path.join(server.dataDir, 'control.db'), { readonly: true });
  try {
    const rows = db.prepare(`SELECT "slot", "status", "error", "fileName" FROM "ScheduledRun" ORDER BY "slot"`).all() as {
      slot: string;
      status: string;
      error: string | null;
      fileName: string | null;
    }[];
    // Prisma keeps SQLite DateTimes as ISO text.
    return rows.map((row) => ({ ...row, slot: Date.parse(row.slot) }));
  } finally {
    db.close();
  }
}

async function backupsOf(server: TestServer) {
  const { backups } = await server.gql(ListBackupsDocument, { first: 500 });
  return backups.edges.map((edge) => edge.node);
}

test('settings start with nightly defaults, and every wrong value is a ValidationError naming its field', async () => {
  const server = await start();
  const settings = await settingsOf(server);
  assert.equal(settings.frequency, 'DAILY');
  assert.equal(settings.timeOfDay, '03:00');
  assert.equal(settings.keep, 7);
  assert.equal(settings.includeMedia, false);
  assert.equal(settings.timeZone, Intl.DateTimeFormat().resolvedOptions().timeZone);
  assert.equal(settings.backupDir, server.app.config.backupDir);
  assert.equal(settings.backupDirFixed, false);
  assert.equal(settings.passphraseSet, false);
  assert.equal(settings.lastRun, null);
  assert.ok(settings.nextRunAt && new Date(settings.nextRunAt).getTime() > Date.now(), 'a nightly run is scheduled');

  const wrong: [BackupSettingsInput, string][] = [
    [{ frequency: 'CUSTOM' }, 'cron'],
    [{ frequency: 'CUSTOM', cron: '61 * * * *' }, 'cron'],
    [{ frequency: 'CUSTOM', cron: 'every day' }, 'cron'],
    [{ timeOfDay: '25:00' }, 'timeOfDay'],
    [{ timeOfDay: '3pm' }, 'timeOfDay'],
    [{ dayOfWeek: 7 }, 'dayOfWeek'],
    [{ dayOfMonth: 31 }, 'dayOfMonth'],
    [{ timeZone: 'Mars/Olympus_Mons' }, 'timeZone'],
    [{ keep: 0 }, 'keep'],
    [{ backupDir: 'relative/folder' }, 'backupDir'],
    [{ backupDir: '/etc/hostname/backups' }, 'backupDir'],
    [{ passphrase: 'short' }, 'passphrase'],
  ];
  for (const [input, field] of wrong) {
    const result = await update(server, input);
    assert.equal(result.__typename, 'ValidationError', JSON.stringify(input));
    if (result.__typename === 'ValidationError') assert.equal(result.field, field, JSON.stringify(input));
  }
  assert.deepEqual(await settingsOf(server), settings, 'a refused update changes nothing');

  const weekly = await update(server, {
    frequency: 'WEEKLY',
    dayOfWeek: 1,
    timeOfDay: '04:30',
    timeZone: 'Asia/Tokyo',
    keep: 3,
    includeMedia: true,
  });
  assert.equal(weekly.__typename, 'UpdateBackupSettingsPayload');
  if (weekly.__typename !== 'UpdateBackupSettingsPayload') return;
  assert.equal(weekly.settings.frequency, 'WEEKLY');
  assert.equal(weekly.settings.keep, 3);
  // Monday 04:30 in Tokyo is Sunday 19:30 UTC.
  const next = new Date(weekly.settings.nextRunAt!);
  assert.deepEqual([next.getUTCDay(), next.getUTCHours(), next.getUTCMinutes()], [0, 19, 30]);

  // Every 6 hours counts from the time of day; monthly runs on its day at that time.
  const sixHourly = await update(server, { frequency: 'EVERY_6_HOURS', timeOfDay: '05:15', timeZone: 'UTC' });
  if (sixHourly.__typename !== 'UpdateBackupSettingsPayload') throw new Error(sixHourly.__typename);
  const sixHourlyNext = new Date(sixHourly.settings.nextRunAt!);
  assert.deepEqual([sixHourlyNext.getUTCHours() % 6, sixHourlyNext.getUTCMinutes()], [5, 15]);
  assert.ok(sixHourlyNext.getTime() - Date.now() <= 6 * 60 * 60 * 1000);
  const monthly = await update(server, { frequency: 'MONTHLY', dayOfMonth: 28, timeOfDay: '00:00' });
  if (monthly.__typename !== 'UpdateBackupSettingsPayload') throw new Error(monthly.__typename);
  const monthlyNext = new Date(monthly.settings.nextRunAt!);
  assert.deepEqual([monthlyNext.getUTCDate(), monthlyNext.getUTCHours(), monthlyNext.getUTCMinutes()], [28, 0, 0]);

  const withPassphrase = await update(server, { passphrase: 'correct horse battery' });
  assert.equal(withPassphrase.__typename === 'UpdateBackupSettingsPayload' && withPassphrase.settings.passphraseSet, true);
  const control = new Database(path.join(server.dataDir, 'control.db'), { readonly: true });
  const stored = control.prepare(`SELECT "encryptedPassphrase" FROM "BackupSettings"`).get() as { encryptedPassphrase: string };
  control.close();
  assert.ok(stored.encryptedPassphrase && !stored.encryptedPassphrase.includes('horse'), 'the passphrase is stored sealed');
  const cleared = await update(server, { passphrase: '' });
  assert.equal(cleared.__typename === 'UpdateBackupSettingsPayload' && cleared.settings.passphraseSet, false);

  const off = await update(server, { frequency: 'OFF' });
  assert.equal(off.__typename === 'UpdateBackupSettingsPayload' && off.settings.nextRunAt, null);

  // A new backup folder takes effect at once: the next backup is written there.
  const folder = path.join(server.dataDir, 'elsewhere');
  const moved = await update(server, { backupDir: folder });
  assert.equal(moved.__typename === 'UpdateBackupSettingsPayload' && moved.settings.backupDir, folder);
  const backup = await createBackup(server);
  assert.deepEqual(await readdir(folder), [backup.fileName]);
  assert.equal((await server.gql(SystemDocument)).system.backupDir, folder);
});

test('BACKUP_DIR wins over the setting, which shows it as fixed', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bcp-test-'));
  const fixed = path.join(dataDir, 'fixed-backups');
  const server = await start({ dataDir, env: { BACKUP_DIR: fixed } });
  const settings = await settingsOf(server);
  assert.equal(settings.backupDirFixed, true);
  assert.equal(settings.backupDir, fixed);
  const result = await update(server, { backupDir: path.join(dataDir, 'other') });
  assert.equal(result.__typename, 'ValidationError');
  if (result.__typename === 'ValidationError') assert.equal(result.field, 'backupDir');
});

test('an every-second schedule takes scheduled backups at once; retention keeps the newest `keep` and never touches manual ones', async () => {
  const server = await start();
  const manual = [await createBackup(server, { note: 'on purpose' }), await createBackup(server, { note: 'also on purpose' })];
  const keep = 2;
  const result = await update(server, { frequency: 'CUSTOM', cron: EVERY_SECOND, keep });
  assert.equal(result.__typename, 'UpdateBackupSettingsPayload', JSON.stringify(result));
  await waitFor(
    'four successful scheduled runs',
    async () => scheduledRuns(server).filter((run) => run.status === 'SUCCEEDED').length >= 4,
  );
  await stopSchedule(server);

  const runs = scheduledRuns(server);
  const succeeded = runs.filter((run) => run.status === 'SUCCEEDED');
  assert.deepEqual(
    runs.filter((run) => run.status === 'FAILED'),
    [],
    'no scheduled run failed',
  );
  // Runs that found the previous one still going were skipped and said so.
  for (const run of runs.filter((r) => r.status === 'SKIPPED')) assert.match(run.error ?? '', /still running/);

  const backups = await backupsOf(server);
  const scheduled = backups.filter((b) => b.kind === 'SCHEDULED');
  assert.equal(scheduled.length, keep, 'retention trimmed the scheduled backups to keep');
  assert.deepEqual(
    scheduled.map((b) => b.fileName).sort(),
    succeeded
      .slice(-keep)
      .map((run) => run.fileName)
      .sort(),
    'the newest scheduled backups are the ones kept',
  );
  assert.deepEqual(
    backups
      .filter((b) => b.kind === 'MANUAL')
      .map((b) => b.id)
      .sort(),
    manual.map((b) => b.id).sort(),
    'manual backups never expire',
  );
  for (const backup of scheduled) {
    assert.equal(backup.includesMedia, false, 'scheduled backups leave media out by default');
    assert.ok(backup.tables.length > 0);
  }
  const { lastRun } = await settingsOf(server);
  assert.equal(lastRun?.status, 'SUCCEEDED');
});

/**
 * Makes the folder refuse new files. Tests run as root, and root ignores permission bits, so
 * chmod would prove nothing: the immutable attribute (chattr +i) stops even root from creating
 * a file in the folder. Where chattr is not available, the folder is moved away and a regular
 * file takes its place, which fails every write there just as surely.
 */
async function makeUnwritable(folder: string): Promise<() => Promise<void>> {
  try {
    execFileSync('chattr', ['+i', folder], { stdio: 'ignore' });
    await writeFile(path.join(folder, 'probe'), '').then(
      () => {
        throw new Error('chattr +i did not stop writes');
      },
      () => {},
    );
    return async () => void execFileSync('chattr', ['-i', folder]);
  } catch {
    try {
      execFileSync('chattr', ['-i', folder], { stdio: 'ignore' });
    } catch {
      // no chattr here
    }
    await rename(folder, `${folder}.away`);
    await writeFile(folder, 'not a folder\n');
    return async () => {
      await rm(folder);
      await rename(`${folder}.away`, folder);
    };
  }
}

test('a backup folder made read-only mid-schedule records a failure, keeps older backups, and the next run succeeds once it is writable', async () => {
  const server = await start();
  const folder = server.app.config.backupDir;
  assert.equal((await update(server, { frequency: 'CUSTOM', cron: EVERY_SECOND, keep: 100 })).__typename, 'UpdateBackupSettingsPayload');
  // Between two runs, so that no archive is half-written when the folder changes.
  await waitFor('a successful run that has ended', async () => {
    const { lastRun } = await settingsOf(server);
    return lastRun?.status === 'SUCCEEDED';
  });
  const restore = await makeUnwritable(folder);
  let failure: { at: string; error: string | null } | undefined;
  try {
    failure = await waitFor('a failed scheduled run', async () => {
      const { lastRun } = await settingsOf(server);
      return lastRun?.status === 'FAILED' ? lastRun : null;
    });
  } finally {
    await restore();
  }
  assert.ok(failure.error, 'the failure says why');
  const before = (await backupsOf(server)).map((b) => b.fileName);
  assert.ok(before.length > 0);

  const recovered = await waitFor('a successful run after the failure', async () => {
    const { lastRun } = await settingsOf(server);
    return lastRun?.status === 'SUCCEEDED' && lastRun.at > failure.at ? lastRun : null;
  });
  await stopSchedule(server);
  const after = (await backupsOf(server)).map((b) => b.fileName);
  for (const name of before) assert.ok(after.includes(name), `${name} is still there`);
  assert.ok(after.includes(recovered.fileName!), 'the run after the failure wrote its archive');
  assert.deepEqual(
    (await readdir(folder)).filter((name) => name.startsWith('.')),
    [],
    'no temporary file is left in the backup folder',
  );
  assert.deepEqual(
    (await readdir(server.app.config.scratchDir)).filter((name) => name.startsWith('backup-')),
    [],
    'no staging folder is left',
  );
  const failed = scheduledRuns(server).filter((run) => run.status === 'FAILED');
  assert.ok(failed.length >= 1);
});

/**
 * Waits until a little before the next whole second, when the every-second schedule fires next.
 * A loop of restores each shorter than a second, with fixed pauses between them, can keep the same
 * phase against the clock and so never straddle a slot; starting each attempt a different lead
 * before the slot makes every attempt cover one, however fast the machine.
 */
async function untilBeforeNextSlot(attempt: number): Promise<void> {
  // Short leads for quick operations (a manual backup of this library takes 150-250 ms here), long for slow ones.
  const lead = [300, 50, 150, 500, 80, 700][attempt % 6]!;
  const wait = (2000 - (Date.now() % 1000) - lead) % 1000;
  await sleep(wait);
}

test('scheduled times that fall during a restore or a manual backup are skipped and recorded, never run beside them', async () => {
  const server = await start();
  // A library big enough that a restore or a backup takes a moment.
  await seedExampleLibrary({ databaseUrl: server.targetUrl, items: 3000 });
  const backup = await createBackup(server, { includeMedia: true });
  assert.equal((await update(server, { frequency: 'CUSTOM', cron: EVERY_SECOND, keep: 100 })).__typename, 'UpdateBackupSettingsPayload');
  await waitFor('a scheduled run', async () => (await settingsOf(server)).lastRun?.status === 'SUCCEEDED');
  // Restores until a scheduled time has fallen well inside one (how long one takes depends on the machine).
  const restoreWindows: [number, number][] = [];
  // The restore holds the target from before startedAt until after finishedAt; a slot is
  // checked a few milliseconds after its time, so those at the very end are left out.
  const duringRestore = (run: { slot: number }) => restoreWindows.some(([from, to]) => run.slot >= from && run.slot <= to - 100);
  for (let attempt = 0; attempt < 10 && !scheduledRuns(server).some(duringRestore); attempt++) {
    await untilBeforeNextSlot(attempt);
    const started = await server.gql(RestoreBackupDocument, { input: { backupId: backup.id } });
    if (started.restoreBackup.__typename !== 'RestoreBackupPayload') throw new Error(started.restoreBackup.__typename);
    const jobId = started.restoreBackup.job.id;
    const job = await waitFor('the restore to end', async () => {
      const { restoreJob } = await server.gql(RestoreJobDocument, { id: jobId });
      return restoreJob?.finishedAt ? restoreJob : null;
    });
    assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
    restoreWindows.push([new Date(job.startedAt!).getTime(), new Date(job.finishedAt!).getTime()]);
    await sleep(200); // a slot's row is final a few milliseconds after its time
  }
  // Manual backups, with the media tables, while the schedule goes on, until a scheduled time
  // has fallen well inside one (each takes about a second here).
  const manualWindows: [number, number][] = [];
  const controlDb = path.join(server.dataDir, 'control.db');
  const inside = (run: { slot: number }) => manualWindows.some(([from, to]) => run.slot > from && run.slot < to - 100);
  for (let attempt = 0; attempt < 20 && !scheduledRuns(server).some(inside); attempt++) {
    await untilBeforeNextSlot(attempt);
    await createBackup(server, { includeMedia: true, note: 'while the schedule runs' });
    const db = new Database(controlDb, { readonly: true });
    const run = db
      .prepare(`SELECT "startedAt", "finishedAt" FROM "BackupRun" WHERE "trigger" = 'api' ORDER BY "startedAt" DESC LIMIT 1`)
      .get() as {
      startedAt: string;
      finishedAt: string;
    };
    db.close();
    manualWindows.push([Date.parse(run.startedAt), Date.parse(run.finishedAt)]);
    await sleep(200); // a slot's row is final a few milliseconds after its time
  }
  await stopSchedule(server);
  const during = scheduledRuns(server).filter(duringRestore);
  assert.ok(during.length > 0, `scheduled times fell during a restore: ${JSON.stringify({ restoreWindows, runs: scheduledRuns(server) })}`);
  for (const run of during) {
    assert.equal(run.status, 'SKIPPED', JSON.stringify(run));
    assert.match(run.error ?? '', /restore|still running/);
  }
  assert.ok(
    during.some((run) => /restore/.test(run.error ?? '')),
    'the reason names the restore',
  );

  const duringManual = scheduledRuns(server).filter(inside);
  assert.ok(
    duringManual.length > 0,
    `scheduled times fell during a manual backup: ${JSON.stringify({ manualWindows, runs: scheduledRuns(server) })}`,
  );
  for (const run of duringManual) {
    assert.equal(run.status, 'SKIPPED', JSON.stringify(run));
    assert.match(run.error ?? '', /manual backup was running/);
  }
});

test('a run missed while the server was down runs once soon after start-up, not once per missed day', async () => {
  const first = await start();
  assert.equal((await update(first, { frequency: 'DAILY', timeOfDay: '03:00' })).__typename, 'UpdateBackupSettingsPayload');
  await first.stop();
  // The server "was down" for three days: the settings date from before three due times.
  const control = new Database(path.join(first.dataDir, 'control.db'));
  control
    .prepare(`UPDATE "BackupSettings" SET "updatedAt" = ?`)
    .run(new Date(Date.now() - 3 * 24 * 60 * 60 * 1000).toISOString().replace('Z', '+00:00'));
  control.close();

  const server = await start({ dataDir: first.dataDir });
  const pending = await settingsOf(server);
  assert.ok(pending.nextRunAt && new Date(pending.nextRunAt).getTime() - Date.now() < 10_000, 'the missed run is due within seconds');
  const lastRun = await waitFor('the catch-up run', async () => {
    const { lastRun } = await settingsOf(server);
    return lastRun && lastRun.status !== 'RUNNING' ? lastRun : null;
  });
  assert.equal(lastRun.status, 'SUCCEEDED', lastRun.error ?? '');
  const runs = scheduledRuns(server);
  assert.equal(runs.length, 1, 'one run, not one per missed day');
  assert.equal((await backupsOf(server)).filter((b) => b.kind === 'SCHEDULED').length, 1);
  const settings = await settingsOf(server);
  assert.ok(settings.nextRunAt && new Date(settings.nextRunAt).getTime() > Date.now() + 60_000, 'then the nightly schedule goes on');
});

test('a saved backup folder that is unusable at start-up does not stop the server: scheduled runs fail there and say so', async () => {
  const first = await start();
  const folder = path.join(first.dataDir, 'nas-mount');
  assert.equal((await update(first, { backupDir: folder })).__typename, 'UpdateBackupSettingsPayload');
  await first.stop();
  // The disk is not mounted this time: something else is at its path.
  await rm(folder, { recursive: true });
  await writeFile(folder, 'not a folder\n');

  const server = await start({ dataDir: first.dataDir });
  assert.equal((await settingsOf(server)).backupDir, folder, 'the saved folder is kept, not swapped for another');
  assert.equal((await update(server, { frequency: 'CUSTOM', cron: EVERY_SECOND })).__typename, 'UpdateBackupSettingsPayload');
  const failed = await waitFor('a failed scheduled run', async () => {
    const { lastRun } = await settingsOf(server);
    return lastRun?.status === 'FAILED' ? lastRun : null;
  });
  await stopSchedule(server);
  assert.match(failed.error ?? '', /EEXIST|ENOTDIR|not a directory|file already exists/i);
  assert.deepEqual(await readdir(server.app.config.backupDir).catch(() => []), [], 'nothing went to the default folder instead');
});
