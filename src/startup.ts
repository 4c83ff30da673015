// Start-up checks and preparation: folders, the control database, the target's schema and
// migrations, and the bundled example's first run. Any wrong setting becomes a ConfigError
// naming its variable, which main.ts prints as one line; the checks that change nothing run first.
import { access, constants, cp, mkdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { ConfigError, EXAMPLE_APP_DIR, type Config } from './core/config.ts';
import { log } from './core/logger.ts';
import { openControlDatabase, type ControlDatabase } from './control/control-db.ts';
import { connectAdapter } from './prisma/adapters.ts';
import { connectionProblem } from './prisma/database-reachable.ts';
import type { DatabaseLocation } from './prisma/database-url.ts';
import { SchemaEngineError } from './prisma/schema-engine.ts';
import { databaseState, describeDatabase, holdsRows } from './target/database-state.ts';
import { listAppliedMigrations } from './target/applied-migrations.ts';
import { missingColumns } from './target/missing-columns.ts';
import { loadTarget, migrateTarget, pendingMigrations, type Target } from './target/target.ts';

/** Items in the library the example gets on its first start: enough to look real. */
export const EXAMPLE_SEED_ITEMS = 200;

/** Missing tables and columns named in the one line, before "and N more". */
const MISSING_SHOWN = 5;

export interface Prepared {
  control: ControlDatabase;
  target: Target;
  /**
   * TARGET_MIGRATE=deploy: the migrations left to apply once a pre-upgrade backup holds the
   * database as it is (deployTargetMigrations); empty when there is nothing to keep first.
   */
  deployAfterBackup: string[];
}

export async function prepareStartup(config: Config): Promise<Prepared> {
  // What can be checked without changing anything comes first: a wrong host, port, database
  // URL or schema path stops start-up before any folder, file or database is made or touched.
  await probePort(config.host, config.port);
  return prepare(config, { server: true });
}

/**
 * The same checks for the command-line tool, which listens on nothing and leaves the target as
 * it is: no migration, no example seeded (a server may be running, or the target may wait for a restore).
 */
export function prepareCommandLine(config: Config): Promise<Prepared> {
  return prepare(config, { server: false });
}

async function prepare(config: Config, { server }: { server: boolean }): Promise<Prepared> {
  await reachable('CONTROL_DATABASE_URL', config.controlDatabase);
  const target = await checkTarget(config);

  await writableFolder('DATA_DIR', config.dataDir);
  await writableFolder('BACKUP_DIR', config.backupDir);
  // This instance's own scratch folder (its id is new each start), emptied to be sure; other
  // instances' folders are storage/scratch-folders.ts's business.
  await rm(config.scratchDir, { recursive: true, force: true });
  await mkdir(config.scratchDir, { recursive: true, mode: 0o700 });
  if (server && config.target.isExample) await prepareExampleFiles(config);

  const control = await openControlDatabase(config.controlDatabase).catch((error: unknown) => {
    throw new ConfigError('CONTROL_DATABASE_URL', `cannot be used: ${firstLine(error)}`);
  });
  try {
    const deployAfterBackup = server ? await prepareTarget(config, target) : [];
    return { control, target, deployAfterBackup };
  } catch (error) {
    await control.close();
    throw error;
  }
}

/** The target's settings, read without writing: schema, migrations folder, the database there and reachable. */
async function checkTarget(config: Config): Promise<Target> {
  const { target: targetConfig } = config;
  await stat(targetConfig.schemaPath).catch(() => {
    throw new ConfigError('TARGET_SCHEMA', `${targetConfig.schemaPath} does not exist`);
  });
  // Without TARGET_MIGRATIONS, no folder beside the schema is an app without migrations (`prisma db push`).
  if (targetConfig.migrationsDirFixed) {
    await stat(targetConfig.migrationsDir).catch(() => {
      throw new ConfigError('TARGET_MIGRATIONS', `${targetConfig.migrationsDir} does not exist`);
    });
  }
  const location = targetConfig.location;
  // A user's file that is not there waits for a restore (a new machine); its folder must be
  // there, so that a wrong path is still a wrong value.
  if (location.provider === 'sqlite' && !targetConfig.isExample) {
    const folder = path.dirname(location.filePath);
    await stat(location.filePath).catch(() =>
      stat(folder).catch(() => {
        throw new ConfigError('TARGET_DATABASE_URL', `${location.filePath} does not exist, nor does its folder ${folder}`);
      }),
    );
  }
  await reachable('TARGET_DATABASE_URL', location);
  return loadTarget(targetConfig).catch((error: unknown) => {
    throw new ConfigError('TARGET_SCHEMA', `cannot be read: ${schemaProblem(error)}`);
  });
}

/**
 * Reports the target's pending migrations, or applies them when TARGET_MIGRATE=deploy asks (the
 * bundled example always), checks its tables, and seeds the example on its first start. A user's
 * database that is not there yet (a missing file; no tables, unless deploy asks) is left as it
 * is, for a restore to create: start-up never creates it. A user's database holding data at an
 * older version is migrated only after a pre-upgrade backup: its pending migrations are returned.
 */
async function prepareTarget(config: Config, target: Target): Promise<string[]> {
  const location = config.target.location;
  if (location.provider === 'sqlite' && config.target.isExample) await mkdir(path.dirname(location.filePath), { recursive: true });
  if (!config.target.isExample) {
    const state = await databaseState(location).catch((error: unknown) => {
      throw new ConfigError('TARGET_DATABASE_URL', `cannot be read: ${firstLine(error)}`);
    });
    if (state === 'missing' || (state === 'empty' && config.target.migrate !== 'deploy')) {
      log.warn(
        { targetDatabase: state },
        `target: the database ${describeDatabase(location)} ${state === 'missing' ? 'does not exist' : 'holds no tables'}: ` +
          'restore a backup to create it (the first-run restore, or `npx backup-control-plane restore ARCHIVE`); backups wait until then',
      );
      return [];
    }
    // Data at an older version is kept in a pre-upgrade backup first; tables without a row have nothing to keep.
    if (state === 'present' && config.target.migrate === 'deploy') {
      const applied = await listAppliedMigrations(location).catch(() => []);
      const pending = applied.length > 0 ? await pendingMigrations(target).catch(() => []) : [];
      if (pending.length > 0 && (await holdsRows(location))) return pending;
    }
  }
  if (!config.target.isExample && config.target.migrate !== 'deploy') {
    const pending = await pendingMigrations(target).catch((error: unknown) => {
      throw new ConfigError('TARGET_DATABASE_URL', `cannot be read: ${firstLine(error)}`);
    });
    if (pending.length > 0) {
      // The app's own deploy applies them; until then its schema is ahead of its tables, and
      // backups wait for it rather than change the database unasked.
      log.warn(
        { pendingMigrations: pending },
        `target: ${pending.length} pending migration(s) not applied (${pending.join(', ')}): the app applies its own; TARGET_MIGRATE=deploy applies them at start-up`,
      );
      return [];
    }
    await checkTablesExist(target);
    return [];
  }
  await deployTargetMigrations(target);
  if (config.target.isExample) await prepareExampleDatabase(config);
  return [];
}

/** Applies the target's pending migrations (TARGET_MIGRATE=deploy), then checks its tables. */
export async function deployTargetMigrations(target: Target): Promise<void> {
  await migrateTarget(target).catch((error: unknown) => {
    if (error instanceof SchemaEngineError && error.migration) {
      throw new ConfigError('TARGET_MIGRATIONS', `cannot be applied: ${error.message}`);
    }
    throw new ConfigError('TARGET_DATABASE_URL', `cannot be migrated: ${firstLine(error)}`);
  });
  await checkTablesExist(target);
}

async function reachable(variable: string, location: DatabaseLocation): Promise<void> {
  const problem = await connectionProblem(location);
  if (problem) throw new ConfigError(variable, problem);
}

/** With its migrations applied, the database must have every table and column the schema maps. */
async function checkTablesExist(target: Target): Promise<void> {
  const missing = await missingColumns(target.location, target.schema.tables).catch((error: unknown) => {
    throw new ConfigError('TARGET_DATABASE_URL', `cannot be read: ${firstLine(error)}`);
  });
  if (missing.length === 0) return;
  const more = missing.length > MISSING_SHOWN ? ` and ${missing.length - MISSING_SHOWN} more` : '';
  throw new ConfigError(
    'TARGET_SCHEMA',
    `does not match the database, which has no pending migrations: missing ${missing.slice(0, MISSING_SHOWN).join(', ')}${more}`,
  );
}

/** Listens on the port (any free one for 0) and lets it go, so a port or host that cannot be used is a ConfigError now. */
async function probePort(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(listenFailure(error, host, port)));
    probe.listen(port, host, resolve);
  });
  await new Promise((resolve) => probe.close(resolve));
}

