// The header of an encrypted archive (`….tar.gz.enc`): format, KDF parameters, salt,
// chunk size, the public metadata the list shows without the passphrase, a key check and
// a checksum. The layout is documented byte by byte in docs/FORMAT.md.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { InvalidArchiveError, WrongPassphraseError } from '../../core/errors.ts';
import { BACKUP_KINDS, dataModelSchema } from '../manifest.ts';
import { DEFAULT_SCRYPT, derivePassphraseKey, scryptParamsProblem, type ScryptParams } from './kdf.ts';

export const MAGIC = Buffer.from('BCPCRYPT', 'ascii');
export const ENVELOPE_VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_BYTES = 32;
export const NONCE_PREFIX_BYTES = 7;
const HMAC_BYTES = 32;
/** magic, version, kdf, logN, r, p, chunk size, salt, nonce prefix: what the key check covers. */
const KEYED_PART_BYTES = 8 + 1 + 1 + 1 + 1 + 1 + 4 + SALT_BYTES + NONCE_PREFIX_BYTES;
/** The keyed part, then the metadata length. */
const FIXED_BYTES = KEYED_PART_BYTES + 4;
export const MAX_METADATA_BYTES = 64 * 1024;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
export const MIN_CHUNK_SIZE = 64;
/** A chunk is held whole while it is checked: this caps the memory a reader spends. */
export const MAX_CHUNK_SIZE = 1024 * 1024;
const KEY_CHECK_LABEL = Buffer.from('BCPCRYPT key check v1', 'ascii');

/** Shown without the passphrase; authenticated as part of every chunk's associated data. */
export const publicMetadataSchema = z.object({
  formatVersion: z.number().int().positive(),
  appVersion: z.string().max(200),
  createdAt: z.string().datetime(),
  kind: z.enum(BACKUP_KINDS),
  targetName: z.string().max(200),
  includesMedia: z.boolean(),
  provider: z.enum(['sqlite', 'postgresql']),
  schemaVersion: z.string().max(500).nullable(),
  migrations: z.array(z.string().max(500)).max(100_000),
  dataModel: dataModelSchema.optional(),
});
export type PublicMetadata = z.infer<typeof publicMetadataSchema>;

export interface EnvelopeHeader {
  /** The header exactly as stored: every chunk's associated data. */
  bytes: Buffer;
  kdf: ScryptParams;
  chunkSize: number;
  salt: Buffer;
  noncePrefix: Buffer;
  metadata: PublicMetadata;
  keyCheck: Buffer;
}

/** A header whose passphrase has been checked: what the chunk cipher needs. */
export interface UnlockedEnvelope {
  header: EnvelopeHeader;
  key: Buffer;
}

/** Whether these first bytes are those of an encrypted archive. */
export function isEnvelope(head: Buffer): boolean {
  return head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
}

/** A key from a fresh random salt, before the metadata is known (the key does not depend on it). */
export interface PendingEnvelope {
  kdf: ScryptParams;
  salt: Buffer;
  noncePrefix: Buffer;
  chunkSize: number;
  derived: Buffer;
}

export async function prepareEnvelope(
  passphrase: string,
  options: { kdf?: ScryptParams; chunkSize?: number } = {},
): Promise<PendingEnvelope> {
  const kdf = options.kdf ?? DEFAULT_SCRYPT;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) throw new RangeError(`chunk size ${chunkSize} is out of range`);
  const salt = randomBytes(SALT_BYTES);
  const derived = await derivePassphraseKey(passphrase, salt, kdf);
  return { kdf, salt, noncePrefix: randomBytes(NONCE_PREFIX_BYTES), chunkSize, derived };
}

/** Writes the header for this metadata; the result encrypts with `createEncryptStream`. */
export function sealEnvelope(pending: PendingEnvelope, metadata: PublicMetadata): UnlockedEnvelope {
  const json = Buffer.from(JSON.stringify(publicMetadataSchema.parse(metadata)), 'utf8');
  if (json.length > MAX_METADATA_BYTES) throw new RangeError('public metadata is too large');
  const fixed = Buffer.alloc(FIXED_BYTES);
  let at = MAGIC.copy(fixed, 0);
  at = fixed.writeUInt8(ENVELOPE_VERSION, at);
  at = fixed.writeUInt8(KDF_SCRYPT, at);
  at = fixed.writeUInt8(pending.kdf.logN, at);
  at = fixed.writeUInt8(pending.kdf.r, at);
  at = fixed.writeUInt8(pending.kdf.p, at);
  at = fixed.writeUInt32BE(pending.chunkSize, at);
  at += pending.salt.copy(fixed, at);
  at += pending.noncePrefix.copy(fixed, at);
  fixed.writeUInt32BE(json.length, at);
  const keyCheck = computeKeyCheck(checkKeyOf(pending.derived), fixed.subarray(0, KEYED_PART_BYTES));
  const withoutChecksum = Buffer.concat([fixed, json, keyCheck]);
  const bytes = Buffer.concat([withoutChecksum, sha256(withoutChecksum)]);
  return { header: parseEnvelopeHeader(bytes), key: encryptionKeyOf(pending.derived) };
}

