// `npm run seed -- --items N`: migrates the example database named by TARGET_DATABASE_URL
// and adds a generated library of N media items to it.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../core/config.ts';
import { migrateExampleDatabase, seedExampleLibrary } from './seed.ts';

function fail(problem: string): never {
  console.error(`seed: ${problem}`);
  process.exit(2);
}
function usage(problem: string): never {
  fail(`${problem} (usage: npm run seed -- --items N)`);
}

let items = 1000;
try {
  const { values } = parseArgs({ options: { items: { type: 'string' } } });
  if (values.items !== undefined) {
    if (!/^\d+$/.test(values.items) || Number(values.items) < 1) usage(`--items must be a positive whole number, not "${values.items}"`);
    items = Number(values.items);
  }
} catch (error) {
  usage((error as Error).message);
}

// A bad TARGET_DATABASE_URL (or DATA_DIR, which sets its default) is a usage error too.
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(error.message);
  throw error;
}
const location = config.target.location;
if (location.provider === 'sqlite') await mkdir(path.dirname(location.filePath), { recursive: true });
await migrateExampleDatabase(location);

const started = performance.now();
let lastReport = 0;
const report = await seedExampleLibrary({
  databaseUrl: location.url,
  items,
  onProgress(done, total) {
    if (performance.now() - lastReport > 1000 || done === total) {
      lastReport = performance.now();
      process.stdout.write(`\rseeded ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} items`);
    }
  },
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const total = Object.values(report.rows).reduce((sum, n) => sum + n, 0);
console.log(`\nadded ${report.items} items, ${total} rows in ${seconds}s:`, Object.entries(report.rows).map(([t, n]) => `${t} ${n}`).join(', '));
