// The encrypted archive format on its own: every way a file can be cut, flipped, reordered,
// extended or made hostile is refused as a damaged archive, never as a wrong passphrase,
// and never after handing out a byte that was not authenticated.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { before, test } from 'node:test';
import { createDecryptStream, createEncryptStream, TAG_BYTES } from '../../src/archive/encryption/chunk-cipher.ts';
import {
  parseEnvelopeHeader,
  prepareEnvelope,
  readEnvelopeHeader,
  sealEnvelope,
  unlockEnvelope,
  type PublicMetadata,
  type UnlockedEnvelope,
} from '../../src/archive/encryption/envelope-header.ts';
import { scryptMemory } from '../../src/archive/encryption/kdf.ts';
import { InvalidArchiveError, WrongPassphraseError } from '../../src/core/errors.ts';

const PASSPHRASE = 'correct horse battery staple';
/** A cheap KDF cost keeps these many cases fast; the server's own tests use the real cost. */
const FAST_KDF = { logN: 10, r: 8, p: 1 };
const CHUNK = 64;
const metadata: PublicMetadata = {
  formatVersion: 1,
  appVersion: '0.1.0',
  createdAt: '2026-11-22T03:00:00.000Z',
  kind: 'manual',
  targetName: 'app',
  includesMedia: false,
  provider: 'sqlite',
  schemaVersion: '20261101000000_init',
  migrations: ['20261101000000_init'],
};

let envelope: UnlockedEnvelope;
let plaintext: Buffer;
let sealed: Buffer;
let headerLength: number;

before(async () => {
  envelope = sealEnvelope(await prepareEnvelope(PASSPHRASE, { kdf: FAST_KDF, chunkSize: CHUNK }), metadata);
  plaintext = randomBytes(CHUNK * 4 + 17);
  sealed = await encrypt(envelope, plaintext);
  headerLength = envelope.header.bytes.length;
});

async function encrypt(unlocked: UnlockedEnvelope, data: Buffer): Promise<Buffer> {
  // Fed in uneven pieces, as a gzip stream would be.
  const pieces = [];
  for (let at = 0; at < data.length; at += 23) pieces.push(data.subarray(at, at + 23));
  return buffer(Readable.from(pieces).pipe(createEncryptStream(unlocked)));
}

/** Decrypts `file` with a key unlocked from its own header, as the server does. */
async function decrypt(file: Buffer, unlocked = envelope): Promise<Buffer> {
  const header = await readEnvelopeHeader(Readable.from([file]));
  const key = header.bytes.equals(unlocked.header.bytes) ? unlocked : await unlockEnvelope(header, PASSPHRASE);
  return buffer(Readable.from([file]).pipe(createDecryptStream(key)));
}

async function assertDamaged(file: Buffer, what: string) {
  await assert.rejects(decrypt(file), (error: unknown) => {
    assert.ok(error instanceof InvalidArchiveError, `${what}: an InvalidArchiveError, not ${String(error)}`);
    return true;
  });
}

function recordOffsets(): number[] {
  const offsets = [];
  for (let at = headerLength; at < sealed.length; at += CHUNK + TAG_BYTES) offsets.push(at);
  return offsets;
}

test('a round trip gives back the same bytes, for empty, exact-multiple and ragged sizes', async () => {
  assert.deepEqual(await decrypt(sealed), plaintext);
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * 3]) {
    const data = randomBytes(size);
    const file = await encrypt(envelope, data);
    assert.deepEqual(await decrypt(file), data, `${size} bytes`);
    const records = Math.max(1, Math.ceil(size / CHUNK));
    assert.equal(file.length, headerLength + size + records * TAG_BYTES, `${size} bytes: no empty trailing chunk`);
  }
  assert.ok(!sealed.includes(plaintext.subarray(0, 16)), 'the body is not the plaintext');
});

test('the header shows the public metadata without the passphrase', async () => {
  const header = await readEnvelopeHeader(Readable.from([sealed]));
  assert.deepEqual(header.metadata, metadata);
  assert.deepEqual(header.kdf, FAST_KDF);
  assert.equal(header.chunkSize, CHUNK);
});

test('a wrong passphrase is WrongPassphraseError, found from the header alone', async () => {
  const header = parseEnvelopeHeader(sealed.subarray(0, headerLength));
  await assert.rejects(unlockEnvelope(header, 'not the passphrase'), WrongPassphraseError);
  await assert.rejects(unlockEnvelope(header, PASSPHRASE.toUpperCase()), WrongPassphraseError);
  const unlocked = await unlockEnvelope(header, PASSPHRASE);
  assert.deepEqual(unlocked.key, envelope.key);
});

