// The report: the markdown tables (ratios are product ÷ baseline, encrypted ÷ plain) and the
// issue's targets, printed and written to bench/results/latest.md beside the run's JSON,
// bench/results/<time>.json.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/core/config.ts';
import type { Provider } from '../src/prisma/database-url.ts';
import { BenchError } from './bench-error.ts';
import type { CaseResult, Operation } from './case-result.ts';
import { fmtBytes, fmtKiB, fmtMs, fmtRate, fmtRatio, markdownRow } from './format.ts';
import { machineLine, type Machine } from './machine.ts';
import { METHOD_NOTES } from './method-notes.ts';

const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');
/** The issue's memory target: under 200 MB (10^6 bytes) of peak RSS at every size. */
const MEMORY_TARGET_KIB = (200 * 1000 * 1000) / 1024;
/** The issue's encryption target: encrypted wall time ≤ 1.10× the plain product's. */
const ENCRYPTION_TIME_TARGET = 1.1;

/** The command line's choices, as the JSON records them. */
export interface BenchOptions {
  sizes: number[];
  providers: Provider[];
  repeat: number;
  encryption: boolean;
}

const BASELINE_NAMES: Record<Provider, Record<Operation, string>> = {
  sqlite: { backup: '`sqlite3 .dump \\| gzip`', restore: '`gunzip \\| sqlite3`' },
  postgresql: { backup: '`pg_dump -Fc`', restore: '`pg_restore -j 1`' },
};

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
  const scope =
    largest === 1_000_000
      ? 'at 1,000,000 items'
      : `at ${largest.toLocaleString('en-US')} items (the targets are set for 1,000,000; not measured in this run)`;
  const lines: string[] = [];
  for (const operation of ['backup', 'restore'] as const) {
    const parts = at.map((c) => `${name(c)} ${fmtRatio(c.summary[operation].ratio.time)}`);
    lines.push(
      `- ${operation} time ≤ 1.0× the baseline's, ${scope}: ${verdict(at.every((c) => c.summary[operation].ratio.time <= 1.0))} (${parts.join(', ')})`,
    );
  }
  lines.push(
    `- archive size ≤ 1.1× the baseline's, ${scope}: ${verdict(at.every((c) => c.summary.backup.ratio.size <= 1.1))} (${at.map((c) => `${name(c)} ${fmtRatio(c.summary.backup.ratio.size)}`).join(', ')})`,
  );
  const peaks = cases.flatMap((c) => c.runs.filter((r) => r.tool === 'product').map((r) => r.peakKiB));
  const worst = Math.max(...peaks);
  lines.push(`- product peak memory < 200 MB at every size measured: ${verdict(worst < MEMORY_TARGET_KIB)} (highest ${fmtKiB(worst)})`);
  const encrypted = at.filter((c) => c.encryption);
  if (encrypted.length > 0) {
    const ratios = (c: CaseResult) =>
      `${name(c)} backup ${fmtRatio(c.encryption!.backup.ratio.time)}, restore ${fmtRatio(c.encryption!.restore.ratio.time)}`;
    const met = encrypted.every(
      (c) => c.encryption!.backup.ratio.time <= ENCRYPTION_TIME_TARGET && c.encryption!.restore.ratio.time <= ENCRYPTION_TIME_TARGET,
    );
    lines.push(
      `- encryption overhead ≤ ${fmtRatio(ENCRYPTION_TIME_TARGET)} the plain product's time, ${scope}: ${verdict(met)} (${encrypted.map(ratios).join('; ')})`,
    );
    const encryptedPeak = Math.max(...cases.flatMap((c) => c.runs.filter((r) => r.tool === 'encrypted').map((r) => r.peakKiB)));
    lines.push(
      `- encrypted product peak memory < 200 MB at every size measured: ${verdict(encryptedPeak < MEMORY_TARGET_KIB)} (highest ${fmtKiB(encryptedPeak)})`,
    );
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

export interface RunRecord {
  startedAt: Date;
  options: BenchOptions;
  machine: Machine;
  code: { commit: string; srcChangedSinceCommit: boolean; srcDigestAtStart: string };
  /** What stopped the run; the cases finished before it are still written. */
  failure: string | null;
  cases: CaseResult[];
}

/**
 * Writes bench/results/<time>.json (unless the run failed before any case finished); then a
 * failed run is a BenchError, and a finished one writes latest.md and prints its tables.
 */
export async function writeReport({ startedAt, options, machine, code, failure, cases }: RunRecord): Promise<void> {
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
  const jsonFile = path.join(
    RESULTS_DIR,
    `${startedAt
      .toISOString()
      .replace(/:/g, '-')
      .replace(/\.\d+Z$/, 'Z')}.json`,
  );
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
