// Which code a run measured: a digest of the build under dist/, and the git commit it was
// built from, with whether src/ had changed since.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/core/config.ts';
import { runChild } from './processes.ts';

/**
 * A digest of the code the measured children run: the build under dist/ (src/ and
 * bench/ compiled, generated clients aside), made once when the run starts. A rebuild
 * during a run shows here; editing src/ does not change what is measured.
 */
export async function srcDigest(): Promise<string> {
  const hash = createHash('sha256');
  const generated = path.join(PROJECT_ROOT, 'dist', 'src', 'generated');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (full !== generated) await walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.js')) {
        hash
          .update(path.relative(PROJECT_ROOT, full))
          .update('\0')
          .update(await readFile(full))
          .update('\0');
      }
    }
  };
  await walk(path.join(PROJECT_ROOT, 'dist', 'src'));
  await walk(path.join(PROJECT_ROOT, 'dist', 'bench'));
  return hash.digest('hex').slice(0, 16);
}

export async function gitState(): Promise<{ commit: string; srcChangedSinceCommit: boolean }> {
  try {
    const commit = (await runChild('git rev-parse', 'git', ['rev-parse', 'HEAD'])).stdout.trim();
    const status = (await runChild('git status', 'git', ['status', '--porcelain', '--', 'src'])).stdout.trim();
    return { commit, srcChangedSinceCommit: status !== '' };
  } catch {
    return { commit: 'unknown (not a git checkout)', srcChangedSinceCommit: false };
  }
}
