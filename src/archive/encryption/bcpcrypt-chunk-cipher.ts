// The body of a `BCPCRYPT` archive (read; written only by tests): the plaintext in fixed-size
// chunks, each sealed with AES-256-GCM. A chunk's plaintext is passed on only once its tag
// checks: truncation, reordering, splicing and appended data all fail a tag.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Transform } from 'node:stream';
import { InvalidArchiveError } from '../../core/errors.ts';
import type { UnlockedBcpcrypt } from './bcpcrypt-header.ts';
import { createOpenStream, createSealStream, recordCheckFailed } from './chunked-stream.ts';

export const TAG_BYTES = 16;
const MAX_CHUNKS = 2 ** 32;

/**
 * Plaintext in, header and sealed chunks out. Each chunk's nonce is the header's random
 * prefix, the chunk's counter and a last-chunk flag; the whole header is its associated data.
 */
export function createBcpcryptEncryptStream(envelope: UnlockedBcpcrypt): Transform {
  const { header, key } = envelope;
  let counter = 0;
  return createSealStream({
    prologue: header.bytes,
    chunkBytes: header.chunkSize,
    seal(plaintext, final) {
      if (counter >= MAX_CHUNKS) throw new RangeError('too many chunks for one archive');
      const cipher = createCipheriv('aes-256-gcm', key, chunkNonce(header.noncePrefix, counter++, final));
      cipher.setAAD(header.bytes);
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
  });
}

/**
 * The whole encrypted file in, plaintext out. The file must start with exactly the header
 * that was unlocked (a file replaced between the two reads is refused). Any failure is an
 * InvalidArchiveError: by this point the passphrase is known to be right.
 */
export function createBcpcryptDecryptStream(envelope: UnlockedBcpcrypt): Transform {
  const { header, key } = envelope;
  let counter = 0;
  return createOpenStream({
    recordBytes: header.chunkSize + TAG_BYTES,
    tagBytes: TAG_BYTES,
    endsBeforeStart: 'the encrypted archive ends inside its header',
    start(pending) {
      if (pending.length < header.bytes.length) return false;
      if (!pending.take(header.bytes.length).equals(header.bytes))
        throw new InvalidArchiveError('the encrypted archive changed after its header was checked');
      return true;
    },
    open(record, final) {
      if (counter >= MAX_CHUNKS) throw new InvalidArchiveError('the encrypted archive has more chunks than the format allows');
      const decipher = createDecipheriv('aes-256-gcm', key, chunkNonce(header.noncePrefix, counter, final));
      decipher.setAAD(header.bytes);
      decipher.setAuthTag(record.subarray(record.length - TAG_BYTES));
      const plaintext = decipher.update(record.subarray(0, record.length - TAG_BYTES));
      try {
        decipher.final();
      } catch {
        throw recordCheckFailed(counter, final);
      }
      counter++;
      return plaintext;
    },
  });
}

/** 7-byte random prefix, 32-bit big-endian counter, 1-byte last-chunk flag. */
function chunkNonce(prefix: Buffer, counter: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(counter, 7);
  nonce.writeUInt8(final ? 1 : 0, 11);
  return nonce;
}