test('new archives take 64 MiB of scrypt, and one written with the earlier 2^17, 8, 1 still opens', async () => {
  const current = sealEnvelope(await prepareEnvelope(PASSPHRASE), metadata);
  assert.deepEqual(current.header.kdf, { logN: 16, r: 8, p: 2 });
  assert.equal(scryptMemory(current.header.kdf), 64 * 1024 * 1024);
  const earlier = sealEnvelope(await prepareEnvelope(PASSPHRASE, { kdf: { logN: 17, r: 8, p: 1 }, chunkSize: CHUNK }), metadata);
  const data = randomBytes(CHUNK * 2 + 5);
  const file = await encrypt(earlier, data);
  const header = await readEnvelopeHeader(Readable.from([file]));
  assert.deepEqual(header.kdf, { logN: 17, r: 8, p: 1 });
  const unlocked = await unlockEnvelope(header, PASSPHRASE);
  assert.deepEqual(await buffer(Readable.from([file]).pipe(createDecryptStream(unlocked))), data);
});

test('a passphrase is the same key whatever its Unicode normal form', async () => {
  const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
  const decomposed = composed.normalize('NFD');
  assert.notEqual(composed, decomposed);
  const sealedNfc = sealEnvelope(await prepareEnvelope(composed, { kdf: FAST_KDF, chunkSize: CHUNK }), metadata);
  const unlocked = await unlockEnvelope(sealedNfc.header, decomposed);
  assert.deepEqual(unlocked.key, sealedNfc.key);
});

test('a cut at every byte of the file is refused', async () => {
  for (let length = 0; length < sealed.length; length++) {
    await assertDamaged(sealed.subarray(0, length), `cut to ${length} bytes`);
  }
});

test('a cut at every chunk boundary is refused, however the file is read', async () => {
  for (const boundary of recordOffsets()) {
    await assertDamaged(sealed.subarray(0, boundary), `cut at ${boundary}`);
    // The same cut, fed one byte at a time: the reader's look-ahead must not matter.
    const bytes = [...sealed.subarray(0, boundary)].map((b) => Buffer.from([b]));
    await assert.rejects(buffer(Readable.from(bytes).pipe(createDecryptStream(envelope))), InvalidArchiveError);
  }
});

test('a bit flipped anywhere in the header is damage, never a wrong passphrase', async () => {
  for (let at = 0; at < headerLength; at++) {
    const file = Buffer.from(sealed);
    file[at]! ^= 0x01;
    await assert.rejects((async () => unlockEnvelope(await readEnvelopeHeader(Readable.from([file])), PASSPHRASE))(), (error: unknown) => {
      assert.ok(error instanceof InvalidArchiveError, `header byte ${at}: ${String(error)}`);
      return true;
    });
  }
});

test('a bit flipped anywhere in the body or a tag is refused, and nothing past it is released', async () => {
  for (let at = headerLength; at < sealed.length; at++) {
    const file = Buffer.from(sealed);
    file[at]! ^= 0x80;
    await assertDamaged(file, `body byte ${at}`);
  }
  // A flip in the second chunk: the first chunk's bytes may come out, none of the second's.
  const file = Buffer.from(sealed);
  file[headerLength + CHUNK + TAG_BYTES + 3]! ^= 0x01;
  const released: Buffer[] = [];
  const stream = Readable.from([file]).pipe(createDecryptStream(envelope));
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) released.push(chunk as Buffer);
    })(),
    InvalidArchiveError,
  );
  const out = Buffer.concat(released);
  assert.ok(out.length <= CHUNK, `at most the first chunk was released (${out.length} bytes)`);
  assert.deepEqual(out, plaintext.subarray(0, out.length));
});

test('swapped, repeated or dropped chunks are refused', async () => {
  const [first, second] = recordOffsets();
  const record = (at: number) => sealed.subarray(at, at + CHUNK + TAG_BYTES);
  const header = sealed.subarray(0, headerLength);
  const rest = sealed.subarray(second! + CHUNK + TAG_BYTES);
  await assertDamaged(Buffer.concat([header, record(second!), record(first!), rest]), 'first two chunks swapped');
  await assertDamaged(Buffer.concat([header, record(first!), record(first!), rest]), 'first chunk twice');
  await assertDamaged(Buffer.concat([header, record(first!), rest]), 'second chunk dropped');
});

