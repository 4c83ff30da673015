// The backup folder on a local (or mounted) file system.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rm, statfs, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { looksLikeArchive } from '../archive/archive-name.ts';
import { isProcessAlive } from '../util/instance-id.ts';
import { ArchiveExistsError, type BackupStore, type StoredArchive, type WrittenArchive } from './backup-store.ts';

/**
 * Temporary names start with a dot (never listed) and carry the writer's host and pid,
 * separated by `~`, which neither host names nor archive names contain.
 */
const TEMP_PREFIX = '.partial~';
const TEMP_PATTERN = /^\.partial~([^~]+)~(\d+)~[0-9a-f]+~/;
/** A temporary file from another host is only removed once it is surely abandoned. */
const FOREIGN_TEMP_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export class LocalFolderStore implements BackupStore {
  constructor(readonly location: string) {}

  async list(): Promise<StoredArchive[]> {
    await mkdir(this.location, { recursive: true });
    const names = (await readdir(this.location)).filter(looksLikeArchive);
    const found = await Promise.all(names.map((name) => this.stat(name)));
    return found.filter((archive): archive is StoredArchive => archive !== null);
  }

  async stat(fileName: string): Promise<StoredArchive | null> {
    if (!isPlainArchiveName(fileName)) return null;
    try {
      const info = await lstat(path.join(this.location, fileName));
      if (!info.isFile()) return null;
      return { fileName, sizeBytes: info.size, modifiedAt: info.mtime };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  read(fileName: string): Readable {
    if (!isPlainArchiveName(fileName)) throw new Error(`not an archive name: ${fileName}`);
    return createReadStream(path.join(this.location, fileName));
  }

  async write(fileName: string, source: Readable): Promise<WrittenArchive> {
    if (!isPlainArchiveName(fileName)) throw new Error(`not an archive name: ${fileName}`);
    const finalPath = path.join(this.location, fileName);
    const tempPath = path.join(
      this.location,
      `${TEMP_PREFIX}${os.hostname()}~${process.pid}~${randomBytes(4).toString('hex')}~${fileName}`,
    );
    let handle: FileHandle;
    try {
      await mkdir(this.location, { recursive: true });
      handle = await open(tempPath, 'wx', 0o600);
    } catch (error) {
      // A folder that is gone, read-only or full. The source is drained before the error goes
      // up: a source abandoned half-read may still open its inputs after the caller removed
      // them, and that error would then have no one to report to.
      await pipeline(source, new Writable({ write: (_chunk, _encoding, done) => done() })).catch(() => {});
      throw error;
    }
    const hash = createHash('sha256');
    let size = 0;
    try {
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(source, counter, createWriteStream('', { fd: handle.fd, autoClose: false }));
      await handle.sync();
      await handle.close();
      // link() refuses to replace an existing name, where rename() would silently overwrite.
      try {
        await link(tempPath, finalPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ArchiveExistsError(fileName);
        throw error;
      }
      await unlink(tempPath);
      await syncDirectory(this.location);
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(tempPath, { force: true });
      throw error;
    }
    const info = await lstat(finalPath);
    return { fileName, sizeBytes: size, modifiedAt: info.mtime, sha256: hash.digest('hex') };
  }

  async delete(fileName: string): Promise<boolean> {
    if (!(await this.stat(fileName))) return false;
    await unlink(path.join(this.location, fileName));
    await syncDirectory(this.location);
    return true;
  }

  async freeBytes(): Promise<number> {
    await mkdir(this.location, { recursive: true });
    const info = await statfs(this.location);
    return info.bavail * info.bsize;
  }

  async removeLeftovers(): Promise<string[]> {
    await mkdir(this.location, { recursive: true });
    const removed: string[] = [];
    for (const name of await readdir(this.location)) {
      const match = TEMP_PATTERN.exec(name);
      if (!match) continue;
      const [, host, pid] = match;
      const full = path.join(this.location, name);
      const abandoned =
        host === os.hostname()
          ? // Our own pid can only be a previous process's (containers reuse pids): this runs before any write.
            Number(pid) === process.pid || !isProcessAlive(Number(pid))
          : Date.now() - (await lstat(full)).mtimeMs > FOREIGN_TEMP_MAX_AGE_MS;
      if (abandoned) {
        await rm(full, { force: true });
        removed.push(name);
      }
    }
    return removed;
  }
}

/** Only names listed in the folder itself: no separators, no dot files, no traversal. */
function isPlainArchiveName(fileName: string): boolean {
  return (
    looksLikeArchive(fileName) &&
    !fileName.includes('/') &&
    !fileName.includes('\\') &&
    !fileName.includes('\0') &&
    path.basename(fileName) === fileName
  );
}

/** Makes a rename or unlink durable: the directory entry itself must reach the disk. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
