// The header of an age v1 file (age-encryption.org/v1) sealed with a passphrase: one scrypt
// stanza wrapping the 16-byte file key, then the header MAC. Parsed strictly, and a work
// factor past the cap is refused before any key is derived.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArchiveError, WrongPassphraseError } from '../../core/errors.ts';
import { passphraseBytes, scryptKey, scryptParamsProblem, type ScryptParams } from './kdf.ts';

const VERSION_LINE = 'age-encryption.org/v1';
/** What every age file starts with, whatever its version. */
const AGE_PREFIX = Buffer.from('age-encryption.org/', 'ascii');
const ARMOR_PREFIX = Buffer.from('-----BEGIN AGE ENCRYPTED FILE-----', 'ascii');
const FILE_KEY_BYTES = 16;
const SALT_BYTES = 16;
const SCRYPT_SALT_LABEL = Buffer.from('age-encryption.org/v1/scrypt', 'ascii');
const WRAPPED_KEY_BYTES = FILE_KEY_BYTES + 16;
/** A passphrase header is about 150 bytes; other recipients' are longer, and refused anyway. */
const MAX_HEADER_BYTES = 16 * 1024;
/** age fixes scrypt's r and p; only log2(N) is in the file. */
const scryptParams = (logN: number): ScryptParams => ({ logN, r: 8, p: 1 });

export interface AgeHeader {
  format: 'age';
  /** The header exactly as stored, through the MAC line's line feed. */
  bytes: Buffer;
  salt: Buffer;
  /** log2 of scrypt's N; r = 8 and p = 1. */
  logN: number;
  /** The file key, sealed with ChaCha20-Poly1305 under the passphrase's scrypt key. */
  wrappedKey: Buffer;
  mac: Buffer;
  /** age files show nothing but the work factor without the passphrase. */
  metadata: null;
}

/** Whether these first bytes are those of an age file (any version, or ASCII-armored). */
export function isAge(head: Buffer): boolean {
  return [AGE_PREFIX, ARMOR_PREFIX].some((prefix) => {
    const length = Math.min(head.length, prefix.length);
    return length >= 8 && head.subarray(0, length).equals(prefix.subarray(0, length));
  });
}

/** The whole header's length once its MAC line is there; null before. Refuses what no passphrase file holds. */
export function ageHeaderLength(head: Buffer): number | null {
  if (head.subarray(0, ARMOR_PREFIX.length).equals(ARMOR_PREFIX)) {
    throw new InvalidArchiveError('an ASCII-armored age file (age -a): store it in binary form, without -a');
  }
  const firstLine = head.indexOf(0x0a);
  if (firstLine >= 0 && head.subarray(0, firstLine).toString('latin1') !== VERSION_LINE) {
    const version = head.subarray(0, Math.min(firstLine, 80)).toString('latin1');
    throw new InvalidArchiveError(`not an age v1 file (it starts with "${version}")`);
  }
  const macLine = head.indexOf('\n---');
  const end = macLine < 0 ? -1 : head.indexOf(0x0a, macLine + 1);
  if (end >= 0 && end < MAX_HEADER_BYTES) return end + 1;
  if (head.length >= MAX_HEADER_BYTES) throw new InvalidArchiveError(`the age header is longer than ${MAX_HEADER_BYTES} bytes`);
  return null;
}

/** Checks and reads a whole header; nothing here needs the passphrase. */
export function parseAgeHeader(bytes: Buffer): AgeHeader {
  const damaged = (why: string) => new InvalidArchiveError(`the age header is damaged: ${why}`);
  const text = bytes.toString('latin1');
  if (!/^[\x20-\x7e\n]*\n$/.test(text)) throw damaged('it holds bytes that are not printable ASCII');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== VERSION_LINE) throw damaged('no age-encryption.org/v1 line');
  const stanzas: { args: string[]; body: Buffer }[] = [];
  let at = 1;
  while (lines[at]?.startsWith('-> ')) {
    const args = lines[at]!.slice(3).split(' ');
    if (args.some((arg) => arg === '')) throw damaged('an empty stanza argument');
    at++;
    let body = '';
    for (;;) {
      const line = lines[at++];
      if (line === undefined || line.length > 64) throw damaged('a stanza body is cut or too wide');
      body += line;
      if (line.length < 64) break;
    }
    stanzas.push({ args, body: canonicalBase64(body, damaged) });
  }
  const mac = lines[at]?.match(/^--- ([A-Za-z0-9+/]{43})$/);
  if (!mac || at !== lines.length - 1) throw damaged('no MAC line where the header should end');
  if (stanzas.length === 0) throw damaged('no recipient stanza');

  const scrypt = stanzas.find((stanza) => stanza.args[0] === 'scrypt');
  if (!scrypt) {
    const types = stanzas.map((stanza) => stanza.args[0]).join(', ');
    throw new InvalidArchiveError(`the age file is encrypted to keys (${types}), not to a passphrase; only passphrase files open here`);
  }
  if (stanzas.length !== 1) throw new InvalidArchiveError('the age header holds other stanzas beside its scrypt one (age refuses that)');
  const [, salt64, logNText] = scrypt.args;
  if (scrypt.args.length !== 3 || !/^[1-9][0-9]*$/.test(logNText ?? '')) throw damaged('the scrypt stanza is malformed');
  const salt = canonicalBase64(salt64!, damaged);
  if (salt.length !== SALT_BYTES) throw damaged(`a scrypt salt of ${salt.length} bytes`);
  const logN = Number(logNText);
  const problem = scryptParamsProblem(scryptParams(logN));
  if (problem) throw new InvalidArchiveError(`the header asks for a key derivation this server refuses: ${problem}`);
  if (scrypt.body.length !== WRAPPED_KEY_BYTES) throw damaged(`a wrapped file key of ${scrypt.body.length} bytes`);
  return {
    format: 'age',
    bytes: Buffer.from(bytes),
    salt,
    logN,
    wrappedKey: scrypt.body,
    mac: canonicalBase64(mac[1]!, damaged),
    metadata: null,
  };
}

