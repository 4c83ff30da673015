// `npm run bench`: the benchmark of issue 6. For each size and database it seeds a fresh
// example library, then measures, alternating product and baseline in the same run:
//   backup:  this product (full backup, gzip)  vs  `sqlite3 DB .dump | gzip`  /  `pg_dump -Fc`
//   restore: this product (one checked pass)  vs  `gunzip -c | sqlite3`    /  `pg_restore -j 1`
// and, unless --no-encryption, the product's encrypted backup and restore beside its plain
// ones, for the issue's "encryption on costs at most 10 % more time".
// Every measured command is a child process under GNU time (`/usr/bin/time -v`); its peak
// memory is the kernel's maximum resident set size, not a sample. A pipeline's peak is the
// sum of its stages' peaks. Wall time is measured around the child, start-up included.
//
//   npm run bench -- [--sizes 10000,100000,1000000] [--providers sqlite,postgresql] [--repeat N] [--no-encryption]
//
// Prints markdown tables (ratios are product ÷ baseline, encrypted ÷ plain), writes bench/results/<time>.json
// and bench/results/latest.md. Every temporary database and folder is removed at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { EXAMPLE_APP_DIR, PROJECT_ROOT } from '../src/core/config.ts';
import { migrateExampleDatabase } from '../src/examples/seed.ts';
import { parseDatabaseUrl, type Provider } from '../src/prisma/database-url.ts';
import { PASSPHRASE_VARIABLE } from './bench-passphrase.ts';

const GNU_TIME = '/usr/bin/time';
const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;
const PG_USER = 'postgres';
const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');
/** The issue's memory target: under 200 MB (10^6 bytes) of peak RSS at every size. */
const MEMORY_TARGET_KIB = (200 * 1000 * 1000) / 1024;
/** The issue's encryption target: encrypted wall time ≤ 1.10× the plain product's. */
const ENCRYPTION_TIME_TARGET = 1.1;
/** Any valid passphrase does: scrypt's cost does not depend on it. */
const BENCH_PASSPHRASE = 'correct horse battery staple';

class BenchError extends Error {}

type Operation = 'backup' | 'restore';
/** The product's runs: plain archives, and encrypted ones (`….tar.gz.enc`). */
type ProductTool = 'product' | 'encrypted';
type Tool = ProductTool | 'baseline';

interface Measurement {
  round: number;
  operation: Operation;
  tool: Tool;
  command: string;
  wallMs: number;
  /** GNU time's "Maximum resident set size", summed over a pipeline's stages. */
  peakKiB: number;
  peakKiBByStage: number[];
  rowsPerSecond: number;
  /** What the backup wrote (the restore's input for restores). */
  archiveBytes: number;
  /** The product's own time for the operation, without Node start-up and module loading. */
  inProcessMs?: number;
  /** Encrypted runs: the key derivation (scrypt; for a restore, with the header read) within inProcessMs. */
  keyMs?: number;
  /** SHA-256 of the source under src/ when the run ended: each child loads the tree as it is then. */
  srcDigest: string;
  /** 1-minute load average just before the run: other work on the machine shows here. */
  loadAverage: number;
}

interface Summary {
  product: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number };
  baseline: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number };
  ratio: { time: number; size: number; memory: number };
}

/** The product's encrypted runs against its plain ones of the same case. */
interface EncryptionSummary {
  plain: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number };
  encrypted: { wallMs: number; peakKiB: number; archiveBytes: number; rowsPerSecond: number; keyMs: number };
  ratio: { time: number; size: number; memory: number };
}

interface CaseResult {
  provider: Provider;
  items: number;
  rows: number;
  tables: { name: string; rows: number }[];
  seedMs: number;
  runs: Measurement[];
  summary: Record<Operation, Summary>;
  /** Null when the run was made with --no-encryption. */
  encryption: Record<Operation, EncryptionSummary> | null;
}

// ---------------------------------------------------------------------------------------
// Clean-up: everything temporary is registered the moment it exists and removed at the
// end (or as soon as it is no longer needed), whether the run succeeds, fails or is stopped.

const cleanups = new Map<number, () => Promise<void>>();
let nextCleanup = 0;
const running = new Set<ChildProcess>();

function onCleanup(fn: () => Promise<void>): () => Promise<void> {
  const id = nextCleanup++;
  cleanups.set(id, fn);
  return async () => {
    if (!cleanups.delete(id)) return;
    await fn();
  };
}

async function cleanupAll(): Promise<void> {
  await cleanupFrom(0);
}

