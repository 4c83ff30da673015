// Where archives live. The engine and services use only this interface, so another
// backend (an object store) can follow without touching them.
import type { Readable } from 'node:stream';

export interface StoredArchive {
  fileName: string;
  sizeBytes: number;
  modifiedAt: Date;
}

export interface WrittenArchive extends StoredArchive {
  sha256: string;
}

export interface BackupStore {
  /** A human-readable location, for the system query and error messages. */
  readonly location: string;
  /** Every archive present, in no particular order. Temporary files are never listed. */
  list(): Promise<StoredArchive[]>;
  /** The archive with exactly this name, or null; a name that is not a plain archive name is null. */
  stat(fileName: string): Promise<StoredArchive | null>;
  /** Streams an archive that `stat` found. */
  read(fileName: string): Readable;
  /**
   * Writes `source` under `fileName` atomically: it appears whole and durable, or not at
   * all. Never replaces an existing archive (`ArchiveExistsError`).
   */
  write(fileName: string, source: Readable): Promise<WrittenArchive>;
  /** Removes an archive; false when there was none. */
  delete(fileName: string): Promise<boolean>;
  /** Bytes free for new archives. */
  freeBytes(): Promise<number>;
  /** Removes what interrupted writes left behind; called at start-up, before any write. */
  removeLeftovers(): Promise<string[]>;
}

export class ArchiveExistsError extends Error {
  constructor(readonly fileName: string) {
    super(`an archive named ${fileName} already exists`);
  }
}
