// The product's measured children, bench/backup-once.ts and bench/restore-once.ts, run from their
// build under dist/ as `npm start` runs the service: their environment and the JSON line each prints.
import { PASSPHRASE_VARIABLE } from './bench-passphrase.ts';
import type { ProductTool } from './case-result.ts';
import { measure, type Timed } from './measure.ts';

/** Any valid passphrase does: scrypt's cost does not depend on it. */
const BENCH_PASSPHRASE = 'correct horse battery staple';

// The bundled example as the target, whatever the caller's shell has set.
// The passphrase too: only the encrypted runs get one (childEnv).
const CLEARED_VARIABLES = [
  'TARGET_SCHEMA',
  'TARGET_MIGRATIONS',
  'TARGET_FILES',
  'TARGET_NAME',
  'BACKUP_DIR',
  'CONTROL_DATABASE_URL',
  PASSPHRASE_VARIABLE,
];

export function productEnv(dataDir: string, url: string): NodeJS.ProcessEnv {
  // MALLOC_ARENA_MAX as `npm start` sets it: the product is measured as it runs.
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, TARGET_DATABASE_URL: url, MALLOC_ARENA_MAX: '2' };
  for (const name of CLEARED_VARIABLES) delete env[name];
  return env;
}

/** The environment of a product run: the encrypted ones get the passphrase. */
export function childEnv(env: NodeJS.ProcessEnv, tool: ProductTool): NodeJS.ProcessEnv {
  return tool === 'encrypted' ? { ...env, [PASSPHRASE_VARIABLE]: BENCH_PASSPHRASE } : env;
}

/** What bench/backup-once.js reports on its last stdout line. */
export interface WrittenBackup {
  archive: string;
  archiveBytes: number;
  rows: number;
  tables: { name: string; rows: number; sha256: string }[];
  operationMs: number;
  keyMs: number;
}

/** What bench/restore-once.js reports on its last stdout line. */
export interface RestoredArchive {
  rows: number;
  operationMs: number;
  keyMs: number;
}

/** One product backup into the folder `outDir`, measured. */
export async function measureProductBackup(
  label: string,
  work: string,
  outDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ timed: Timed; written: WrittenBackup }> {
  const timed = await measure(label, work, [[process.execPath, 'dist/bench/backup-once.js', outDir]], null, env);
  return { timed, written: lastLine(timed) as WrittenBackup };
}

/** One product restore of `archive` into the target `env` names, measured. */
export async function measureProductRestore(
  label: string,
  work: string,
  archive: string,
  env: NodeJS.ProcessEnv,
): Promise<{ timed: Timed; restored: RestoredArchive }> {
  const timed = await measure(label, work, [[process.execPath, 'dist/bench/restore-once.js', archive]], null, env);
  return { timed, restored: lastLine(timed) as RestoredArchive };
}

function lastLine(timed: Timed): unknown {
  return JSON.parse(timed.stdout.trim().split('\n').at(-1)!);
}
