// The backup folder as a setting: a store that forwards to the current folder, so a new
// folder from updateBackupSettings takes effect at once for every service that holds it.
import type { Readable } from 'node:stream';
import type { BackupStore, StoredArchive, WrittenArchive } from './backup-store.ts';
import { LocalFolderStore } from './local-folder-store.ts';

export class SwitchableFolderStore implements BackupStore {
  private current: LocalFolderStore;

  constructor(folder: string) {
    this.current = new LocalFolderStore(folder);
  }

  get location(): string {
    return this.current.location;
  }

  /**
   * Uses another folder from now on; archives already there are listed, none are moved.
   * The switch happens even when the folder cannot be read now (the error is still thrown),
   * so that backups fail there visibly rather than land somewhere else.
   */
  async switchTo(folder: string): Promise<void> {
    if (folder === this.current.location) return;
    this.current = new LocalFolderStore(folder);
    await this.current.removeLeftovers();
  }

  list(): Promise<StoredArchive[]> {
    return this.current.list();
  }
  stat(fileName: string): Promise<StoredArchive | null> {
    return this.current.stat(fileName);
  }
  read(fileName: string): Readable {
    return this.current.read(fileName);
  }
  write(fileName: string, source: Readable): Promise<WrittenArchive> {
    return this.current.write(fileName, source);
  }
  delete(fileName: string): Promise<boolean> {
    return this.current.delete(fileName);
  }
  freeBytes(): Promise<number> {
    return this.current.freeBytes();
  }
  removeLeftovers(): Promise<string[]> {
    return this.current.removeLeftovers();
  }
}
