// The names a restore stages target files under (`<name>.restoring-<8 hex>`, beside each
// destination): made here, removed at start-up when a killed restore left them, never archived.
import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';

const STAGING_NAME = /^(.+)\.restoring-[0-9a-f]{8}$/;

/** A new staging path beside `destination`. */
export function stagingPathFor(destination: string): string {
  return `${destination}.restoring-${randomBytes(4).toString('hex')}`;
}

/** Whether a file name is one `stagingPathFor` makes. */
export function isStagingName(name: string): boolean {
  return STAGING_NAME.test(name);
}

/**
 * Removes the staging files a killed restore left beside each configured path and anywhere
 * under a configured folder, regular files only; returns their paths. Call it before any
 * restore can start: a running restore's staged files have the same names.
 */
export async function removeTargetFileLeftovers(sources: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const source of sources) {
    const parent = path.dirname(source);
    for (const name of await namesIn(parent)) {
      if (STAGING_NAME.exec(name)?.[1] === path.basename(source)) await removeFile(path.join(parent, name), removed);
    }
    if ((await stat(source).catch(() => null))?.isDirectory()) await removeUnder(source, removed);
  }
  return removed;
}

/** Walks the folder as the backup's staging does (symbolic links followed), so what it would archive is cleaned. */
async function removeUnder(dir: string, removed: string[]): Promise<void> {
  for (const name of await namesIn(dir)) {
    const full = path.join(dir, name);
    if ((await stat(full).catch(() => null))?.isDirectory()) await removeUnder(full, removed);
    else if (isStagingName(name)) await removeFile(full, removed);
  }
}

async function removeFile(file: string, removed: string[]): Promise<void> {
  if (!(await lstat(file).catch(() => null))?.isFile()) return;
  await rm(file, { force: true });
  removed.push(file);
}

async function namesIn(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
}
