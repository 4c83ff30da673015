// The header of a `BCPCRYPT` archive, the encrypted format before age (read; written only by
// tests): KDF parameters, salt, chunk size, the public metadata, a key check and a checksum.
// The layout is documented byte by byte in docs/FORMAT.md.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArchiveError, WrongPassphraseError } from '../../core/errors.ts';
import { passphraseBytes, scryptKey, scryptParamsProblem, type ScryptParams } from './kdf.ts';
import { publicMetadataSchema, type PublicMetadata } from './public-metadata.ts';

const BCPCRYPT_MAGIC = Buffer.from('BCPCRYPT', 'ascii');
const ENVELOPE_VERSION = 1;
const KDF_SCRYPT = 1;
const SALT_BYTES = 32;
const NONCE_PREFIX_BYTES = 7;
const HMAC_BYTES = 32;
/** magic, version, kdf, logN, r, p, chunk size, salt, nonce prefix: what the key check covers. */
const KEYED_PART_BYTES = 8 + 1 + 1 + 1 + 1 + 1 + 4 + SALT_BYTES + NONCE_PREFIX_BYTES;
/** The keyed part, then the metadata length. */
const FIXED_BYTES = KEYED_PART_BYTES + 4;
const MAX_METADATA_BYTES = 64 * 1024;
const DEFAULT_CHUNK_SIZE = 64 * 1024;
const MIN_CHUNK_SIZE = 64;
/** A chunk is held whole while it is checked: this caps the memory a reader spends. */
const MAX_CHUNK_SIZE = 1024 * 1024;
const KEY_CHECK_LABEL = Buffer.from('BCPCRYPT key check v1', 'ascii');
/** scrypt's output: the AES-256 key, then the key-check key. */
const DERIVED_KEY_BYTES = 64;
/** What the last versions that wrote this format used (2^17, 8, 1 before 2026-12-03). */
export const BCPCRYPT_SCRYPT: ScryptParams = { logN: 16, r: 8, p: 2 };

export interface BcpcryptHeader {
  format: 'bcpcrypt';
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
export interface UnlockedBcpcrypt {
  header: BcpcryptHeader;
  key: Buffer;
}

/** Whether these first bytes are those of a `BCPCRYPT` archive. */
export function isBcpcrypt(head: Buffer): boolean {
  return head.length >= BCPCRYPT_MAGIC.length && head.subarray(0, BCPCRYPT_MAGIC.length).equals(BCPCRYPT_MAGIC);
}

/** A key from a fresh random salt, before the metadata is known (the key does not depend on it). */
export interface PendingBcpcrypt {
  kdf: ScryptParams;
  salt: Buffer;
  noncePrefix: Buffer;
  chunkSize: number;
  derived: Buffer;
}

export async function prepareBcpcrypt(
  passphrase: string,
  options: { kdf?: ScryptParams; chunkSize?: number } = {},
): Promise<PendingBcpcrypt> {
  const kdf = options.kdf ?? BCPCRYPT_SCRYPT;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) throw new RangeError(`chunk size ${chunkSize} is out of range`);
  const salt = randomBytes(SALT_BYTES);
  const derived = await scryptKey(passphraseBytes(passphrase), salt, kdf, DERIVED_KEY_BYTES);
  return { kdf, salt, noncePrefix: randomBytes(NONCE_PREFIX_BYTES), chunkSize, derived };
}

/** Writes the header for this metadata; the result encrypts with `createBcpcryptEncryptStream`. */
export function sealBcpcrypt(pending: PendingBcpcrypt, metadata: PublicMetadata): UnlockedBcpcrypt {
  const json = Buffer.from(JSON.stringify(publicMetadataSchema.parse(metadata)), 'utf8');
  if (json.length > MAX_METADATA_BYTES) throw new RangeError('public metadata is too large');
  const fixed = Buffer.alloc(FIXED_BYTES);
  let at = BCPCRYPT_MAGIC.copy(fixed, 0);
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
  return { header: parseBcpcryptHeader(bytes), key: encryptionKeyOf(pending.derived) };
}

/** The whole header's length once the fixed part is there; null before. Refuses absurd lengths. */
export function bcpcryptHeaderLength(head: Buffer): number | null {
  if (head.length >= BCPCRYPT_MAGIC.length && !isBcpcrypt(head))
    throw new InvalidArchiveError('not an encrypted backup (wrong magic bytes)');
  if (head.length < FIXED_BYTES) return null;
  const metadataLength = head.readUInt32BE(FIXED_BYTES - 4);
  if (metadataLength > MAX_METADATA_BYTES)
    throw new InvalidArchiveError(`the header declares ${metadataLength} bytes of metadata, more than ${MAX_METADATA_BYTES}`);
  return FIXED_BYTES + metadataLength + HMAC_BYTES + 32;
}

/** Checks and reads a whole header; nothing here needs the passphrase. A damaged one is an InvalidArchiveError. */
export function parseBcpcryptHeader(bytes: Buffer): BcpcryptHeader {
  const length = bcpcryptHeaderLength(bytes);
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
    format: 'bcpcrypt',
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
export async function unlockBcpcrypt(header: BcpcryptHeader, passphrase: string): Promise<UnlockedBcpcrypt> {
  const derived = await scryptKey(passphraseBytes(passphrase), header.salt, header.kdf, DERIVED_KEY_BYTES);
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
