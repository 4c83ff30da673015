// Runs the command-line tool as a user does, through its bin in a process of its own, with no
// terminal (stdin closed); and dumps compared as the tool's restores leave them.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/core/config.ts';
import { withoutMigrationHistory } from './dumps.ts';

export const CLI_BIN = path.join(PROJECT_ROOT, 'bin', 'backup-control-plane.mjs');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node bin/backup-control-plane.mjs ...args` with `env` added to this process's environment (LOG_LEVEL left out). */
export function runCli(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CliRun> {
  const { LOG_LEVEL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every line of stdout as JSON (with --json, nothing else may be there). */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * A dump as a restore into a new database gives it back: its own migration history (SQLite's
 * INSERTs, PostgreSQL's COPY block), and SQLite's AUTOINCREMENT counters (`sqlite_sequence`)
 * in the order the restore set them, not the order the app first wrote them in; their values
 * must be the same.
 */
export function restoredDump(dump: string): string {
  const lines = withoutMigrationHistory(dump).split('\n');
  const copy = lines.findIndex((line) => line.startsWith('COPY public._prisma_migrations '));
  if (copy >= 0) lines.splice(copy + 1, lines.indexOf('\\.', copy) - copy - 1);
  const counters = lines.filter((line) => line.startsWith('INSERT INTO sqlite_sequence ')).sort();
  return [...lines.filter((line) => !line.startsWith('INSERT INTO sqlite_sequence ')), ...counters].join('\n');
}
