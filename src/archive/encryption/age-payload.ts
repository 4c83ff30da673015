// The payload of an age v1 file: a random 16-byte nonce, then the plaintext in 64 KiB chunks,
// each sealed with ChaCha20-Poly1305 (age's STREAM). A chunk's plaintext is passed on only
// once its tag checks: truncation, reordering, splicing and appended data all fail a tag.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Transform } from 'node:stream';
import { InvalidArchiveError } from '../../core/errors.ts';
import { createOpenStream, createSealStream, recordCheckFailed } from './chunked-stream.ts';

export const AGE_CHUNK_BYTES = 64 * 1024;
export const AGE_TAG_BYTES = 16;
export const AGE_NONCE_BYTES = 16;
/** The chunk counter is 11 bytes in the format; 2^48 chunks of 64 KiB is past any archive. */
const MAX_CHUNKS = 2 ** 48;

/** Plaintext in; the header, the nonce and the sealed chunks out. `fileKey` is this file's alone. */
export function createAgeEncryptStream(header: Buffer, fileKey: Buffer): Transform {
  const nonce = randomBytes(AGE_NONCE_BYTES);
  const key = payloadKey(fileKey, nonce);
  let counter = 0;
  return createSealStream({
    prologue: Buffer.concat([header, nonce]),
    chunkBytes: AGE_CHUNK_BYTES,
    seal(plaintext, final) {
      if (counter >= MAX_CHUNKS) throw new RangeError('too many chunks for one archive');
      const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter++, final), { authTagLength: AGE_TAG_BYTES });
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
  });
}

/**
 * The whole file in, plaintext out. The file must start with exactly the header that was
 * unlocked (a file replaced between the two reads is refused). Any failure is an
 * InvalidArchiveError: by this point the passphrase is known to be right.
 */
export function createAgeDecryptStream(header: Buffer, fileKey: Buffer): Transform {
  let key: Buffer | null = null;
  let counter = 0;
  return createOpenStream({
    recordBytes: AGE_CHUNK_BYTES + AGE_TAG_BYTES,
    tagBytes: AGE_TAG_BYTES,
    endsBeforeStart: 'the encrypted archive ends before its payload starts',
    start(pending) {
      if (pending.length < header.length + AGE_NONCE_BYTES) return false;
      if (!pending.take(header.length).equals(header))
        throw new InvalidArchiveError('the encrypted archive changed after its header was checked');
      key = payloadKey(fileKey, pending.take(AGE_NONCE_BYTES));
      return true;
    },
    open(record, final) {
      if (counter >= MAX_CHUNKS) throw new InvalidArchiveError('the encrypted archive has more chunks than the format allows');
      const decipher = createDecipheriv('chacha20-poly1305', key!, chunkNonce(counter, final), { authTagLength: AGE_TAG_BYTES });
      decipher.setAuthTag(record.subarray(record.length - AGE_TAG_BYTES));
      const plaintext = decipher.update(record.subarray(0, record.length - AGE_TAG_BYTES));
      try {
        decipher.final();
      } catch {
        throw recordCheckFailed(counter, final);
      }
      if (final && plaintext.length === 0 && counter > 0) throw new InvalidArchiveError('the encrypted archive ends with an empty chunk');
      counter++;
      return plaintext;
    },
  });
}

function payloadKey(fileKey: Buffer, nonce: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

/** An 11-byte big-endian chunk counter, then 1 for the last chunk and 0 for the others. */
function chunkNonce(counter: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = final ? 1 : 0;
  return nonce;
}
