// `npm run bench -- [--sizes 10000,100000,1000000] [--providers sqlite,postgresql] [--repeat N] [--no-encryption]`:
// the benchmark of issue 6, the product against sqlite3 / pg_dump for each size on each database
// (bench/cases.ts); prints the tables and writes bench/results/ (bench/report.ts).
import { parseArgs } from 'node:util';
import type { Provider } from '../src/prisma/database-url.ts';
import { BenchError, failureText, firstLine } from './bench-error.ts';
import type { CaseResult } from './case-result.ts';
import { runCase } from './cases.ts';
import { cleanupAll } from './cleanup.ts';
import { gitState, srcDigest } from './code-digest.ts';
import { PG_HOST, PG_PORT, PG_USER, psql } from './databases.ts';
import { machineInfo, machineLine } from './machine.ts';
import { GNU_TIME, setSettlePostgres } from './measure.ts';
import { runChild, stopChildren } from './processes.ts';
import { writeReport, type BenchOptions } from './report.ts';

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\nbench: stopped by ${signal}; cleaning up`);
    stopChildren();
    // Give the children a moment to let go of their databases.
    setTimeout(() => void cleanupAll().finally(() => process.exit(130)), 500);
  });
}

function parseOptions(): BenchOptions {
  const usage = 'usage: npm run bench -- [--sizes 10000,100000,1000000] [--providers sqlite,postgresql] [--repeat N] [--no-encryption]';
  let values: { sizes?: string; providers?: string; repeat?: string; encryption?: boolean };
  try {
    values = parseArgs({
      options: {
        sizes: { type: 'string' },
        providers: { type: 'string' },
        repeat: { type: 'string' },
        encryption: { type: 'boolean', default: true },
      },
      allowNegative: true,
    }).values;
  } catch (error) {
    throw new BenchError(`${firstLine(error)} (${usage})`);
  }
  const list = (text: string) =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const sizes = list(values.sizes ?? '10000,100000,1000000').map((s) => {
    const n = Number(s.replace(/_/g, ''));
    if (!/^[\d_]+$/.test(s) || !Number.isSafeInteger(n) || n < 1)
      throw new BenchError(`--sizes: "${s}" is not a positive whole number (${usage})`);
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
  const needed = [
    'bash',
    'sync',
    GNU_TIME,
    ...(providers.includes('sqlite') ? ['sqlite3', 'gzip', 'gunzip'] : []),
    ...(providers.includes('postgresql') ? ['psql', 'pg_dump', 'pg_restore'] : []),
  ];
  for (const tool of needed) {
    try {
      await runChild(tool, 'bash', ['-c', `command -v "${tool}"`]);
    } catch {
      throw new BenchError(
        `${tool} is not installed (Debian: apt-get install ${tool === GNU_TIME ? 'time' : tool === 'sqlite3' ? 'sqlite3' : tool.startsWith('pg') || tool === 'psql' ? 'postgresql-client' : tool})`,
      );
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
  setSettlePostgres(options.providers.includes('postgresql'));
  const startedAt = new Date();
  const machine = await machineInfo(options.providers);
  const code = { ...(await gitState()), srcDigestAtStart: await srcDigest() };
  console.log(`bench: code at ${code.commit.slice(0, 12)}${code.srcChangedSinceCommit ? ' with uncommitted changes under src/' : ''}`);
  console.log(`bench: ${machineLine(machine)}`);
  console.log(
    `bench: sizes ${options.sizes.join(', ')}; ${options.providers.join(', ')}; ${options.repeat} round(s) each; encryption ${options.encryption ? 'measured' : 'not measured'}`,
  );

  const cases: CaseResult[] = [];
  let failure: string | null = null;
  try {
    for (const items of options.sizes) {
      for (const provider of options.providers) cases.push(await runCase(provider, items, options.repeat, options.encryption));
    }
  } catch (error) {
    failure = failureText(error);
  } finally {
    await cleanupAll();
  }
  await writeReport({ startedAt, options, machine, code, failure, cases });
}

main().catch((error: unknown) => {
  console.error(`bench: ${failureText(error)}`);
  process.exitCode = 1;
});
