// `npm start`'s entry point in a process of its own, for start-ups that are meant to fail: it
// resolves with the exit code and stderr; a server that starts anyway is stopped.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/core/config.ts';

export interface Exited {
  code: number | null;
  stderr: string;
}

export function startProcess(env: Record<string, string>): Promise<Exited> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src/main.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    // A server that started is a failed expectation: stop it so the test ends.
    if (chunk.toString().includes('listening on')) child.kill('SIGTERM');
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}
