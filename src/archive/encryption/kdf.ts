// Turns a passphrase into keys with scrypt, a memory-hard KDF. Parameters come from the
// archive header on read, so they are capped before any work is done, and only one
// derivation runs at a time: each holds up to 256 MiB, and a burst must not multiply that.
import { scrypt } from 'node:crypto';
import { SerialQueue } from '../../util/serial-queue.ts';

export interface ScryptParams {
  /** log2 of scrypt's N (the CPU and memory cost). */
  logN: number;
  r: number;
  p: number;
}

/** scrypt needs 128 · N · r bytes; a header asking for more than this is refused. */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
/** Each p repeats the whole cost; more than this is refused. */
export const MAX_SCRYPT_P = 4;
const MIN_LOG_N = 10;
const MAX_R = 32;

const derivations = new SerialQueue();

export function scryptMemory(params: ScryptParams): number {
  return 128 * 2 ** params.logN * params.r;
}

/** Why these parameters are refused, or null when they are within bounds. */
export function scryptParamsProblem(params: ScryptParams): string | null {
  const { logN, r, p } = params;
  if (!Number.isInteger(logN) || logN < MIN_LOG_N || logN > 30) return `scrypt log2(N) ${logN} is outside ${MIN_LOG_N}..30`;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) return `scrypt r ${r} is outside 1..${MAX_R}`;
  if (!Number.isInteger(p) || p < 1 || p > MAX_SCRYPT_P) return `scrypt p ${p} is outside 1..${MAX_SCRYPT_P}`;
  if (scryptMemory(params) > MAX_SCRYPT_MEMORY) {
    return `scrypt would need ${scryptMemory(params)} bytes of memory, more than ${MAX_SCRYPT_MEMORY}`;
  }
  return null;
}

/**
 * The passphrase as the key derivation takes it: UTF-8 after Unicode NFC normalisation, so
 * the same words typed on different systems give the same key.
 */
export function passphraseBytes(passphrase: string): Buffer {
  return Buffer.from(passphrase.normalize('NFC'), 'utf8');
}

/** scrypt of `secret` (zeroed once used), refused outside the caps, one derivation at a time. */
export function scryptKey(secret: Buffer, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const problem = scryptParamsProblem(params);
  if (problem) {
    secret.fill(0);
    return Promise.reject(new Error(problem));
  }
  return derivations.run(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        const options = { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: scryptMemory(params) + 1024 * 1024 };
        scrypt(secret, salt, length, options, (error, key) => {
          secret.fill(0);
          if (error) reject(error);
          else resolve(key);
        });
      }),
  );
}