/** A new file key, wrapped under the passphrase with scrypt at 2^logN, and the header that carries it. */
export async function createAgeHeader(passphrase: string, logN: number): Promise<{ header: AgeHeader; fileKey: Buffer }> {
  const fileKey = randomBytes(FILE_KEY_BYTES);
  const salt = randomBytes(SALT_BYTES);
  const wrapKey = await scryptKey(passphraseBytes(passphrase), scryptSalt(salt), scryptParams(logN), 32);
  const cipher = createCipheriv('chacha20-poly1305', wrapKey, Buffer.alloc(12), { authTagLength: 16 });
  const wrapped = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  wrapKey.fill(0);
  // A 32-byte body is 43 base64 characters: one line, shorter than 64, as the format wants.
  const macInput = Buffer.from(`${VERSION_LINE}\n-> scrypt ${base64(salt)} ${logN}\n${base64(wrapped)}\n---`, 'latin1');
  const bytes = Buffer.concat([macInput, Buffer.from(` ${base64(headerMac(fileKey, macInput))}\n`, 'latin1')]);
  return { header: parseAgeHeader(bytes), fileKey };
}

/**
 * The file key, from the header alone, before a byte of the payload is read. A passphrase
 * that cannot unwrap it is a WrongPassphraseError; a header whose MAC then fails is damage.
 * The passphrase is tried in NFC, as this server writes it, then as given, as `age -p` took it.
 */
export async function unlockAgeHeader(header: AgeHeader, passphrase: string): Promise<Buffer> {
  let fileKey: Buffer | null = null;
  for (const form of new Set([passphrase.normalize('NFC'), passphrase])) {
    const wrapKey = await scryptKey(Buffer.from(form, 'utf8'), scryptSalt(header.salt), scryptParams(header.logN), 32);
    fileKey = unwrap(wrapKey, header.wrappedKey);
    wrapKey.fill(0);
    if (fileKey) break;
  }
  if (!fileKey) throw new WrongPassphraseError();
  const macInput = header.bytes.subarray(0, header.bytes.lastIndexOf('\n---') + 4);
  if (!timingSafeEqual(headerMac(fileKey, macInput), header.mac)) {
    throw new InvalidArchiveError('the age header is damaged or altered (its MAC does not match)');
  }
  return fileKey;
}

function unwrap(wrapKey: Buffer, wrapped: Buffer): Buffer | null {
  const decipher = createDecipheriv('chacha20-poly1305', wrapKey, Buffer.alloc(12), { authTagLength: 16 });
  decipher.setAuthTag(wrapped.subarray(FILE_KEY_BYTES));
  const fileKey = decipher.update(wrapped.subarray(0, FILE_KEY_BYTES));
  try {
    decipher.final();
    return fileKey;
  } catch {
    return null;
  }
}

function headerMac(fileKey: Buffer, macInput: Buffer): Buffer {
  const key = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
  return createHmac('sha256', key).update(macInput).digest();
}

function scryptSalt(salt: Buffer): Buffer {
  return Buffer.concat([SCRYPT_SALT_LABEL, salt]);
}

function base64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Unpadded base64 as age writes it; anything else (padding, stray bits, other characters) is refused. */
function canonicalBase64(text: string, damaged: (why: string) => Error): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]*$/.test(text) || base64(bytes) !== text) throw damaged('non-canonical base64');
  return bytes;
}