test('anything appended after the last chunk is refused', async () => {
  await assertDamaged(Buffer.concat([sealed, Buffer.from([0])]), 'one byte appended');
  await assertDamaged(Buffer.concat([sealed, randomBytes(TAG_BYTES)]), 'a tag-sized tail');
  const other = await encrypt(envelope, randomBytes(10));
  await assertDamaged(Buffer.concat([sealed, other.subarray(headerLength)]), 'a genuine chunk of another file under the same key');
});

test('chunks spliced from another file under the same passphrase are refused', async () => {
  const other = sealEnvelope(await prepareEnvelope(PASSPHRASE, { kdf: FAST_KDF, chunkSize: CHUNK }), metadata);
  const otherFile = await encrypt(other, randomBytes(plaintext.length));
  const spliced = Buffer.concat([sealed.subarray(0, headerLength), otherFile.subarray(other.header.bytes.length)]);
  await assertDamaged(spliced, 'body of another file');
});

test('metadata edited with a recomputed checksum opens with the passphrase but fails the first chunk', async () => {
  const edited = rewriteHeader(sealed, (json) =>
    json.replace('"schemaVersion":"20261101000000_init"', '"schemaVersion":"20261101000000_xxxx"'),
  );
  const header = await readEnvelopeHeader(Readable.from([edited]));
  assert.equal(header.metadata.schemaVersion, '20261101000000_xxxx', 'the listing would show the edit');
  const unlocked = await unlockEnvelope(header, PASSPHRASE);
  await assert.rejects(buffer(Readable.from([edited]).pipe(createDecryptStream(unlocked))), InvalidArchiveError);
});

test('a header asking for an absurd KDF cost or sizes is refused before any work', async () => {
  const cases: [string, (header: Buffer) => void][] = [
    ['log2 N of 30', (h) => h.writeUInt8(30, 10)],
    ['log2 N of 255', (h) => h.writeUInt8(255, 10)],
    ['r of 255', (h) => h.writeUInt8(255, 11)],
    ['p of 255', (h) => h.writeUInt8(255, 12)],
    ['log2 N of 0', (h) => h.writeUInt8(0, 10)],
    ['a 4 GiB chunk', (h) => h.writeUInt32BE(0xffffffff, 13)],
    ['a zero chunk', (h) => h.writeUInt32BE(0, 13)],
    ['an unknown KDF', (h) => h.writeUInt8(9, 9)],
    ['format version 2', (h) => h.writeUInt8(2, 8)],
  ];
  for (const [what, change] of cases) {
    const file = withChecksum(sealed, change);
    // Reading the header never derives a key: a hostile one is refused before any scrypt runs.
    await assert.rejects(readEnvelopeHeader(Readable.from([file])), InvalidArchiveError, what);
  }
  const huge = Buffer.from(sealed);
  huge.writeUInt32BE(0x7fffffff, 56);
  await assert.rejects(readEnvelopeHeader(Readable.from([huge])), /metadata, more than/);
  await assert.rejects(readEnvelopeHeader(Readable.from([Buffer.from('not an archive at all')])), /magic/);
});

/** Applies `change` to the fixed part of the header and fixes its checksum, as an attacker would. */
function withChecksum(file: Buffer, change: (header: Buffer) => void): Buffer {
  const header = Buffer.from(file.subarray(0, headerLength));
  change(header);
  createHash('sha256')
    .update(header.subarray(0, headerLength - 32))
    .digest()
    .copy(header, headerLength - 32);
  return Buffer.concat([header, file.subarray(headerLength)]);
}

/** Rewrites the metadata JSON (any length) and recomputes the header checksum. */
function rewriteHeader(file: Buffer, edit: (json: string) => string): Buffer {
  const metadataLength = file.readUInt32BE(56);
  const json = Buffer.from(edit(file.subarray(60, 60 + metadataLength).toString('utf8')), 'utf8');
  const keyCheck = file.subarray(60 + metadataLength, 92 + metadataLength);
  const fixed = Buffer.from(file.subarray(0, 60));
  fixed.writeUInt32BE(json.length, 56);
  const body = Buffer.concat([fixed, json, keyCheck]);
  return Buffer.concat([body, createHash('sha256').update(body).digest(), file.subarray(headerLength)]);
}
