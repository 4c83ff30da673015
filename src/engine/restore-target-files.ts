// Puts the target's files back: each is written beside its destination and renamed into place
// only once the database has committed, so a failed restore changes no file. Destinations come
// from the current configuration (TARGET_FILES), never from the archive.
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openTarGz } from '../archive/archive-reader.ts';
import type { Manifest } from '../archive/manifest.ts';
import { archiveRoots } from './stage-target-files.ts';
import { isStagingName, stagingPathFor } from './target-file-leftovers.ts';

/** Group and others never get write access to a restored file or folder, whatever the archive says. */
const NOT_WRITABLE_BY_OTHERS = 0o022;
/** Folders a restore has to create, before the umask. */
const FOLDER_MODE = 0o777 & ~NOT_WRITABLE_BY_OTHERS;

/** The archive's mode, as a restore applies it: permission bits only (no setuid, setgid, sticky), never group- or other-writable; the umask applies too. */
function restoredFileMode(recorded: number): number {
  return recorded & 0o777 & ~NOT_WRITABLE_BY_OTHERS;
}

export interface StagedFileRestore {
  /** Archive paths whose root is not configured any more, or a restore's staging file an older backup holds: left out. */
  skipped: string[];
  /** Moves every staged file into place, each replaced atomically by a rename; returns the destinations. */
  commit(): Promise<string[]>;
  /** Removes the staged files; the destinations are untouched. */
  discard(): Promise<void>;
}

/** Stages the files an archive's entries hold, one entry at a time, as a restore reads them. */
export interface FileStager extends StagedFileRestore {
  /** Writes the entry's bytes beside its destination; an entry that is not a configured file is skipped. */
  stage(entryPath: string, chunks: AsyncIterable<Buffer>): Promise<void>;
}

/** Reads the archive's files and stages them all (a restore that reads the archive for its files alone). */
export async function stageFileRestore(manifest: Manifest, archive: Readable, configuredSources: string[]): Promise<StagedFileRestore> {
  const stager = fileStager(manifest, configuredSources);
  try {
    const reader = openTarGz(archive);
    try {
      for await (const entry of reader.entries) await stager.stage(entry.header.name, entry as AsyncIterable<Buffer>);
    } finally {
      reader.close();
    }
  } catch (error) {
    await stager.discard();
    throw error;
  }
  return stager;
}

/** Where each of the manifest's files goes, from the current configuration; throws for a path that would leave its root. */
export function fileStager(manifest: Manifest, configuredSources: string[]): FileStager {
  const roots = archiveRoots(configuredSources);
  const destinations = new Map<string, { destination: string; mode: number }>();
  const skipped: string[] = [];
  for (const file of manifest.files) {
    const root = manifest.fileRoots.find((r) => file.path === r.path || file.path.startsWith(`${r.path}/`));
    const source = root && roots.get(root.path);
    if (!root || !source || isStagingName(path.posix.basename(file.path))) {
      skipped.push(file.path);
      continue;
    }
    const relative = file.path.slice(root.path.length + 1);
    const destination = relative ? path.resolve(source, ...relative.split('/')) : path.resolve(source);
    const inside = path.relative(path.resolve(source), destination);
    if (inside.startsWith('..') || path.isAbsolute(inside)) throw new Error(`${file.path} would be written outside ${source}`);
    destinations.set(file.path, { destination, mode: restoredFileMode(file.mode) });
  }

  const staged: { temp: string; destination: string }[] = [];
  return {
    skipped,
    async stage(entryPath, chunks) {
      const target = destinations.get(entryPath);
      if (!target) {
        for await (const _ of chunks);
        return;
      }
      await mkdir(path.dirname(target.destination), { recursive: true, mode: FOLDER_MODE });
      const owner = await stat(target.destination).catch(() => null);
      const temp = stagingPathFor(target.destination);
      staged.push({ temp, destination: target.destination });
      const handle = await open(temp, 'wx', target.mode);
      try {
        await pipeline(Readable.from(chunks), createWriteStream('', { fd: handle.fd, autoClose: false }));
        await handle.sync();
        // A replaced file keeps its owner when this process may give it away (root); else it is the writer's.
        if (owner) await handle.chown(owner.uid, owner.gid).catch(unlessNotPermitted);
      } finally {
        await handle.close();
      }
    },
    async discard() {
      await Promise.all(staged.map(({ temp }) => rm(temp, { force: true })));
    },
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

function unlessNotPermitted(error: NodeJS.ErrnoException): void {
  if (error.code !== 'EPERM' && error.code !== 'EINVAL') throw error;
}
