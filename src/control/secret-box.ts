// Secrets the control plane must keep at rest (the saved passphrase for scheduled
// backups), sealed with AES-256-GCM under a key file in DATA_DIR that only the owner
// can read. A copy of the control database alone reveals nothing.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export const SECRET_KEY_FILE = 'secret.key';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Sealed values carry their version, so the scheme can change without losing old ones. */
const SEALED_PREFIX = 'v1:';

export class SecretKeyError extends Error {}

/**
 * Reads `$DATA_DIR/secret.key`, creating it (mode 0600) on first use. A key file that
 * others can read is tightened to 0600 rather than trusted as it is.
 */
export async function loadSecretKey(dataDir: string): Promise<Buffer> {
  const file = path.join(dataDir, SECRET_KEY_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(randomBytes(KEY_BYTES));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  const key = await readFile(file);
  if (key.length !== KEY_BYTES)
    throw new SecretKeyError(`${file} is not a ${KEY_BYTES}-byte key; remove it to make a new one (saved secrets are then lost)`);
  return key;
}

export function sealSecret(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return SEALED_PREFIX + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64');
}

export function openSecret(key: Buffer, sealed: string): string {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new SecretKeyError('the saved secret has an unknown format');
  const bytes = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64');
  if (bytes.length < NONCE_BYTES + TAG_BYTES) throw new SecretKeyError('the saved secret is damaged');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretKeyError('the saved secret cannot be opened with the key in DATA_DIR (was secret.key replaced?)');
  }
}
