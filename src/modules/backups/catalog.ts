// Lists the backups in the store, reading each archive's manifest once and caching it
// by name, size and modification time.
import { createHash } from 'node:crypto';
import { readManifest } from '../../engine/archive.ts';
import { parseBackupFileName } from '../../engine/backup-name.ts';
import type { BackupKind, Manifest } from '../../engine/manifest.ts';
import type { BackupStore, StoredArchive } from '../../storage/backup-store.ts';

export interface Backup {
  id: string;
  fileName: string;
  kind: BackupKind;
  createdAt: Date;
  sizeBytes: number;
  encrypted: boolean;
  /** Null when the archive's manifest could not be read (see `problem`). */
  manifest: Manifest | null;
  problem: string | null;
}

interface CacheEntry {
  key: string;
  backup: Backup;
  sha256?: Promise<string>;
}

export class BackupCatalog {
  private readonly cache = new Map<string, CacheEntry>();

  constructor(private readonly store: BackupStore) {}

  /** Every backup, newest first. */
  async list(): Promise<Backup[]> {
    const archives = await this.store.list();
    const backups = await Promise.all(archives.map((archive) => this.describe(archive)));
    const present = new Set(archives.map((a) => a.fileName));
    for (const name of this.cache.keys()) if (!present.has(name)) this.cache.delete(name);
    return backups.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.fileName.localeCompare(a.fileName));
  }

  /** The backup with exactly this id, or null: ids are file names in the store, nothing else. */
  async get(id: string): Promise<Backup | null> {
    const archive = await this.store.stat(id);
    return archive ? this.describe(archive) : null;
  }

  /** SHA-256 of the whole archive, computed once per file version. */
  async sha256(backup: Backup): Promise<string> {
    const entry = this.cache.get(backup.fileName);
    if (!entry) return hashStream(this.store.read(backup.fileName));
    entry.sha256 ??= hashStream(this.store.read(backup.fileName));
    return entry.sha256;
  }

  /** Records what the writer already knows, so listing a new archive reads nothing. */
  remember(archive: StoredArchive, manifest: Manifest, sha256: string): void {
    const backup = toBackup(archive, manifest, null);
    this.cache.set(archive.fileName, { key: cacheKey(archive), backup, sha256: Promise.resolve(sha256) });
  }

  private async describe(archive: StoredArchive): Promise<Backup> {
    const cached = this.cache.get(archive.fileName);
    if (cached?.key === cacheKey(archive)) return cached.backup;
    const backup = await this.readBackup(archive);
    this.cache.set(archive.fileName, { key: cacheKey(archive), backup });
    return backup;
  }

  private async readBackup(archive: StoredArchive): Promise<Backup> {
    if (archive.fileName.endsWith('.enc')) {
      return toBackup(archive, null, 'encrypted archives cannot be read yet');
    }
    try {
      return toBackup(archive, await readManifest(this.store.read(archive.fileName)), null);
    } catch (error) {
      return toBackup(archive, null, (error as Error).message);
    }
  }
}

function cacheKey(archive: StoredArchive): string {
  return `${archive.sizeBytes}:${archive.modifiedAt.getTime()}`;
}

/**
 * The kind is the name's where the name follows the pattern (an uploaded copy of a manual
 * backup is an upload), otherwise the manifest's; the date is the manifest's, when the
 * data was taken. An unreadable archive is still listed, as an upload dated by its file.
 */
function toBackup(archive: StoredArchive, manifest: Manifest | null, problem: string | null): Backup {
  const fromName = parseBackupFileName(archive.fileName);
  return {
    id: archive.fileName,
    fileName: archive.fileName,
    kind: fromName?.kind ?? manifest?.kind ?? 'uploaded',
    createdAt: manifest ? new Date(manifest.createdAt) : (fromName?.createdAt ?? archive.modifiedAt),
    sizeBytes: archive.sizeBytes,
    encrypted: archive.fileName.endsWith('.enc'),
    manifest,
    problem,
  };
}

async function hashStream(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
