// The benchmark's child processes: each runs in the project's folder to its end, and a failure
// is one line; all still running are stopped together when the run is.
import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT } from '../src/core/config.ts';
import { BenchError } from './bench-error.ts';

const running = new Set<ChildProcess>();

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Forward the child's stdout to ours (seeding progress) instead of capturing it. */
  showOutput?: boolean;
}

export interface ChildOutput {
  stdout: string;
}

/** Runs a command to its end; anything but exit code 0 is a BenchError with its last error line. */
export function runChild(label: string, command: string, args: string[], options: ChildOptions = {}): Promise<ChildOutput> {
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

/** Sends SIGTERM to every child still running. */
export function stopChildren(): void {
  for (const child of running) child.kill('SIGTERM');
}
