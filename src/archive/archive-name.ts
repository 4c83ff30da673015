// Archive file names: `{target}-backup-{UTC YYYY-MM-DDTHH-mm-ss}-{kind}.tar.gz[.enc]`.
import { BACKUP_KINDS, type BackupKind } from './manifest.ts';

export const ARCHIVE_EXTENSION = '.tar.gz';
export const ENCRYPTED_EXTENSION = '.tar.gz.enc';

const NAME_PATTERN = new RegExp(
  `^(.+)-backup-(\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2})-(${BACKUP_KINDS.join('|')})\\.tar\\.gz(\\.enc)?$`,
);

export function backupFileName(targetName: string, createdAt: Date, kind: BackupKind, encrypted = false): string {
  const stamp = createdAt.toISOString().slice(0, 19).replace(/:/g, '-');
  return `${targetName}-backup-${stamp}-${kind}${encrypted ? ENCRYPTED_EXTENSION : ARCHIVE_EXTENSION}`;
}

export interface ParsedBackupName {
  targetName: string;
  createdAt: Date;
  kind: BackupKind;
  encrypted: boolean;
}

/** Reads what the name tells; null for names that do not follow the pattern. */
export function parseBackupFileName(fileName: string): ParsedBackupName | null {
  const match = NAME_PATTERN.exec(fileName);
  if (!match) return null;
  const [, targetName, stamp, kind, enc] = match;
  const iso = `${stamp!.slice(0, 10)}T${stamp!.slice(11).replace(/-/g, ':')}Z`;
  return { targetName: targetName!, createdAt: new Date(iso), kind: kind as BackupKind, encrypted: Boolean(enc) };
}

/** Any archive in the backup folder is listed, whoever wrote it. */
export function looksLikeArchive(fileName: string): boolean {
  return !fileName.startsWith('.') && (fileName.endsWith(ARCHIVE_EXTENSION) || fileName.endsWith(ENCRYPTED_EXTENSION));
}
