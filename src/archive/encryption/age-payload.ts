// The payload of an age v1 file: a random 16-byte nonce, then the plaintext in 64 KiB chunks,
// each sealed with ChaCha20-Poly1305 (age's STREAM). A chunk's plaintext is passed on only
// once its tag checks: truncation, reordering, splicing and appended data all fail a tag.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidArchiveError } from '../../core/errors.ts';
import { ByteQueue } from './byte-queue.ts';

export const AGE_CHUNK_BYTES = 64 * 1024;
export const AGE_TAG_BYTES = 16;
export const AGE_NONCE_BYTES = 16;
/** The chunk counter is 11 bytes in the format; 2^48 chunks of 64 KiB is past any archive. */
const MAX_CHUNKS = 2 ** 48;

/** Plaintext in; the header, the nonce and the sealed chunks out. `fileKey` is this file's alone. */
export function createAgeEncryptStream(header: Buffer, fileKey: Buffer): Transform {
  const nonce = randomBytes(AGE_NONCE_BYTES);
  const key = payloadKey(fileKey, nonce);
  const pending = new ByteQueue();
  let counter = 0;
  const seal = (plaintext: Buffer, final: boolean) => {
    if (counter >= MAX_CHUNKS) throw new RangeError('too many chunks for one archive');
    const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(counter++, final), { authTagLength: AGE_TAG_BYTES });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  };
  return new Transform({
    construct(done) {
      this.push(Buffer.concat([header, nonce]));
      done();
    },
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        pending.push(chunk);
        // Keep at least one byte back: only the flush knows which chunk is the last, and the
        // last may be empty only when the whole plaintext is.
        while (pending.length > AGE_CHUNK_BYTES) this.push(seal(pending.take(AGE_CHUNK_BYTES), false));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        this.push(seal(pending.take(pending.length), true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

/**
 * The whole file in, plaintext out. The file must start with exactly the header that was
 * unlocked (a file replaced between the two reads is refused). Any failure is an
 * InvalidArchiveError: by this point the passphrase is known to be right.
 */
export function createAgeDecryptStream(header: Buffer, fileKey: Buffer): Transform {
  const recordSize = AGE_CHUNK_BYTES + AGE_TAG_BYTES;
  const pending = new ByteQueue();
  let key: Buffer | null = null;
  let counter = 0;
  const open = (record: Buffer, final: boolean) => {
    if (counter >= MAX_CHUNKS) throw new InvalidArchiveError('the encrypted archive has more chunks than the format allows');
    const decipher = createDecipheriv('chacha20-poly1305', key!, chunkNonce(counter, final), { authTagLength: AGE_TAG_BYTES });
    decipher.setAuthTag(record.subarray(record.length - AGE_TAG_BYTES));
    const plaintext = decipher.update(record.subarray(0, record.length - AGE_TAG_BYTES));
    try {
      decipher.final();
    } catch {
      throw new InvalidArchiveError(
        final
          ? `the encrypted archive is damaged, cut short or has data appended (chunk ${counter} fails its check)`
          : `the encrypted archive is damaged or altered (chunk ${counter} fails its check)`,
      );
    }
    if (final && plaintext.length === 0 && counter > 0) throw new InvalidArchiveError('the encrypted archive ends with an empty chunk');
    counter++;
    return plaintext;
  };
  const start = () => {
    if (key || pending.length < header.length + AGE_NONCE_BYTES) return;
    if (!pending.take(header.length).equals(header))
      throw new InvalidArchiveError('the encrypted archive changed after its header was checked');
    key = payloadKey(fileKey, pending.take(AGE_NONCE_BYTES));
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        pending.push(chunk);
        start();
        // A record is only known not to be the last once more bytes follow it.
        while (key && pending.length > recordSize) this.push(open(pending.take(recordSize), false));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        start();
        if (!key) throw new InvalidArchiveError('the encrypted archive ends before its payload starts');
        if (pending.length < AGE_TAG_BYTES) throw new InvalidArchiveError('the encrypted archive is cut short (its last chunk is missing)');
        this.push(open(pending.take(pending.length), true));
        done();
      } catch (error) {
        done(error as Error);
      }
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