/** A listen error as the setting to change, when it is one. */
export function listenFailure(error: Error, host: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new ConfigError('PORT', `${port} is already in use on ${host}`);
  if (code === 'EACCES') return new ConfigError('PORT', `${port} may not be listened on by this user on ${host}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConfigError('HOST', `${host} is not an address of this machine (${code})`);
  }
  return error;
}

async function prepareExampleFiles(config: Config): Promise<void> {
  const exampleDir = path.join(config.dataDir, 'example');
  await mkdir(exampleDir, { recursive: true });
  await cp(path.join(EXAMPLE_APP_DIR, 'template'), exampleDir, { recursive: true, force: false, errorOnExist: false });
}

/** WAL lets the app keep writing while a backup reads its snapshot; then a small library. */
async function prepareExampleDatabase(config: Config): Promise<void> {
  const location = config.target.location;
  if (location.provider === 'sqlite') {
    const connection = await connectAdapter(location);
    try {
      await connection.adapter.executeScript('PRAGMA journal_mode = WAL;');
    } finally {
      await connection.close();
    }
  }
  // Loaded only for the example: its data generator is of no use to any other target.
  const { isExampleDatabaseEmpty, seedExampleLibrary } = await import('./examples/seed.ts');
  if (await isExampleDatabaseEmpty(location.url)) {
    await seedExampleLibrary({ databaseUrl: location.url, items: EXAMPLE_SEED_ITEMS });
  }
}

async function writableFolder(variable: string, folder: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
    await access(folder, constants.W_OK);
  } catch (error) {
    throw new ConfigError(variable, `${folder} is not a writable folder (${(error as NodeJS.ErrnoException).code ?? firstLine(error)})`);
  }
}

/** Prisma's parser gives the message, then the place (`-->  schema.prisma:3`): both, on one line. */
function schemaProblem(error: unknown): string {
  const place = /-->\s*(\S+:\d+)/.exec(error instanceof Error ? error.message : String(error))?.[1];
  const message = firstLine(error).replace(/^error: /, '');
  return place ? `${message} (${place})` : message;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n')[0]!.slice(0, 300);
}
