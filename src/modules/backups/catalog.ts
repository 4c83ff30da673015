// Lists the backups in the store, reading each archive's manifest once and caching it
// by name, size and modification time.
import { createHash } from 'node:crypto';
import { readEnvelopeHeader, type EnvelopeHeader, type PublicMetadata } from '../../archive/encryption/envelope-header.ts';
import { publicMetadataOf } from '../../archive/encryption/encrypted-archive.ts';
import { readManifest } from '../../archive/archive-reader.ts';
import { ENCRYPTED_EXTENSION, parseBackupFileName } from '../../archive/archive-name.ts';
import type { BackupKind, Manifest } from '../../archive/manifest.ts';
import type { BackupStore, StoredArchive } from '../../storage/backup-store.ts';

/** Where a backup is downloaded (`GET`, served by the REST API, named by GraphQL's `downloadUrl`). */
export const downloadPath = (id: string) => `/api/v1/backups/${encodeURIComponent(id)}/download`;

export interface Backup {
  id: string;
  fileName: string;
  kind: BackupKind;
  createdAt: Date;
  sizeBytes: number;
  encrypted: boolean;
  /**
   * What the list shows: from the manifest of a plain archive, from the authenticated
   * public header of an encrypted one. Null when neither could be read (see `problem`).
   */
  summary: PublicMetadata | null;
  /** A plain archive's manifest; null for an encrypted or unreadable one. */
  manifest: Manifest | null;
  /** An encrypted archive's header; null for a plain one. */
  envelope: EnvelopeHeader | null;
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
  remember(archive: StoredArchive, content: Content, sha256: string): void {
    const backup = toBackup(archive, content, null);
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
    try {
      const content: Content = isEncryptedName(archive.fileName)
        ? { envelope: await readEnvelopeHeader(this.store.read(archive.fileName)) }
        : { manifest: await readManifest(this.store.read(archive.fileName)) };
      return toBackup(archive, content, null);
    } catch (error) {
      return toBackup(archive, {}, (error as Error).message);
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
function toBackup(archive: StoredArchive, content: Content, problem: string | null): Backup {
  const fromName = parseBackupFileName(archive.fileName);
  const manifest = content.manifest ?? null;
  const envelope = content.envelope ?? null;
  const summary = manifest ? publicMetadataOf(manifest) : (envelope?.metadata ?? null);
  return {
    id: archive.fileName,
    fileName: archive.fileName,
    kind: fromName?.kind ?? summary?.kind ?? 'uploaded',
    createdAt: summary ? new Date(summary.createdAt) : (fromName?.createdAt ?? archive.modifiedAt),
    sizeBytes: archive.sizeBytes,
    encrypted: isEncryptedName(archive.fileName),
    summary,
    manifest,
    envelope,
    problem,
  };
}

/** What an archive's first bytes tell: a plain manifest, or an encrypted header. */
export type Content = { manifest?: Manifest; envelope?: EnvelopeHeader };

function isEncryptedName(fileName: string): boolean {
  return fileName.endsWith(ENCRYPTED_EXTENSION);
}

async function hashStream(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
