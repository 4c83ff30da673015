// A reader of encrypted backups written from docs/FORMAT.md alone, age v1 and the BCPCRYPT
// format before it, with node:crypto, node:zlib and tar, and nothing from src/: if the document
// and the software drift apart, the test that uses it fails. Buffers the whole file; it is for
// checking, not for size.
import { createDecipheriv, createHash, createHmac, hkdfSync, scryptSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

export interface IndependentlyRead {
  format: 'age' | 'bcpcrypt';
  /** The BCPCRYPT header's public metadata; null for age, which shows none. */
  publicMetadata: Record<string, unknown> | null;
  /** Every tar entry, in order, with its bytes. */
  entries: Map<string, Buffer>;
}

const MAX_MEMORY = 256 * 1024 * 1024 + 1024 * 1024;

export async function readEncryptedBackup(file: Buffer, passphrase: string): Promise<IndependentlyRead> {
  if (file.subarray(0, 22).toString('latin1') === 'age-encryption.org/v1\n') {
    return { format: 'age', publicMetadata: null, entries: await untar(readAge(file, passphrase)) };
  }
  const { tarGz, publicMetadata } = readBcpcrypt(file, passphrase);
  return { format: 'bcpcrypt', publicMetadata, entries: await untar(tarGz) };
}

function readAge(file: Buffer, passphrase: string): Buffer {
  // Header: four lines, the MAC line last.
  const headerEnd = file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
  const [version, stanza, wrappedText, macLine] = file
    .subarray(0, headerEnd - 1)
    .toString('latin1')
    .split('\n');
  const [arrow, type, saltText, logN] = stanza!.split(' ');
  if (version !== 'age-encryption.org/v1' || arrow !== '->' || type !== 'scrypt') throw new Error('not a passphrase age file');
  const wrapKey = scryptSync(
    Buffer.from(passphrase.normalize('NFC'), 'utf8'),
    Buffer.concat([Buffer.from('age-encryption.org/v1/scrypt'), Buffer.from(saltText!, 'base64')]),
    32,
    { N: 2 ** Number(logN), r: 8, p: 1, maxmem: MAX_MEMORY },
  );
  const wrapped = Buffer.from(wrappedText!, 'base64');
  const fileKey = chacha(wrapKey, Buffer.alloc(12), wrapped, 'wrong passphrase');
  const macKey = Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
  const mac = createHmac('sha256', macKey)
    .update(file.subarray(0, file.indexOf('\n---') + 4))
    .digest();
  if (!mac.equals(Buffer.from(macLine!.slice(4), 'base64'))) throw new Error('header MAC');

  const nonce = file.subarray(headerEnd, headerEnd + 16);
  const payloadKey = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  const payload = file.subarray(headerEnd + 16);
  const plain: Buffer[] = [];
  for (let at = 0, counter = 0; ; at += 65536 + 16, counter++) {
    const last = payload.length - at <= 65536 + 16;
    const chunkNonce = Buffer.alloc(12);
    chunkNonce.writeUIntBE(counter, 5, 6);
    chunkNonce[11] = last ? 1 : 0;
    plain.push(chacha(payloadKey, chunkNonce, payload.subarray(at, at + 65536 + 16), `chunk ${counter}`));
    if (last) break;
  }
  return Buffer.concat(plain);
}

function chacha(key: Buffer, nonce: Buffer, sealed: Buffer, what: string): Buffer {
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = decipher.update(sealed.subarray(0, sealed.length - 16));
  try {
    decipher.final();
  } catch {
    throw new Error(what);
  }
  return plain;
}

function readBcpcrypt(file: Buffer, passphrase: string): { tarGz: Buffer; publicMetadata: Record<string, unknown> } {
  // Fixed part: magic, version, kdf, log2 N, r, p, chunk size, salt, nonce prefix, metadata length.
  if (file.subarray(0, 8).toString('ascii') !== 'BCPCRYPT') throw new Error('bad magic');
  if (file[8] !== 1 || file[9] !== 1) throw new Error('unknown version or KDF');
  const logN = file[10]!;
  const r = file[11]!;
  const p = file[12]!;
  const chunkSize = file.readUInt32BE(13);
  const salt = file.subarray(17, 49);
  const noncePrefix = file.subarray(49, 56);
  const metadataLength = file.readUInt32BE(56);
  const metadataEnd = 60 + metadataLength;
  const header = file.subarray(0, metadataEnd + 64);
  const checksum = createHash('sha256')
    .update(header.subarray(0, metadataEnd + 32))
    .digest();
  if (!checksum.equals(header.subarray(metadataEnd + 32))) throw new Error('header checksum');

  const derived = scryptSync(Buffer.from(passphrase.normalize('NFC'), 'utf8'), salt, 64, { N: 2 ** logN, r, p, maxmem: MAX_MEMORY });
  const keyCheck = createHmac('sha256', derived.subarray(32, 64))
    .update(Buffer.from('BCPCRYPT key check v1', 'ascii'))
    .update(file.subarray(0, 56))
    .digest();
  if (!keyCheck.equals(header.subarray(metadataEnd, metadataEnd + 32))) throw new Error('wrong passphrase');

  const body = file.subarray(header.length);
  const record = chunkSize + 16;
  const plain: Buffer[] = [];
  let counter = 0;
  for (let at = 0; ; at += record) {
    const final = body.length - at <= record;
    const sealed = body.subarray(at, Math.min(at + record, body.length));
    const nonce = Buffer.concat([
      noncePrefix,
      Buffer.from([counter >>> 24, (counter >>> 16) & 255, (counter >>> 8) & 255, counter & 255]),
      Buffer.from([final ? 1 : 0]),
    ]);
    const decipher = createDecipheriv('aes-256-gcm', derived.subarray(0, 32), nonce);
    decipher.setAAD(header);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    plain.push(decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final());
    counter++;
    if (final) break;
  }
  return { tarGz: Buffer.concat(plain), publicMetadata: JSON.parse(file.subarray(60, metadataEnd).toString('utf8')) };
}

async function untar(tarGz: Buffer): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  const parser = new Parser();
  const done = new Promise<void>((resolve, reject) => {
    parser.on('entry', (entry: ReadEntry) => {
      const parts: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => parts.push(chunk));
      entry.on('end', () => entries.set(entry.path, Buffer.concat(parts)));
    });
    parser.on('end', () => resolve());
    parser.on('error', reject);
  });
  parser.end(gunzipSync(tarGz));
  await done;
  return entries;
}
