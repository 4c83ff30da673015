// Encrypted archives as the rest of the engine sees them: a way to seal a tar.gz stream as an
// age file, and a way to reopen one, age or `BCPCRYPT`, as plaintext once its passphrase is checked.
import type { Readable } from 'node:stream';
import type { Manifest } from '../manifest.ts';
import { createAgeHeader, unlockAgeHeader, type AgeHeader } from './age-header.ts';
import { createAgeDecryptStream, createAgeEncryptStream } from './age-payload.ts';
import { createBcpcryptDecryptStream } from './bcpcrypt-chunk-cipher.ts';
import { unlockBcpcrypt } from './bcpcrypt-header.ts';
import { readEnvelopeHeader, type EnvelopeHeader } from './envelope-header.ts';
import { publicMetadataSchema, type PublicMetadata } from './public-metadata.ts';

export const MIN_PASSPHRASE_LENGTH = 8;
export const MAX_PASSPHRASE_LENGTH = 1024;
/**
 * scrypt's log2(N) for new archives: 2^16 (64 MiB; age fixes r = 8, p = 1). `age -p` writes 2^18,
 * 256 MiB, which took an encrypted backup or restore past the 200 MB the engine keeps to
 * (docs/PERFORMANCE.md, "Measurements behind the code"). Readers take up to 2^18.
 */
export const SCRYPT_LOG_N = 16;

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
 * The file key is wrapped up front, so a backup does not hold its snapshot open during
 * scrypt's work (docs/PERFORMANCE.md, "Measurements behind the code"). One sealer, one file:
 * age never reuses a file key.
 */
export class ArchiveSealer {
  private used = false;

  private constructor(
    private readonly header: AgeHeader,
    private readonly fileKey: Buffer,
  ) {}

  static async create(passphrase: string, options: { logN?: number } = {}): Promise<ArchiveSealer> {
    const { header, fileKey } = await createAgeHeader(passphrase, options.logN ?? SCRYPT_LOG_N);
    return new ArchiveSealer(header, fileKey);
  }

  /**
   * Pipes the tar.gz through the cipher; errors on either side end the returned stream.
   * The header it writes comes back too, so the catalog need not read it from disk again.
   */
  seal(tarGz: Readable): { stream: Readable; header: EnvelopeHeader } {
    if (this.used) throw new Error('an ArchiveSealer seals one archive');
    this.used = true;
    return { stream: connect(tarGz, createAgeEncryptStream(this.header.bytes, this.fileKey)), header: this.header };
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
  if (header.format === 'age') {
    const fileKey = await unlockAgeHeader(header, passphrase);
    return { header, open: () => connect(read(), createAgeDecryptStream(header.bytes, fileKey)) };
  }
  const unlocked = await unlockBcpcrypt(header, passphrase);
  return { header, open: () => connect(read(), createBcpcryptDecryptStream(unlocked)) };
}

/**
 * Where the decrypted manifest disagrees with the metadata shown outside the ciphertext
 * (a `BCPCRYPT` header's; an age file shows none): only a writer holding the key could make
 * them differ, and a restore must not go on then.
 */
export function metadataMismatch(metadata: PublicMetadata | null, manifest: Manifest): string | null {
  if (!metadata) return null;
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
