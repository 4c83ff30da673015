// What both measured children (bench/backup-once.ts, bench/restore-once.ts) do first: read
// their one argument and the passphrase, then, on the operation's clock, load the
// configuration and the target the environment names.
import { loadConfig, type Config } from '../src/core/config.ts';
import { loadTarget, type Target } from '../src/target/target.ts';
import { limitHeapGrowth } from '../src/util/heap-growth.ts';
import { benchPassphrase } from './bench-passphrase.ts';

export interface ChildSetup {
  /** The child's one argument (process.argv[2]). */
  argument: string;
  /** BENCH_PASSPHRASE: null for a plain run. */
  passphrase: string | null;
  /** When the operation started (performance.now()): the child reports its time from here. */
  started: number;
  config: Config;
  target: Target;
}

/** Without the argument the child prints `usage` and exits with code 2. */
export async function setUpChild(usage: string): Promise<ChildSetup> {
  const argument = process.argv[2];
  if (!argument) {
    console.error(usage);
    process.exit(2);
  }
  // As `npm start` runs the engine (src/main.ts).
  limitHeapGrowth();
  const passphrase = benchPassphrase();
  const started = performance.now();
  const config = loadConfig();
  const target = await loadTarget(config.target);
  return { argument, passphrase, started, config, target };
}
