// How a command is measured: as a child process under GNU time (`/usr/bin/time -v`); its peak
// memory is the kernel's maximum resident set size, not a sample; its wall time is taken around
// the child, start-up included.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { BenchError } from './bench-error.ts';
import { psql } from './databases.ts';
import { runChild } from './processes.ts';

export const GNU_TIME = '/usr/bin/time';

export interface Timed {
  wallMs: number;
  /** One peak per stage; a pipeline's peak is their sum. */
  peakKiBByStage: number[];
  stdout: string;
}

/**
 * Runs a measured command. `stages` are the commands of a pipeline (one for a single
 * process), joined with `|` under bash with pipefail; `redirect` is the last stage's
 * output file. Each stage runs under its own GNU time.
 */
export async function measure(
  label: string,
  work: string,
  stages: string[][],
  redirect: string | null,
  env?: NodeJS.ProcessEnv,
): Promise<Timed> {
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

/** GNU time's report of one process: its maximum resident set size in KiB. */
async function readPeakKiB(timeFile: string): Promise<number> {
  const report = await readFile(timeFile, 'utf8');
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  if (!match) throw new BenchError(`no "Maximum resident set size" in GNU time's report ${timeFile}`);
  return Number(match[1]);
}

/** Whether PostgreSQL is measured in this run, so `settle` checkpoints it. */
let settlePostgres = false;

export function setSettlePostgres(on: boolean): void {
  settlePostgres = on;
}

/**
 * Untimed, before every measured command: the kernel writes back the dirty pages the last
 * command left (`sync`), and PostgreSQL checkpoints. A restore leaves gigabytes to write
 * back; without this, whichever command came next paid for them, product or baseline.
 */
async function settle(): Promise<void> {
  await runChild('sync', 'sync', []);
  if (settlePostgres) await psql('CHECKPOINT');
}
