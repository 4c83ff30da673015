// The framing both encrypted formats share: the plaintext cut into fixed-size chunks, each
// sealed on its own and the last one flagged. Which chunk is the last is only known at the end
// of the input, so a chunk (or record) is held back until more bytes follow it.
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidArchiveError } from '../../core/errors.ts';
import { ByteQueue } from './byte-queue.ts';

/** Why a record's tag failed, the last one told apart: there, truncation and appended data show. */
export function recordCheckFailed(index: number, final: boolean): InvalidArchiveError {
  return new InvalidArchiveError(
    final
      ? `the encrypted archive is damaged, cut short or has data appended (chunk ${index} fails its check)`
      : `the encrypted archive is damaged or altered (chunk ${index} fails its check)`,
  );
}

/** Plaintext in; `prologue`, then each `chunkBytes` of plaintext as `seal` makes it, out. */
export function createSealStream(options: {
  prologue: Buffer;
  chunkBytes: number;
  seal(plaintext: Buffer, final: boolean): Buffer;
}): Transform {
  const { prologue, chunkBytes, seal } = options;
  const pending = new ByteQueue();
  return new Transform({
    construct(done) {
      this.push(prologue);
      done();
    },
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        pending.push(chunk);
        // At least one byte stays back: the last chunk is empty only when the whole plaintext is.
        while (pending.length > chunkBytes) this.push(seal(pending.take(chunkBytes), false));
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
 * The sealed file in, plaintext out. `start` reads what comes before the records (it returns
 * false until enough has arrived); then each record of `recordBytes` goes through `open`,
 * the last one flagged. Input that ends early is an InvalidArchiveError.
 */
export function createOpenStream(options: {
  recordBytes: number;
  tagBytes: number;
  start(pending: ByteQueue): boolean;
  /** What an input ending before `start` returned true means. */
  endsBeforeStart: string;
  open(record: Buffer, final: boolean): Buffer;
}): Transform {
  const { recordBytes, tagBytes, start, endsBeforeStart, open } = options;
  const pending = new ByteQueue();
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      try {
        pending.push(chunk);
        started ||= start(pending);
        // A record is only known not to be the last once more bytes follow it.
        while (started && pending.length > recordBytes) this.push(open(pending.take(recordBytes), false));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        started ||= start(pending);
        if (!started) throw new InvalidArchiveError(endsBeforeStart);
        if (pending.length < tagBytes) throw new InvalidArchiveError('the encrypted archive is cut short (its last chunk is missing)');
        this.push(open(pending.take(pending.length), true));
        done();
      } catch (error) {
        done(error as Error);
      }
    },
  });
}
