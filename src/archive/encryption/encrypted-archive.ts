// Encrypted archives as the rest of the engine sees them: a way to seal a tar.gz stream
// for a manifest, and a way to reopen one as plaintext after its passphrase is checked.
import type { Readable } from 'node:stream';
import type { Manifest } from '../manifest.ts';
import { createDecryptStream, createEncryptStream } from './chunk-cipher.ts';
import {
  prepareEnvelope,
  publicMetadataSchema,
  readEnvelopeHeader,
  sealEnvelope,
  unlockEnvelope,
  type EnvelopeHeader,
  type PendingEnvelope,
  type PublicMetadata,
} from './envelope-header.ts';
import type { ScryptParams } from './kdf.ts';

export const MIN_PASSPHRASE_LENGTH = 8;
export const MAX_PASSPHRASE_LENGTH = 1024;

/** Why this passphrase cannot encrypt a backup, or null. The message never repeats it. */
export function passphraseProblem(passphrase: string): string | null {
  const length = [...passphrase].length;
  if (length < MIN_PASSPHRASE_LENGTH) return `the passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters`;
  if (length > MAX_PASSPHRASE_LENGTH) return `the passphrase must be at most ${MAX_PASSPHRASE_LENGTH} characters`;
  return null;
}

export function publicMetadataOf(manifest: Manifest): PublicMetadata {
  return {
    formatVersion: manifest.formatVersion,
    appVersion: manifest.appVersion,
    createdAt: manifest.createdAt,
    kind: manifest.kind,
    targetName: manifest.targetName,
    includesMedia: manifest.includesMedia,
    provider: manifest.provider,
    schemaVersion: manifest.schemaVersion,
    migrations: manifest.migrations,
    ...(manifest.dataModel && { dataModel: manifest.dataModel }),
  };
}

/**
 * The key is derived up front from a fresh salt, so a backup does not hold its snapshot
 * open during scrypt's work (docs/PERFORMANCE.md, "Measurements behind the code"); the
 * header is written once the manifest is known.
 */
export class ArchiveSealer {
  private constructor(private readonly pending: PendingEnvelope) {}

  static async create(passphrase: string, options: { kdf?: ScryptParams; chunkSize?: number } = {}): Promise<ArchiveSealer> {
    return new ArchiveSealer(await prepareEnvelope(passphrase, options));
  }

  /**
   * Pipes the tar.gz through the cipher; errors on either side end the returned stream.
   * The header it writes comes back too, so the catalog need not read it from disk again.
   */
  seal(tarGz: Readable, manifest: Manifest): { stream: Readable; header: EnvelopeHeader } {
    const envelope = sealEnvelope(this.pending, publicMetadataOf(manifest));
    return { stream: connect(tarGz, createEncryptStream(envelope)), header: envelope.header };
  }
}

export interface UnlockedArchive {
  header: EnvelopeHeader;
  /** A fresh plaintext stream of the tar.gz each call; the source is re-read, the key is not re-derived. */
  open(): Readable;
}

/**
 * Reads the header, derives the key and checks it (WrongPassphraseError), all before a
 * byte of the body is read. `read` opens the stored file from its start.
 */
export async function unlockArchive(read: () => Readable, passphrase: string): Promise<UnlockedArchive> {
  const header = await readEnvelopeHeader(read());
  const unlocked = await unlockEnvelope(header, passphrase);
  return { header, open: () => connect(read(), createDecryptStream(unlocked)) };
}

/**
 * Where the decrypted manifest disagrees with the metadata shown outside the ciphertext:
 * only a writer holding the key could make them differ, and a restore must not go on then.
 */
export function metadataMismatch(metadata: PublicMetadata, manifest: Manifest): string | null {
  const inside = publicMetadataOf(manifest);
  for (const field of Object.keys(publicMetadataSchema.shape) as (keyof PublicMetadata)[]) {
    if (JSON.stringify(inside[field]) !== JSON.stringify(metadata[field])) {
      return `the encrypted archive's header says ${field} is ${JSON.stringify(metadata[field])}, its manifest says ${JSON.stringify(inside[field])}`;
    }
  }
  return null;
}

/** source → transform, with errors and early closes passed both ways. */
function connect(source: Readable, transform: NodeJS.ReadWriteStream & Readable): Readable {
  source.on('error', (error) => transform.destroy(error));
  transform.on('close', () => source.destroy());
  source.pipe(transform);
  return transform;
}
