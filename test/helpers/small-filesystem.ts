// A folder on a small tmpfs, so that a disk really fills up (mounting needs root).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';

/** A folder on a tmpfs of `bytes`, unmounted after the test; null (the test is skipped) where mounting is not allowed. */
export async function smallFilesystem(t: TestContext, bytes: number): Promise<string | null> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'bcp-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', folder], { stdio: 'pipe' });
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here: ${String((error as Error).message).split('\n')[0]}`);
    return null;
  }
  t.after(async () => {
    execFileSync('umount', ['-l', folder]); // lazily: a server still closing may hold the folder
    await rm(folder, { recursive: true, force: true });
  });
  return folder;
}

/** Fills the folder's filesystem with someone else's file until `room` bytes are left; returns that file. */
export async function leaveRoom(folder: string, room: number): Promise<string> {
  const info = await statfs(folder);
  const filler = path.join(folder, 'someone-elses-file');
  await writeFile(filler, Buffer.alloc(info.bavail * info.bsize - room));
  return filler;
}