/** Runs the clean-ups registered since `mark`, newest first. */
async function cleanupFrom(mark: number): Promise<void> {
  for (const id of [...cleanups.keys()].filter((id) => id >= mark).reverse()) {
    const fn = cleanups.get(id)!;
    cleanups.delete(id);
    await fn().catch((error: unknown) => console.error(`bench: clean-up: ${firstLine(error)}`));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: stopped by ${signal}; cleaning up`);
    for (const child of running) child.kill('SIGTERM');
    // Give the children a moment to let go of their databases.
    setTimeout(() => void cleanupAll().finally(() => process.exit(130)), 500);
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
}

/**
 * A digest of the code the measured children run: the build under dist/ (src/ and
 * bench/ compiled, generated clients aside), made once when the run starts. A rebuild
 * during a run shows here; editing src/ does not change what is measured.
 */
async function srcDigest(): Promise<string> {
  const hash = createHash('sha256');
  const generated = path.join(PROJECT_ROOT, 'dist', 'src', 'generated');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (full !== generated) await walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.js')) {
        hash.update(path.relative(PROJECT_ROOT, full)).update('\0').update(await readFile(full)).update('\0');
      }
    }
  };
  await walk(path.join(PROJECT_ROOT, 'dist', 'src'));
  await walk(path.join(PROJECT_ROOT, 'dist', 'bench'));
  return hash.digest('hex').slice(0, 16);
}

async function gitState(): Promise<{ commit: string; srcChangedSinceCommit: boolean }> {
  try {
    const commit = (await runChild('git rev-parse', 'git', ['rev-parse', 'HEAD'])).stdout.trim();
    const status = (await runChild('git status', 'git', ['status', '--porcelain', '--', 'src'])).stdout.trim();
    return { commit, srcChangedSinceCommit: status !== '' };
  } catch {
    return { commit: 'unknown (not a git checkout)', srcChangedSinceCommit: false };
  }
}

// ---------------------------------------------------------------------------------------
// Children

interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Forward the child's stdout to ours (seeding progress) instead of capturing it. */
  showOutput?: boolean;
}

interface ChildOutput {
  stdout: string;
}

/** Runs a command to its end; anything but exit code 0 is a BenchError with its last error line. */
function runChild(label: string, command: string, args: string[], options: ChildOptions = {}): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: PROJECT_ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', options.showOutput ? 'inherit' : 'pipe', 'pipe'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8192)));
    child.on('error', (error) => {
      running.delete(child);
      reject(new BenchError(`${label}: cannot run ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      if (code === 0) return resolve({ stdout });
      const lines = stderr
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !/^at |^\^|^Node\.js v/.test(line));
      const reason = [...lines].reverse().find((line) => /error|fatal|failed/i.test(line)) ?? lines.at(-1) ?? 'no error output';
      reject(new BenchError(`${label} failed (${signal ?? `exit code ${code}`}): ${reason}`));
    });
  });
}

/** GNU time's report of one process: its maximum resident set size in KiB. */
async function readPeakKiB(timeFile: string): Promise<number> {
  const report = await readFile(timeFile, 'utf8');
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  if (!match) throw new BenchError(`no "Maximum resident set size" in GNU time's report ${timeFile}`);
  return Number(match[1]);
}

interface Timed {
  wallMs: number;
  peakKiBByStage: number[];
  stdout: string;
}

/**
 * Runs a measured command. `stages` are the commands of a pipeline (one for a single
 * process), joined with `|` under bash with pipefail; `redirect` is the last stage's
 * output file. Each stage runs under its own GNU time.
 */
async function measure(label: string, work: string, stages: string[][], redirect: string | null, env?: NodeJS.ProcessEnv): Promise<Timed> {
  await settle();
  const timeFiles = stages.map((_, i) => path.join(work, `time-${process.pid}-${i}.txt`));
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const script =
    'set -o pipefail; ' +
    stages.map((stage, i) => [GNU_TIME, '-v', '-o', timeFiles[i]!, ...stage].map(quote).join(' ')).join(' | ') +
    (redirect ? ` > ${quote(redirect)}` : '');
  const started = performance.now();
  const { stdout } = await runChild(label, 'bash', ['-c', script], { env });
  const wallMs = performance.now() - started;
  const peakKiBByStage = await Promise.all(timeFiles.map(readPeakKiB));
  await Promise.all(timeFiles.map((file) => rm(file, { force: true })));
  return { wallMs, peakKiBByStage, stdout };
}

/** Whether PostgreSQL is measured in this run, so `settle` checkpoints it. */
let settlePostgres = false;

/**
 * Untimed, before every measured command: the kernel writes back the dirty pages the last
 * command left (`sync`), and PostgreSQL checkpoints. A restore leaves gigabytes to write
 * back; without this, whichever command came next paid for them, product or baseline.
 */
async function settle(): Promise<void> {
  await runChild('sync', 'sync', []);
  if (settlePostgres) await psql('CHECKPOINT');
}

// ---------------------------------------------------------------------------------------
// Databases

function pgUrl(database: string): string {
  return `postgresql://${PG_USER}@${PG_HOST}:${PG_PORT}/${database}`;
}

