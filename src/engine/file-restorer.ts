// Puts the target's files back: each is written beside its destination first, and only
// renamed into place once the database has committed, so a failed restore changes no
// file and a finished one replaces each file atomically. Destinations come from the
// current configuration (TARGET_FILES), never from the archive.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openTarGz } from './archive.ts';
import type { Manifest } from './manifest.ts';
import { archiveRoots } from './target-files.ts';

export interface StagedFileRestore {
  /** Archive paths whose root is not configured any more: left out. */
  skipped: string[];
  /** Moves every staged file into place; returns the destinations. */
  commit(): Promise<string[]>;
  /** Removes the staged files; the destinations are untouched. */
  discard(): Promise<void>;
}

export async function stageFileRestore(manifest: Manifest, archive: Readable, configuredSources: string[]): Promise<StagedFileRestore> {
  const roots = archiveRoots(configuredSources);
  const destinations = new Map<string, { destination: string; mode: number }>();
  const skipped: string[] = [];
  for (const file of manifest.files) {
    const root = manifest.fileRoots.find((r) => file.path === r.path || file.path.startsWith(`${r.path}/`));
    const source = root && roots.get(root.path);
    if (!root || !source) {
      skipped.push(file.path);
      continue;
    }
    const relative = file.path.slice(root.path.length + 1);
    const destination = relative ? path.resolve(source, ...relative.split('/')) : path.resolve(source);
    const inside = path.relative(path.resolve(source), destination);
    if (inside.startsWith('..') || path.isAbsolute(inside)) throw new Error(`${file.path} would be written outside ${source}`);
    destinations.set(file.path, { destination, mode: file.mode });
  }

  const staged: { temp: string; destination: string }[] = [];
  const discard = async () => {
    await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
  };
  try {
    const reader = openTarGz(archive);
    try {
      for await (const entry of reader.entries) {
        const target = destinations.get(entry.header.name);
        if (!target) {
          entry.resume();
          continue;
        }
        await mkdir(path.dirname(target.destination), { recursive: true });
        const temp = `${target.destination}.restoring-${randomBytes(4).toString('hex')}`;
        staged.push({ temp, destination: target.destination });
        const handle = await open(temp, 'wx', target.mode);
        await pipeline(entry, createWriteStream('', { fd: handle.fd, autoClose: false }));
        await handle.sync();
        await handle.close();
      }
    } finally {
      reader.close();
    }
  } catch (error) {
    await discard();
    throw error;
  }

  return {
    skipped,
    discard,
    async commit() {
      for (const { temp, destination } of staged) await rename(temp, destination);
      for (const dir of new Set(staged.map(({ destination }) => path.dirname(destination)))) {
        const handle = await open(dir, 'r');
        await handle.sync().finally(() => handle.close());
      }
      return staged.map(({ destination }) => destination);
    },
  };
}
