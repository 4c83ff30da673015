// Start-up checks and preparation: folders, the control database, the target's schema and
// migrations, and the bundled example's first run. Any wrong setting becomes a ConfigError
// naming its variable, which main.ts prints as one line.
import { access, constants, cp, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, EXAMPLE_APP_DIR, type Config } from './core/config.ts';
import { openControlDatabase, type ControlDatabase } from './control/control-db.ts';
import { connectAdapter } from './prisma/adapters.ts';
import { loadTarget, migrateTarget, type Target } from './target/target.ts';

/** Items in the library the example gets on its first start: enough to look real. */
export const EXAMPLE_SEED_ITEMS = 200;

export async function prepareStartup(config: Config): Promise<{ control: ControlDatabase; target: Target }> {
  await writableFolder('DATA_DIR', config.dataDir);
  await writableFolder('BACKUP_DIR', config.backupDir);
  // Staging from a backup that was interrupted is useless now.
  await rm(config.scratchDir, { recursive: true, force: true });
  await mkdir(config.scratchDir, { recursive: true, mode: 0o700 });
  if (config.target.isExample) await prepareExampleFiles(config);

  const control = await openControlDatabase(config.controlDatabase).catch((error: unknown) => {
    throw new ConfigError('CONTROL_DATABASE_URL', `cannot be used: ${firstLine(error)}`);
  });
  try {
    const target = await prepareTarget(config);
    return { control, target };
  } catch (error) {
    await control.close();
    throw error;
  }
}

async function prepareTarget(config: Config): Promise<Target> {
  const { target: targetConfig } = config;
  await stat(targetConfig.schemaPath).catch(() => {
    throw new ConfigError('TARGET_SCHEMA', `${targetConfig.schemaPath} does not exist`);
  });
  await stat(targetConfig.migrationsDir).catch(() => {
    throw new ConfigError('TARGET_MIGRATIONS', `${targetConfig.migrationsDir} does not exist`);
  });
  const location = targetConfig.location;
  if (location.provider === 'sqlite') {
    if (targetConfig.isExample) await mkdir(path.dirname(location.filePath), { recursive: true });
    // A user's database that is not there is a wrong path, not a new database to create.
    else
      await stat(location.filePath).catch(() => {
        throw new ConfigError('TARGET_DATABASE_URL', `${location.filePath} does not exist`);
      });
  }
  const target = await loadTarget(targetConfig).catch((error: unknown) => {
    throw new ConfigError('TARGET_SCHEMA', `cannot be read: ${firstLine(error)}`);
  });
  await migrateTarget(target).catch((error: unknown) => {
    throw new ConfigError('TARGET_DATABASE_URL', `cannot be migrated: ${firstLine(error)}`);
  });
  if (targetConfig.isExample) await prepareExampleDatabase(config);
  return target;
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

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.trim().split('\n')[0]!.slice(0, 300);
}