async function psql(sql: string): Promise<string> {
  const { stdout } = await runChild(`psql (${sql})`, 'psql', ['-h', PG_HOST, '-p', String(PG_PORT), '-U', PG_USER, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
  return stdout.trim();
}

let databaseCount = 0;
/** A new, empty PostgreSQL database, dropped at the end at the latest. */
async function createPgDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = `bcp_bench_${process.pid}_${++databaseCount}`;
  await psql(`CREATE DATABASE "${name}"`);
  const drop = onCleanup(async () => void (await psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
  return { name, drop };
}

/** A SQLite file in WAL mode, as the example app (and the README) sets it up. */
function createSqliteFile(file: string): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
}

/**
 * Removes a restored SQLite database as soon as it is checked: a restore writes hundreds
 * of MB, and whatever of it the kernel has not yet written back would otherwise be
 * written during the next measured run (the plain and encrypted restores follow each other).
 */
async function removeSqliteFile(file: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm', '-journal'].map((suffix) => rm(file + suffix, { force: true })));
}

/** Row counts of the given tables: each restore is checked against the manifest (untimed). */
async function countRows(provider: Provider, where: string, tables: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const sql = (table: string) => `SELECT COUNT(*) AS n FROM "${table.replace(/"/g, '""')}"`;
  if (provider === 'sqlite') {
    const db = new Database(where, { readonly: true });
    try {
      for (const table of tables) counts.set(table, Number((db.prepare(sql(table)).get() as { n: number }).n));
    } finally {
      db.close();
    }
    return counts;
  }
  const client = new pg.Client({ connectionString: pgUrl(where) });
  await client.connect();
  try {
    for (const table of tables) counts.set(table, Number((await client.query<{ n: string }>(sql(table))).rows[0]!.n));
  } finally {
    await client.end();
  }
  return counts;
}

async function checkRestored(label: string, provider: Provider, where: string, expected: { name: string; rows: number }[]): Promise<void> {
  const counts = await countRows(provider, where, expected.map((t) => t.name));
  for (const table of expected) {
    if (counts.get(table.name) !== table.rows) {
      throw new BenchError(`${label} left ${counts.get(table.name)} rows in ${table.name}, the backup has ${table.rows}`);
    }
  }
}

/**
 * Untimed: backs the restored database up again, which must give every table's lines
 * byte for byte (the same SHA-256) as the archive restored; row counts alone would miss
 * a changed value.
 */
async function checkSameContent(work: string, env: NodeJS.ProcessEnv, expected: { name: string; sha256: string }[]): Promise<void> {
  // A folder of its own: two checks within one second would pick the same archive name.
  const checkDir = await mkdtemp(path.join(work, 'check-'));
  const again = await measure('product backup of the restored data (check)', work, [[process.execPath, 'dist/bench/backup-once.js', checkDir]], null, env);
  await rm(checkDir, { recursive: true, force: true });
  const tables = (JSON.parse(again.stdout.trim().split('\n').at(-1)!) as { tables: { name: string; sha256: string }[] }).tables;
  const byName = new Map(tables.map((table) => [table.name, table.sha256]));
  for (const table of expected) {
    if (byName.get(table.name) !== table.sha256) throw new BenchError(`the product restore changed the content of ${table.name}`);
  }
}

// ---------------------------------------------------------------------------------------
// One case: a size on a database

interface Source {
  provider: Provider;
  /** Environment for the product's children and the seed. */
  env: NodeJS.ProcessEnv;
  /** The SQLite file, or the PostgreSQL database name. */
  where: string;
  work: string;
}

function productEnv(dataDir: string, url: string): NodeJS.ProcessEnv {
  // MALLOC_ARENA_MAX as `npm start` sets it: the product is measured as it runs.
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, TARGET_DATABASE_URL: url, MALLOC_ARENA_MAX: '2' };
  // The bundled example as the target, whatever the caller's shell has set.
  // The passphrase too: only the encrypted runs get one (childEnv in runCase).
  for (const name of ['TARGET_SCHEMA', 'TARGET_MIGRATIONS', 'TARGET_FILES', 'TARGET_NAME', 'BACKUP_DIR', 'CONTROL_DATABASE_URL', PASSPHRASE_VARIABLE]) delete env[name];
  return env;
}

async function prepareSource(provider: Provider, items: number, work: string): Promise<{ source: Source; seedMs: number }> {
  const dataDir = path.join(work, 'data');
  const exampleDir = path.join(dataDir, 'example');
  await mkdir(exampleDir, { recursive: true });
  // The example's config.toml and secrets/: the target files every backup carries.
  await cp(path.join(EXAMPLE_APP_DIR, 'template'), exampleDir, { recursive: true });
  let where: string;
  let url: string;
  if (provider === 'sqlite') {
    where = path.join(exampleDir, 'media-library.db');
    createSqliteFile(where);
    url = `file:${where}`;
  } else {
    where = (await createPgDatabase()).name;
    url = pgUrl(where);
  }
  const env = productEnv(dataDir, url);
  console.log(`\n== ${provider}, ${items.toLocaleString('en-US')} items: seeding`);
  const started = performance.now();
  await runChild(`npm run seed -- --items ${items}`, 'npm', ['run', '--silent', 'seed', '--', '--items', String(items)], { env, showOutput: true });
  return { source: { provider, env, where, work }, seedMs: performance.now() - started };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** What bench/backup-once.js reports on its last stdout line. */
interface WrittenBackup {
  archive: string;
  archiveBytes: number;
  rows: number;
  tables: { name: string; rows: number; sha256: string }[];
  operationMs: number;
  keyMs: number;
}

async function runCase(provider: Provider, items: number, repeat: number, encryption: boolean): Promise<CaseResult> {
  const mark = nextCleanup;
  const work = await mkdtemp(path.join(os.tmpdir(), `bcp-bench-${provider}-`));
  onCleanup(() => rm(work, { recursive: true, force: true }));
  try {
    const { source, seedMs } = await prepareSource(provider, items, work);
    const runs: Measurement[] = [];
    let rows = 0;
    let tables: { name: string; rows: number }[] = [];
    const record = async (m: Omit<Measurement, 'rowsPerSecond' | 'srcDigest'>) => {
      const measurement = { ...m, rowsPerSecond: rows / (m.wallMs / 1000), srcDigest: await srcDigest() };
      runs.push(measurement);
      console.log(
        `   ${m.operation.padEnd(7)} ${m.tool.padEnd(9)} ${fmtMs(m.wallMs).padStart(8)}  peak ${fmtKiB(m.peakKiB).padStart(9)}  ${fmtBytes(m.archiveBytes).padStart(9)}  ${m.command}`,
      );
    };
    const childEnv = (env: NodeJS.ProcessEnv, tool: ProductTool): NodeJS.ProcessEnv =>
      tool === 'encrypted' ? { ...env, [PASSPHRASE_VARIABLE]: BENCH_PASSPHRASE } : env;

    /** The product's backup, plain or encrypted, measured and recorded. */
    const productBackup = async (round: number, roundDir: string, tool: ProductTool): Promise<WrittenBackup> => {
      const load = os.loadavg()[0]!;
      const timed = await measure(
        `${tool} backup`,
        roundDir,
        [[process.execPath, 'dist/bench/backup-once.js', path.join(roundDir, `archives-${tool}`)]],
        null,
        childEnv(source.env, tool),
      );
      const written = JSON.parse(timed.stdout.trim().split('\n').at(-1)!) as WrittenBackup;
      if (rows !== 0 && written.rows !== rows) throw new BenchError(`the ${tool} backup holds ${written.rows} rows, an earlier one ${rows}`);
      rows = written.rows;
      tables = written.tables;
      await record({
        round,
        operation: 'backup',
        tool,
        command: tool === 'encrypted' ? 'ArchiveSealer.create + writeBackup (full, gzip, AES-256-GCM)' : 'writeBackup (full, gzip)',
        wallMs: timed.wallMs,
        peakKiB: sum(timed.peakKiBByStage),
        peakKiBByStage: timed.peakKiBByStage,
        archiveBytes: written.archiveBytes,
        inProcessMs: written.operationMs,
        ...(tool === 'encrypted' ? { keyMs: written.keyMs } : {}),
        loadAverage: load,
      });
      return written;
    };

    /**
     * The product's restore of what `written` holds into an empty database migrated to the
     * same schema, measured and recorded, then checked (untimed) and dropped.
     */
    const productRestore = async (round: number, roundDir: string, tool: ProductTool, written: WrittenBackup): Promise<void> => {
      let target: string;
      let dropTarget: () => Promise<void>;
      let url: string;
      if (provider === 'sqlite') {
        target = path.join(roundDir, `restore-${tool}.db`);
        createSqliteFile(target);
        url = `file:${target}`;
        dropTarget = () => removeSqliteFile(target);
      } else {
        const db = await createPgDatabase();
        target = db.name;
        url = pgUrl(db.name);
        dropTarget = db.drop;
      }
      await migrateExampleDatabase(parseDatabaseUrl(url));
      const env = productEnv(path.join(work, 'data'), url);
      const load = os.loadavg()[0]!;
      const timed = await measure(`${tool} restore`, roundDir, [[process.execPath, 'dist/bench/restore-once.js', written.archive]], null, childEnv(env, tool));
      const restored = JSON.parse(timed.stdout.trim().split('\n').at(-1)!) as { rows: number; operationMs: number; keyMs: number };
      if (restored.rows !== rows) throw new BenchError(`the ${tool} restore loaded ${restored.rows} rows, the backup has ${rows}`);
      await record({
        round,
        operation: 'restore',
        tool,
        command: tool === 'encrypted' ? 'unlockArchive + readManifest + replaceData(checkedArchiveSource)' : 'readManifest + replaceData(checkedArchiveSource)',
        wallMs: timed.wallMs,
        peakKiB: sum(timed.peakKiBByStage),
        peakKiBByStage: timed.peakKiBByStage,
        archiveBytes: written.archiveBytes,
        inProcessMs: restored.operationMs,
        ...(tool === 'encrypted' ? { keyMs: restored.keyMs } : {}),
        loadAverage: load,
      });
      await checkRestored(`the ${tool} restore`, provider, target, tables);
      // The check's own backup is a plain one: it compares the tables' lines, not the archives.
      await checkSameContent(roundDir, env, written.tables);
      await dropTarget();
    };

    for (let round = 1; round <= repeat; round++) {
      const roundDir = path.join(work, `round-${round}`);
      await mkdir(roundDir);
      // Plain and encrypted take turns going first, so that neither always meets the
      // caches (or the machine's other work) the other left behind.
      const productTools: ProductTool[] = !encryption ? ['product'] : round % 2 === 1 ? ['product', 'encrypted'] : ['encrypted', 'product'];

      // Backup: the product (plain and encrypted), then the baseline.
      const written = new Map<ProductTool, WrittenBackup>();
      for (const tool of productTools) written.set(tool, await productBackup(round, roundDir, tool));

      let load = os.loadavg()[0]!;
      let dumpFile: string;
      let baselineBackup: Timed;
      let baselineCommand: string;
      if (provider === 'sqlite') {
        dumpFile = path.join(roundDir, 'dump.sql.gz');
        baselineCommand = 'sqlite3 DB .dump | gzip';
        baselineBackup = await measure(baselineCommand, roundDir, [['sqlite3', source.where, '.dump'], ['gzip']], dumpFile);
      } else {
        dumpFile = path.join(roundDir, 'dump.pgdump');
        baselineCommand = 'pg_dump -Fc';
        baselineBackup = await measure(
          baselineCommand,
          roundDir,
          [['pg_dump', '-Fc', '-h', PG_HOST, '-p', String(PG_PORT), '-U', PG_USER, '-f', dumpFile, source.where]],
          null,
        );
      }
      const dumpBytes = (await stat(dumpFile)).size;
      await record({
        round,
        operation: 'backup',
        tool: 'baseline',
        command: baselineCommand,
        wallMs: baselineBackup.wallMs,
        peakKiB: sum(baselineBackup.peakKiBByStage),
        peakKiBByStage: baselineBackup.peakKiBByStage,
        archiveBytes: dumpBytes,
        loadAverage: load,
      });

      // Restore: the product (plain and encrypted, each from its own archive) into an empty
      // database migrated to the same schema, then the baseline into an empty database (its
      // dump creates the schema itself).
      for (const tool of productTools) await productRestore(round, roundDir, tool, written.get(tool)!);

      load = os.loadavg()[0]!;
      let baselineRestore: Timed;
      let restoreCommand: string;
      let baselineTarget: string;
      let dropBaselineTarget: () => Promise<void>;
      if (provider === 'sqlite') {
        baselineTarget = path.join(roundDir, 'restore-baseline.db');
        restoreCommand = 'gunzip -c | sqlite3 -bail';
        baselineRestore = await measure(restoreCommand, roundDir, [['gunzip', '-c', dumpFile], ['sqlite3', '-bail', baselineTarget]], null);
        dropBaselineTarget = () => removeSqliteFile(baselineTarget);
      } else {
        const db = await createPgDatabase();
        baselineTarget = db.name;
        dropBaselineTarget = db.drop;
        restoreCommand = 'pg_restore -j 1';
        baselineRestore = await measure(
          restoreCommand,
          roundDir,
          [['pg_restore', '-j', '1', '--exit-on-error', '-h', PG_HOST, '-p', String(PG_PORT), '-U', PG_USER, '-d', db.name, dumpFile]],
          null,
        );
      }
      await record({
        round,
        operation: 'restore',
        tool: 'baseline',
        command: restoreCommand,
        wallMs: baselineRestore.wallMs,
        peakKiB: sum(baselineRestore.peakKiBByStage),
        peakKiBByStage: baselineRestore.peakKiBByStage,
        archiveBytes: dumpBytes,
        loadAverage: load,
      });
      await checkRestored('the baseline restore', provider, baselineTarget, tables);
      await dropBaselineTarget();
      await rm(roundDir, { recursive: true, force: true });
    }

    const of = (operation: Operation, tool: Tool) => {
      const selected = runs.filter((r) => r.operation === operation && r.tool === tool);
      const wallMs = median(selected.map((r) => r.wallMs));
      return {
        wallMs,
        peakKiB: Math.max(...selected.map((r) => r.peakKiB)),
        archiveBytes: median(selected.map((r) => r.archiveBytes)),
        rowsPerSecond: rows / (wallMs / 1000),
      };
    };
    const summarize = (operation: Operation): Summary => {
      const product = of(operation, 'product');
      const baseline = of(operation, 'baseline');
      return {
        product,
        baseline,
        ratio: { time: product.wallMs / baseline.wallMs, size: product.archiveBytes / baseline.archiveBytes, memory: product.peakKiB / baseline.peakKiB },
      };
    };
    const summarizeEncryption = (operation: Operation): EncryptionSummary => {
      const plain = of(operation, 'product');
      const encrypted = of(operation, 'encrypted');
      const keyMs = median(runs.filter((r) => r.operation === operation && r.tool === 'encrypted').map((r) => r.keyMs!));
      return {
        plain,
        encrypted: { ...encrypted, keyMs },
        ratio: { time: encrypted.wallMs / plain.wallMs, size: encrypted.archiveBytes / plain.archiveBytes, memory: encrypted.peakKiB / plain.peakKiB },
      };
    };
    return {
      provider,
      items,
      rows,
      tables,
      seedMs,
      runs,
      summary: { backup: summarize('backup'), restore: summarize('restore') },
      encryption: encryption ? { backup: summarizeEncryption('backup'), restore: summarizeEncryption('restore') } : null,
    };
  } finally {
    // The case's databases and files go now, not at the end: a 1,000,000-item library is big.
    await cleanupFrom(mark);
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

// ---------------------------------------------------------------------------------------
// Report

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}
function fmtKiB(kib: number): string {
  return `${((kib * 1024) / 1e6).toFixed(0)} MB`;
}
function fmtBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
function fmtRate(perSecond: number): string {
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M` : `${Math.round(perSecond / 1000).toLocaleString('en-US')} k`;
}
function fmtRatio(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

const BASELINE_NAMES: Record<Provider, Record<Operation, string>> = {
  sqlite: { backup: '`sqlite3 .dump \\| gzip`', restore: '`gunzip \\| sqlite3`' },
  postgresql: { backup: '`pg_dump -Fc`', restore: '`pg_restore -j 1`' },
};

/** One row of a Markdown table. */
function markdownRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(cases: CaseResult[]): string {
  const lines = [
    '| database | items | rows | operation | baseline | time: product / baseline | ×time | rows/s: product / baseline | archive: product / baseline | ×size | peak RSS: product / baseline | ×memory |',
    '|---|--:|--:|---|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of cases) {
    for (const operation of ['backup', 'restore'] as const) {
      const s = c.summary[operation];
      lines.push(
        markdownRow([
          c.provider === 'sqlite' ? 'SQLite' : 'PostgreSQL',
          c.items.toLocaleString('en-US'),
          c.rows.toLocaleString('en-US'),
          operation,
          BASELINE_NAMES[c.provider][operation],
          `${fmtMs(s.product.wallMs)} / ${fmtMs(s.baseline.wallMs)}`,
          `**${fmtRatio(s.ratio.time)}**`,
          `${fmtRate(s.product.rowsPerSecond)} / ${fmtRate(s.baseline.rowsPerSecond)}`,
          operation === 'backup' ? `${fmtBytes(s.product.archiveBytes)} / ${fmtBytes(s.baseline.archiveBytes)}` : '',
          operation === 'backup' ? `**${fmtRatio(s.ratio.size)}**` : '',
          `${fmtKiB(s.product.peakKiB)} / ${fmtKiB(s.baseline.peakKiB)}`,
          fmtRatio(s.ratio.memory),
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** The issue's targets, judged at the largest size measured (they are set for 1,000,000 items). */
function targets(cases: CaseResult[]): string[] {
  if (cases.length === 0) return [];
  const largest = Math.max(...cases.map((c) => c.items));
  const at = cases.filter((c) => c.items === largest);
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const name = (c: CaseResult) => (c.provider === 'sqlite' ? 'SQLite' : 'PostgreSQL');
  const scope = largest === 1_000_000 ? 'at 1,000,000 items' : `at ${largest.toLocaleString('en-US')} items (the targets are set for 1,000,000; not measured in this run)`;
  const lines: string[] = [];
  for (const operation of ['backup', 'restore'] as const) {
    const parts = at.map((c) => `${name(c)} ${fmtRatio(c.summary[operation].ratio.time)}`);
    lines.push(`- ${operation} time ≤ 1.0× the baseline's, ${scope}: ${verdict(at.every((c) => c.summary[operation].ratio.time <= 1.0))} (${parts.join(', ')})`);
  }
  lines.push(
    `- archive size ≤ 1.1× the baseline's, ${scope}: ${verdict(at.every((c) => c.summary.backup.ratio.size <= 1.1))} (${at.map((c) => `${name(c)} ${fmtRatio(c.summary.backup.ratio.size)}`).join(', ')})`,
  );
  const peaks = cases.flatMap((c) => c.runs.filter((r) => r.tool === 'product').map((r) => r.peakKiB));
  const worst = Math.max(...peaks);
  lines.push(`- product peak memory < 200 MB at every size measured: ${verdict(worst < MEMORY_TARGET_KIB)} (highest ${fmtKiB(worst)})`);
  const encrypted = at.filter((c) => c.encryption);
  if (encrypted.length > 0) {
    const ratios = (c: CaseResult) => `${name(c)} backup ${fmtRatio(c.encryption!.backup.ratio.time)}, restore ${fmtRatio(c.encryption!.restore.ratio.time)}`;
    const met = encrypted.every((c) => c.encryption!.backup.ratio.time <= ENCRYPTION_TIME_TARGET && c.encryption!.restore.ratio.time <= ENCRYPTION_TIME_TARGET);
    lines.push(`- encryption overhead ≤ ${fmtRatio(ENCRYPTION_TIME_TARGET)} the plain product's time, ${scope}: ${verdict(met)} (${encrypted.map(ratios).join('; ')})`);
    const encryptedPeak = Math.max(...cases.flatMap((c) => c.runs.filter((r) => r.tool === 'encrypted').map((r) => r.peakKiB)));
    lines.push(`- encrypted product peak memory < 200 MB at every size measured: ${verdict(encryptedPeak < MEMORY_TARGET_KIB)} (highest ${fmtKiB(encryptedPeak)})`);
  }
  return lines;
}

/** The second table: the product's encrypted runs against its plain ones; null with --no-encryption. */
function encryptionTable(cases: CaseResult[]): string | null {
  const measured = cases.filter((c) => c.encryption);
  if (measured.length === 0) return null;
  const lines = [
    '| database | items | operation | time: plain / encrypted | ×time | of which scrypt | archive: plain / encrypted | peak RSS: plain / encrypted | ×memory |',
    '|---|--:|---|--:|--:|--:|--:|--:|--:|',
  ];
  for (const c of measured) {
    for (const operation of ['backup', 'restore'] as const) {
      const s = c.encryption![operation];
      lines.push(
        markdownRow([
          c.provider === 'sqlite' ? 'SQLite' : 'PostgreSQL',
          c.items.toLocaleString('en-US'),
          operation,
          `${fmtMs(s.plain.wallMs)} / ${fmtMs(s.encrypted.wallMs)}`,
          `**${fmtRatio(s.ratio.time)}**`,
          fmtMs(s.encrypted.keyMs),
          operation === 'backup' ? `${fmtBytes(s.plain.archiveBytes)} / ${fmtBytes(s.encrypted.archiveBytes)}` : '',
          `${fmtKiB(s.plain.peakKiB)} / ${fmtKiB(s.encrypted.peakKiB)}`,
          fmtRatio(s.ratio.memory),
        ]),
      );
    }
  }
  return lines.join('\n');
}

/** Both tables, the encryption one under its own heading when it was measured. */
function tables(cases: CaseResult[]): string[] {
  const second = encryptionTable(cases);
  return [table(cases), ...(second ? ['', 'Encryption (the product encrypted ÷ the product plain, same run):', '', second] : [])];
}

async function commandVersion(command: string, args: string[]): Promise<string> {
  try {
    return (await runChild(command, command, args)).stdout.trim().split('\n')[0]!;
  } catch {
    return 'unavailable';
  }
}

async function machineInfo(providers: Provider[]) {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    cpu,
    cores: os.cpus().length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite3: providers.includes('sqlite') ? (await commandVersion('sqlite3', ['--version'])).split(' ')[0]! : null,
    pgDump: providers.includes('postgresql') ? await commandVersion('pg_dump', ['--version']) : null,
    postgresServer: providers.includes('postgresql') ? await psql('SHOW server_version').catch(() => 'unavailable') : null,
    loadAverageAtStart: os.loadavg(),
  };
}

type Machine = Awaited<ReturnType<typeof machineInfo>>;

function machineLine(machine: Machine): string {
  const parts = [
    `${machine.cpu}, ${machine.cores} cores, ${(machine.memoryBytes / 1024 ** 3).toFixed(0)} GiB RAM`,
    machine.os,
    `Node ${machine.node}`,
    machine.sqlite3 ? `SQLite ${machine.sqlite3}` : null,
    machine.postgresServer ? `PostgreSQL ${machine.postgresServer.split(' ')[0]} (${machine.pgDump})` : null,
  ];
  return parts.filter(Boolean).join('; ');
}

const METHOD_NOTES = [
  'Ratios are product ÷ baseline: below 1.0× the product is faster, smaller or leaner.',
  'Every command is its own process under GNU time; wall time is measured around it, process start-up included (for the product that is Node loading the compiled build under dist/, as `npm start` runs it; see `inProcessMs` in the JSON). Peak RSS is GNU time\'s "Maximum resident set size"; for a pipeline it is the sum of its stages\' peaks. The database server\'s own memory (PostgreSQL backends) is not counted, for either side.',
  'Product backup: `writeBackup` of every table, media included, gzip (level `GZIP_LEVEL` in src/engine/tar-gz-assembler.ts), no encryption, into a local folder (bench/backup-once.ts), the engine call `createBackup` makes, without the control database\'s run record.',
  'Product restore: the manifest, then `replaceData` in one transaction from one pass over the archive that checks every entry against its SHA-256 and row count as it loads it (`checkedArchiveSource`; a mismatch rolls the transaction back) (bench/restore-once.ts), into an empty database already migrated to the same schema (the app migrates at start-up; not timed). Not included: the pre-restore safety backup and the target files, which a restore through the API adds.',
  'The product runs from the compiled build with `MALLOC_ARENA_MAX=2`, as `npm start` runs it: with glibc\'s default of up to eight malloc arenas per core, the threads of a SQLite backup with two readers (the main thread, the reader\'s worker, zlib\'s thread pool) left about 35 MB more resident at the peak (100,000 items: 205 MB against 170 MB, medians of three runs).',
  'Like `npm start` (src/main.ts), the product\'s bench children fix V8\'s heap growth between full collections at 30 % (`limitHeapGrowth`, src/util/heap-growth.ts): with V8\'s own factor of up to 4, a 1,000,000-item SQLite restore peaked at 205 MB, most of it garbage.',
  'Before every measured command, untimed, the kernel writes back dirty pages (`sync`) and PostgreSQL checkpoints (`CHECKPOINT`), so no command pays for the writes the one before it left.',
  'Baseline restores go into a truly empty database (a new SQLite file; a new PostgreSQL database) and create the schema from the dump themselves, the way those tools are used to restore; `pg_restore` builds indexes and constraints after loading the data. SQLite sources and the product\'s restore target are in WAL mode; `sqlite3` restores into a new file in its default journal mode.',
  'Encrypted runs (unless `--no-encryption`): the same backup with a passphrase, as `createBackup` makes it: `ArchiveSealer.create` (scrypt N = 2^17, r = 8, p = 1, once per archive) then `writeBackup` sealing the tar.gz in AES-256-GCM chunks (docs/FORMAT.md); and the restore of that archive as a restore through the API does it: `unlockArchive` (header read, scrypt, key check), then the manifest and the one checked pass of `replaceData`, decrypting the archive as it reads it. Both times include scrypt (the "of which scrypt" column, `keyMs` in the JSON). In each round the plain and encrypted product runs follow each other, the first of them alternating from round to round.',
  'Every restore is checked afterwards (untimed): each table holds the rows the manifest lists, and what the product restored (plain or encrypted) is backed up again, which must give every table byte for byte (the same SHA-256) as the archive restored.',
  'Rows per second: the rows of all tables (the manifest\'s count) ÷ wall time, for both sides. MB are 10^6 bytes.',
  'Timings are noisy on a small or shared machine: the 1-minute load average before each run is in the JSON (`loadAverage`). Use `--repeat N` for medians.',
];

// ---------------------------------------------------------------------------------------

function parseOptions() {
  const usage = 'usage: npm run bench -- [--sizes 10000,100000,1000000] [--providers sqlite,postgresql] [--repeat N] [--no-encryption]';
  let values: { sizes?: string; providers?: string; repeat?: string; encryption?: boolean };
  try {
    values = parseArgs({
      options: { sizes: { type: 'string' }, providers: { type: 'string' }, repeat: { type: 'string' }, encryption: { type: 'boolean', default: true } },
      allowNegative: true,
    }).values;
  } catch (error) {
    throw new BenchError(`${firstLine(error)} (${usage})`);
  }
  const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);
  const sizes = list(values.sizes ?? '10000,100000,1000000').map((s) => {
    const n = Number(s.replace(/_/g, ''));
    if (!/^[\d_]+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new BenchError(`--sizes: "${s}" is not a positive whole number (${usage})`);
    return n;
  });
  const providers = list(values.providers ?? 'sqlite,postgresql').map((p) => {
    if (p !== 'sqlite' && p !== 'postgresql') throw new BenchError(`--providers: "${p}" is neither sqlite nor postgresql (${usage})`);
    return p as Provider;
  });
  const repeat = Number(values.repeat ?? '1');
  if (!/^\d+$/.test(values.repeat ?? '1') || repeat < 1) throw new BenchError(`--repeat must be a positive whole number (${usage})`);
  if (sizes.length === 0 || providers.length === 0) throw new BenchError(usage);
  return { sizes, providers, repeat, encryption: values.encryption ?? true };
}

async function requireTools(providers: Provider[]): Promise<void> {
  const needed = ['bash', 'sync', GNU_TIME, ...(providers.includes('sqlite') ? ['sqlite3', 'gzip', 'gunzip'] : []), ...(providers.includes('postgresql') ? ['psql', 'pg_dump', 'pg_restore'] : [])];
  for (const tool of needed) {
    try {
      await runChild(tool, 'bash', ['-c', `command -v "${tool}"`]);
    } catch {
      throw new BenchError(`${tool} is not installed (Debian: apt-get install ${tool === GNU_TIME ? 'time' : tool === 'sqlite3' ? 'sqlite3' : tool.startsWith('pg') || tool === 'psql' ? 'postgresql-client' : tool})`);
    }
  }
  if (providers.includes('postgresql')) {
    await psql('SELECT 1').catch((error: unknown) => {
      throw new BenchError(`PostgreSQL at ${PG_HOST}:${PG_PORT} (user ${PG_USER}) is not reachable: ${firstLine(error)}`);
    });
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  await requireTools(options.providers);
  settlePostgres = options.providers.includes('postgresql');
  const startedAt = new Date();
  const machine = await machineInfo(options.providers);
  const code = { ...(await gitState()), srcDigestAtStart: await srcDigest() };
  console.log(`bench: code at ${code.commit.slice(0, 12)}${code.srcChangedSinceCommit ? ' with uncommitted changes under src/' : ''}`);
  console.log(`bench: ${machineLine(machine)}`);
  console.log(`bench: sizes ${options.sizes.join(', ')}; ${options.providers.join(', ')}; ${options.repeat} round(s) each; encryption ${options.encryption ? 'measured' : 'not measured'}`);

  const cases: CaseResult[] = [];
  let failure: string | null = null;
  try {
    for (const items of options.sizes) {
      for (const provider of options.providers) cases.push(await runCase(provider, items, options.repeat, options.encryption));
    }
  } catch (error) {
    failure = error instanceof BenchError ? error.message : (error as Error).stack ?? String(error);
  } finally {
    await cleanupAll();
  }

  const finishedAt = new Date();
  const result = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    options,
    machine: { ...machine, loadAverageAtEnd: os.loadavg() },
    code,
    notes: METHOD_NOTES,
    error: failure,
    cases,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const jsonFile = path.join(RESULTS_DIR, `${startedAt.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  if (cases.length > 0 || failure === null) await writeFile(jsonFile, JSON.stringify(result, null, 2) + '\n');

  if (failure !== null) {
    if (cases.length > 0) console.error(`bench: the cases finished before the failure are in ${path.relative(PROJECT_ROOT, jsonFile)}`);
    throw new BenchError(failure);
  }

  const digests = new Set([code.srcDigestAtStart, ...cases.flatMap((c) => c.runs.map((r) => r.srcDigest))]);
  const codeLine =
    digests.size > 1
      ? `**Warning: the build under dist/ changed during this run (${digests.size} versions); rows may compare different engine versions (see \`srcDigest\` per run in the JSON).**`
      : `Code: commit ${code.commit.slice(0, 12)}${code.srcChangedSinceCommit ? ', with uncommitted changes under src/' : ''}, unchanged during the run.`;
  if (digests.size > 1) console.error(`bench: warning: the source under src/ changed during the run (${digests.size} versions)`);
  const markdown = [
    `Measured ${finishedAt.toISOString().slice(0, 10)} on ${machineLine(machine)}; load average ${machine.loadAverageAtStart.map((n) => n.toFixed(1)).join(' ')} at the start. ` +
      `${options.repeat === 1 ? 'One round per case' : `Median of ${options.repeat} rounds per case`}, product and baseline alternating${options.encryption ? ', the product plain and encrypted' : ''}.`,
    '',
    codeLine,
    '',
    ...tables(cases),
    '',
    'Targets:',
    '',
    ...targets(cases),
    '',
    ...METHOD_NOTES.map((note) => `- ${note}`),
    '',
    `Raw results: \`bench/results/${path.basename(jsonFile)}\`.`,
    '',
  ].join('\n');
  await writeFile(path.join(RESULTS_DIR, 'latest.md'), markdown);
  console.log('\n' + tables(cases).join('\n') + '\n\n' + targets(cases).join('\n'));
  console.log(`\nbench: wrote ${path.relative(PROJECT_ROOT, jsonFile)} and bench/results/latest.md`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof BenchError ? error.message : ((error as Error).stack ?? String(error))}`);
  process.exitCode = 1;
});
