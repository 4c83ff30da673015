// The passphrase the benchmark's children encrypt and decrypt with, when the parent asks
// for the encrypted path: an environment variable, not an argument, so that it does not
// show in the process list.
import { passphraseProblem } from '../src/archive/encryption/encrypted-archive.ts';

export const PASSPHRASE_VARIABLE = 'BENCH_PASSPHRASE';

/** BENCH_PASSPHRASE, checked as createBackup checks one; null when unset or empty. */
export function benchPassphrase(): string | null {
  const passphrase = process.env[PASSPHRASE_VARIABLE] || null;
  const problem = passphrase === null ? null : passphraseProblem(passphrase);
  if (problem) throw new Error(`${PASSPHRASE_VARIABLE}: ${problem}`);
  return passphrase;
}
