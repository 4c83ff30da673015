// The backup folder plus one archive named by its path elsewhere (a copy brought to a new
// machine), listed under its file name: read in place, never copied, moved or deleted.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BackupStore, StoredArchive, WrittenArchive } from '../storage/backup-store.ts';
import { UsageError } from './exit-codes.ts';

export class ExternalArchiveStore implements BackupStore {
  /** The archive's id: its file name. */
  readonly fileName: string;

  constructor(
    private readonly folder: BackupStore,
    private readonly file: string,
  ) {
    this.fileName = path.basename(file);
  }

  get location(): string {
    return this.folder.location;
  }

  async list(): Promise<StoredArchive[]> {
    const inFolder = (await this.folder.list()).filter((archive) => archive.fileName !== this.fileName);
    return [...inFolder, await this.external()];
  }
  stat(fileName: string): Promise<StoredArchive | null> {
    return fileName === this.fileName ? this.external() : this.folder.stat(fileName);
  }
  read(fileName: string): Readable {
    return fileName === this.fileName ? createReadStream(this.file) : this.folder.read(fileName);
  }
  write(fileName: string, source: Readable): Promise<WrittenArchive> {
    return this.folder.write(fileName, source);
  }
  async delete(fileName: string): Promise<boolean> {
    return fileName === this.fileName ? false : this.folder.delete(fileName);
  }
  freeBytes(): Promise<number> {
    return this.folder.freeBytes();
  }
  removeLeftovers(): Promise<string[]> {
    return this.folder.removeLeftovers();
  }

  /** Refuses when the backup folder holds another file of the same name: which one was meant is unclear. */
  async checkNoTwin(): Promise<void> {
    if (!(await this.folder.stat(this.fileName))) return;
    const [here, there] = await Promise.all([stat(this.file), stat(path.join(this.folder.location, this.fileName))]);
    if (here.dev === there.dev && here.ino === there.ino) return;
    throw new UsageError(
      `the backup folder ${this.folder.location} holds another archive named ${this.fileName}: give that name to use it, or rename ${this.file}`,
    );
  }

  private async external(): Promise<StoredArchive> {
    const info = await stat(this.file);
    return { fileName: this.fileName, sizeBytes: info.size, modifiedAt: info.mtime };
  }
}
