// A reader of encrypted backups written from docs/FORMAT.md alone, with node:crypto,
// node:zlib and tar, and nothing from src/: if the document and the software drift apart,
// the test that uses it fails. Buffers the whole file; it is for checking, not for size.
import { createDecipheriv, createHash, createHmac, scryptSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

export interface IndependentlyRead {
  publicMetadata: Record<string, unknown>;
  /** Every tar entry, in order, with its bytes. */
  entries: Map<string, Buffer>;
}

export async function readEncryptedBackup(file: Buffer, passphrase: string): Promise<IndependentlyRead> {
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

  const derived = scryptSync(Buffer.from(passphrase.normalize('NFC'), 'utf8'), salt, 64, {
    N: 2 ** logN,
    r,
    p,
    maxmem: 256 * 1024 * 1024 + 1024 * 1024,
  });
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
  parser.end(gunzipSync(Buffer.concat(plain)));
  await done;
  return { publicMetadata: JSON.parse(file.subarray(60, metadataEnd).toString('utf8')), entries };
}