/**
 * Reads and checks the header from the start of `source`, consuming only the header's
 * bytes' worth of chunks, then releases the source. A damaged header is an
 * InvalidArchiveError; nothing here needs the passphrase.
 */
export async function readEnvelopeHeader(source: Readable): Promise<EnvelopeHeader> {
  let buffered = Buffer.alloc(0);
  try {
    for await (const chunk of source) {
      buffered = Buffer.concat([buffered, chunk as Buffer]);
      const length = headerLength(buffered);
      if (length !== null && buffered.length >= length) return parseEnvelopeHeader(buffered.subarray(0, length));
    }
    throw new InvalidArchiveError('the encrypted archive ends inside its header');
  } finally {
    source.destroy();
  }
}

/** The whole header's length once the fixed part is buffered; null before. */
export function headerLength(head: Buffer): number | null {
  if (head.length >= MAGIC.length && !isEnvelope(head)) throw new InvalidArchiveError('not an encrypted backup (wrong magic bytes)');
  if (head.length < FIXED_BYTES) return null;
  const metadataLength = head.readUInt32BE(FIXED_BYTES - 4);
  if (metadataLength > MAX_METADATA_BYTES)
    throw new InvalidArchiveError(`the header declares ${metadataLength} bytes of metadata, more than ${MAX_METADATA_BYTES}`);
  return FIXED_BYTES + metadataLength + HMAC_BYTES + 32;
}

export function parseEnvelopeHeader(bytes: Buffer): EnvelopeHeader {
  const length = headerLength(bytes);
  if (length === null || bytes.length !== length) throw new InvalidArchiveError('the encrypted archive header is truncated');
  const checksumAt = length - 32;
  if (!sha256(bytes.subarray(0, checksumAt)).equals(bytes.subarray(checksumAt))) {
    throw new InvalidArchiveError('the encrypted archive header is damaged (its checksum does not match)');
  }
  const version = bytes.readUInt8(8);
  if (version !== ENVELOPE_VERSION) throw new InvalidArchiveError(`encryption format version ${version} is not supported`);
  const kdfId = bytes.readUInt8(9);
  if (kdfId !== KDF_SCRYPT) throw new InvalidArchiveError(`key derivation function ${kdfId} is not supported`);
  const kdf = { logN: bytes.readUInt8(10), r: bytes.readUInt8(11), p: bytes.readUInt8(12) };
  const kdfProblem = scryptParamsProblem(kdf);
  if (kdfProblem) throw new InvalidArchiveError(`the header asks for a key derivation this server refuses: ${kdfProblem}`);
  const chunkSize = bytes.readUInt32BE(13);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new InvalidArchiveError(`the header's chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  const salt = Buffer.from(bytes.subarray(17, 17 + SALT_BYTES));
  const noncePrefix = Buffer.from(bytes.subarray(17 + SALT_BYTES, KEYED_PART_BYTES));
  const metadataEnd = checksumAt - HMAC_BYTES;
  let metadata: PublicMetadata;
  try {
    metadata = publicMetadataSchema.parse(JSON.parse(bytes.subarray(FIXED_BYTES, metadataEnd).toString('utf8')));
  } catch {
    throw new InvalidArchiveError('the encrypted archive header holds invalid metadata');
  }
  return {
    bytes: Buffer.from(bytes),
    kdf,
    chunkSize,
    salt,
    noncePrefix,
    metadata,
    keyCheck: Buffer.from(bytes.subarray(metadataEnd, checksumAt)),
  };
}

/**
 * Derives the key and checks it against the header before a byte of the body is read:
 * a wrong passphrase is a WrongPassphraseError. The key check covers only what the key
 * is derived from, so a changed metadata field is caught by the chunks' authentication
 * as damage, never reported as a wrong passphrase.
 */
export async function unlockEnvelope(header: EnvelopeHeader, passphrase: string): Promise<UnlockedEnvelope> {
  const derived = await derivePassphraseKey(passphrase, header.salt, header.kdf);
  const expected = computeKeyCheck(checkKeyOf(derived), header.bytes.subarray(0, KEYED_PART_BYTES));
  if (!timingSafeEqual(expected, header.keyCheck)) throw new WrongPassphraseError();
  return { header, key: encryptionKeyOf(derived) };
}

function encryptionKeyOf(derived: Buffer): Buffer {
  return Buffer.from(derived.subarray(0, 32));
}

function checkKeyOf(derived: Buffer): Buffer {
  return derived.subarray(32, 64);
}

function computeKeyCheck(checkKey: Buffer, keyedPart: Buffer): Buffer {
  return createHmac('sha256', checkKey).update(KEY_CHECK_LABEL).update(keyedPart).digest();
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
