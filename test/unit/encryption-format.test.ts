// The encrypted archive formats on their own, age v1 (written) and BCPCRYPT (still read): every
// way a file can be cut, flipped, reordered, extended or made hostile is refused as a damaged
// archive, never opened, and never after handing out a byte that was not authenticated.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { before, describe, test } from 'node:test';
import { createAgeHeader, parseAgeHeader, unlockAgeHeader, type AgeHeader } from '../../src/archive/encryption/age-header.ts';
import {
  AGE_CHUNK_BYTES,
  AGE_NONCE_BYTES,
  AGE_TAG_BYTES,
  createAgeDecryptStream,
  createAgeEncryptStream,
} from '../../src/archive/encryption/age-payload.ts';
import { createBcpcryptDecryptStream, createBcpcryptEncryptStream, TAG_BYTES } from '../../src/archive/encryption/bcpcrypt-chunk-cipher.ts';
import {
  BCPCRYPT_SCRYPT,
  parseBcpcryptHeader,
  prepareBcpcrypt,
  sealBcpcrypt,
  unlockBcpcrypt,
  type BcpcryptHeader,
  type UnlockedBcpcrypt,
} from '../../src/archive/encryption/bcpcrypt-header.ts';
import { ArchiveSealer, SCRYPT_LOG_N, unlockArchive } from '../../src/archive/encryption/encrypted-archive.ts';
import { readEnvelopeHeader, type PublicMetadata } from '../../src/archive/encryption/envelope-header.ts';
import { scryptMemory } from '../../src/archive/encryption/kdf.ts';
import { InvalidArchiveError, WrongPassphraseError } from '../../src/core/errors.ts';

const PASSPHRASE = 'correct horse battery staple';
/** A cheap KDF cost keeps these many cases fast; the server's own tests use the real cost. */
const FAST_LOG_N = 10;

/** Fed in uneven pieces, as a gzip stream would be. */
function pieces(data: Buffer, size = 23 * 1024 + 7): Buffer[] {
  const out = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

function isDamage(what: string) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidArchiveError, `${what}: an InvalidArchiveError, not ${String(error)}`);
    return true;
  };
}

describe('age v1, as new archives are written', () => {
  const CHUNK = AGE_CHUNK_BYTES;
  const RECORD = CHUNK + AGE_TAG_BYTES;
  let header: AgeHeader;
  let fileKey: Buffer;
  let plaintext: Buffer;
  let sealed: Buffer;
  let payloadAt: number;

  before(async () => {
    ({ header, fileKey } = await createAgeHeader(PASSPHRASE, FAST_LOG_N));
    plaintext = randomBytes(CHUNK * 3 + 17);
    sealed = await encrypt(plaintext);
    payloadAt = header.bytes.length + AGE_NONCE_BYTES;
  });

  async function encrypt(data: Buffer, key = fileKey, head = header): Promise<Buffer> {
    return buffer(Readable.from(pieces(data)).pipe(createAgeEncryptStream(head.bytes, key)));
  }

  /** Decrypts `file` with the key unlocked from its own header (the passphrase's work skipped when it is this file's). */
  async function decrypt(file: Buffer): Promise<Buffer> {
    const own = (await readEnvelopeHeader(Readable.from([file]))) as AgeHeader;
    const key = own.bytes.equals(header.bytes) ? fileKey : await unlockAgeHeader(own, PASSPHRASE);
    return buffer(Readable.from([file]).pipe(createAgeDecryptStream(own.bytes, key)));
  }

  const assertDamaged = (file: Buffer, what: string) => assert.rejects(decrypt(file), isDamage(what));

  function recordOffsets(): number[] {
    const offsets = [];
    for (let at = payloadAt; at < sealed.length; at += RECORD) offsets.push(at);
    return offsets;
  }

  test('a round trip gives back the same bytes, for empty, exact-multiple and ragged sizes', async () => {
    assert.deepEqual(await decrypt(sealed), plaintext);
    for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, CHUNK * 3]) {
      const data = randomBytes(size);
      const file = await encrypt(data);
      assert.deepEqual(await decrypt(file), data, `${size} bytes`);
      const records = Math.max(1, Math.ceil(size / CHUNK));
      assert.equal(file.length, payloadAt + size + records * AGE_TAG_BYTES, `${size} bytes: no empty trailing chunk`);
    }
    assert.ok(!sealed.includes(plaintext.subarray(0, 16)), 'the payload is not the plaintext');
  });

  test('the header is age v1 with one scrypt stanza, and shows nothing else', async () => {
    const text = header.bytes.toString('latin1');
    assert.match(text, /^age-encryption\.org\/v1\n-> scrypt [A-Za-z0-9+/]{22} 10\n[A-Za-z0-9+/]{43}\n--- [A-Za-z0-9+/]{43}\n$/);
    const read = await readEnvelopeHeader(Readable.from([sealed]));
    assert.equal(read.format, 'age');
    assert.equal(read.metadata, null);
    assert.deepEqual(read.bytes, header.bytes);
  });

  test('a wrong passphrase is WrongPassphraseError, found from the header alone', async () => {
    await assert.rejects(unlockAgeHeader(header, 'not the passphrase'), WrongPassphraseError);
    await assert.rejects(unlockAgeHeader(header, PASSPHRASE.toUpperCase()), WrongPassphraseError);
    let reads = 0;
    const read = () => {
      reads++;
      return Readable.from([sealed]);
    };
    await assert.rejects(unlockArchive(read, 'not the passphrase'), WrongPassphraseError);
    assert.equal(reads, 1, 'only the header was read');
    assert.deepEqual(await unlockAgeHeader(header, PASSPHRASE), fileKey);
  });

  test('new archives take 64 MiB of scrypt; the 2^18 of `age -p` is read, and nothing above it', async () => {
    const sealer = await ArchiveSealer.create(PASSPHRASE);
    const { header: written } = sealer.seal(Readable.from([]));
    assert.equal(written.format === 'age' && written.logN, SCRYPT_LOG_N);
    assert.equal(scryptMemory({ logN: SCRYPT_LOG_N, r: 8, p: 1 }), 64 * 1024 * 1024);
    assert.throws(() => sealer.seal(Readable.from([])), /one archive/, 'a file key is never used twice');
    assert.equal(parseAgeHeader(withStanza(header, { logN: '18' })).logN, 18);
    assert.throws(() => parseAgeHeader(withStanza(header, { logN: '19' })), isDamage('2^19'));
  });

  test('a passphrase is the same key whatever its Unicode normal form', async () => {
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = composed.normalize('NFD');
    assert.notEqual(composed, decomposed);
    const made = await createAgeHeader(decomposed, FAST_LOG_N);
    assert.deepEqual(await unlockAgeHeader(made.header, composed), made.fileKey);
    assert.deepEqual(await unlockAgeHeader(made.header, decomposed), made.fileKey);
  });

  test('a cut in the header, the nonce, at a chunk boundary or beside one is refused', async () => {
    const cuts = new Set<number>();
    for (let length = 0; length <= payloadAt + AGE_TAG_BYTES; length++) cuts.add(length);
    for (const boundary of recordOffsets()) for (const delta of [-1, 0, 1, AGE_TAG_BYTES, RECORD - 1]) cuts.add(boundary + delta);
    cuts.add(sealed.length - 1);
    for (const length of [...cuts].filter((n) => n < sealed.length)) {
      await assertDamaged(sealed.subarray(0, length), `cut to ${length} bytes`);
    }
    // A cut at a boundary fed one byte at a time: the reader's look-ahead must not matter.
    const cut = sealed.subarray(0, recordOffsets()[2]);
    const bytes = [...cut].map((b) => Buffer.from([b]));
    await assert.rejects(buffer(Readable.from(bytes).pipe(createAgeDecryptStream(header.bytes, fileKey))), InvalidArchiveError);
  });

  test('a bit flipped in the header never opens it; outside the scrypt stanza it is damage, not a wrong passphrase', async () => {
    const text = header.bytes.toString('latin1');
    const stanza = text.indexOf('-> scrypt ');
    const argsFrom = stanza + '-> scrypt '.length;
    const bodyEnd = text.indexOf('\n---');
    for (let at = 0; at < header.bytes.length; at++) {
      const file = Buffer.from(sealed);
      file[at]! ^= 0x01;
      const opened = (async () => unlockAgeHeader((await readEnvelopeHeader(Readable.from([file]))) as AgeHeader, PASSPHRASE))();
      if (at >= argsFrom && at < bodyEnd) {
        // Salt, work factor and wrapped key: age has no unkeyed checksum, so a changed one can
        // only show as a key that does not unwrap (docs/FORMAT.md).
        await assert.rejects(opened, (error: unknown) => error instanceof InvalidArchiveError || error instanceof WrongPassphraseError);
      } else {
        await assert.rejects(opened, isDamage(`header byte ${at}`));
      }
    }
  });

  test('a bit flipped in the nonce, a chunk or a tag is refused, and nothing past it is released', async () => {
    const positions = new Set<number>();
    for (let at = header.bytes.length; at < payloadAt + 64; at++) positions.add(at);
    for (const record of recordOffsets()) for (let at = record; at < record + 32; at++) positions.add(at);
    for (let at = sealed.length - 32; at < sealed.length; at++) positions.add(at);
    for (let i = 0; i < 100; i++) positions.add(payloadAt + Math.floor(Math.random() * (sealed.length - payloadAt)));
    for (const at of positions) {
      const file = Buffer.from(sealed);
      file[at]! ^= 0x80;
      await assertDamaged(file, `payload byte ${at}`);
    }
    // A flip in the second chunk: the first chunk's bytes may come out, none of the second's.
    const file = Buffer.from(sealed);
    file[payloadAt + RECORD + 3]! ^= 0x01;
    const released: Buffer[] = [];
    const stream = Readable.from([file]).pipe(createAgeDecryptStream(header.bytes, fileKey));
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

  test("swapped, repeated or dropped chunks, and another file's payload, are refused", async () => {
    const [first, second] = recordOffsets();
    const record = (at: number) => sealed.subarray(at, at + RECORD);
    const head = sealed.subarray(0, payloadAt);
    const rest = sealed.subarray(second! + RECORD);
    await assertDamaged(Buffer.concat([head, record(second!), record(first!), rest]), 'first two chunks swapped');
    await assertDamaged(Buffer.concat([head, record(first!), record(first!), rest]), 'first chunk twice');
    await assertDamaged(Buffer.concat([head, record(first!), rest]), 'second chunk dropped');
    const other = await createAgeHeader(PASSPHRASE, FAST_LOG_N);
    const otherFile = await encrypt(randomBytes(plaintext.length), other.fileKey, other.header);
    await assertDamaged(Buffer.concat([header.bytes, otherFile.subarray(other.header.bytes.length)]), 'payload of another file');
  });

  test('anything appended after the last chunk is refused, and so is an empty last chunk after a full one', async () => {
    await assertDamaged(Buffer.concat([sealed, Buffer.from([0])]), 'one byte appended');
    await assertDamaged(Buffer.concat([sealed, randomBytes(AGE_TAG_BYTES)]), 'a tag-sized tail');
    const again = await encrypt(randomBytes(10));
    await assertDamaged(Buffer.concat([sealed, again.subarray(payloadAt)]), 'a genuine chunk of another file under the same file key');

    // Sealed by hand: one full chunk marked as not last, then an empty last chunk.
    const nonce = randomBytes(AGE_NONCE_BYTES);
    const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
    const seal = (data: Buffer, counter: number, last: boolean) => {
      const chunkNonce = Buffer.alloc(12);
      chunkNonce.writeUIntBE(counter, 5, 6);
      chunkNonce[11] = last ? 1 : 0;
      const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce, { authTagLength: 16 });
      return Buffer.concat([cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    };
    const full = randomBytes(CHUNK);
    const handMade = (...chunks: Buffer[]) => Buffer.concat([header.bytes, nonce, ...chunks]);
    assert.deepEqual(await decrypt(handMade(seal(full, 0, true))), full, 'the hand-made seal is right');
    await assertDamaged(handMade(seal(full, 0, false), seal(Buffer.alloc(0), 1, true)), 'an empty last chunk');
  });

  test('a header that is hostile, malformed or for other recipients is refused before any key work', async () => {
    const stanzaLine = (args: string) => `-> ${args}\n`;
    const { salt, body, mac } = headerParts(header);
    const cases: [string, string][] = [
      ['2^19', withStanzaText(header, { logN: '19' })],
      ['2^22', withStanzaText(header, { logN: '22' })],
      ['2^30', withStanzaText(header, { logN: '30' })],
      ['2^4294967296', withStanzaText(header, { logN: '4294967296' })],
      ['a leading zero', withStanzaText(header, { logN: '010' })],
      ['a work factor of 0', withStanzaText(header, { logN: '0' })],
      ['a 15-byte salt', withStanzaText(header, { salt: Buffer.alloc(15, 1).toString('base64').replace(/=+$/, '') })],
      ['a padded salt', withStanzaText(header, { salt: `${salt}==` })],
      ['a 31-byte wrapped key', withStanzaText(header, { body: Buffer.alloc(31, 1).toString('base64').replace(/=+$/, '') })],
      ['an extra argument', `age-encryption.org/v1\n${stanzaLine(`scrypt ${salt} 10 more`)}${body}\n--- ${mac}\n`],
      [
        'two scrypt stanzas',
        `age-encryption.org/v1\n${stanzaLine(`scrypt ${salt} 10`)}${body}\n${stanzaLine(`scrypt ${salt} 10`)}${body}\n--- ${mac}\n`,
      ],
      [
        'an X25519 stanza beside it',
        `age-encryption.org/v1\n${stanzaLine(`X25519 ${salt}`)}${body}\n${stanzaLine(`scrypt ${salt} 10`)}${body}\n--- ${mac}\n`,
      ],
      ['an X25519 file', `age-encryption.org/v1\n${stanzaLine(`X25519 ${salt}`)}${body}\n--- ${mac}\n`],
      ['no stanza', `age-encryption.org/v1\n--- ${mac}\n`],
      ['age v2', header.bytes.toString('latin1').replace('/v1', '/v2')],
      ['CRLF lines', header.bytes.toString('latin1').replace(/\n/g, '\r\n')],
      ['an armored file', `-----BEGIN AGE ENCRYPTED FILE-----\n${sealed.subarray(0, 48).toString('base64')}\n`],
      ['no end to the header', `age-encryption.org/v1\n${stanzaLine(`scrypt ${salt} 10`)}${'A'.repeat(63)}\n`.padEnd(20_000, 'A')],
    ];
    for (const [what, text] of cases) {
      const file = Buffer.concat([Buffer.from(text, 'latin1'), randomBytes(64)]);
      await assert.rejects(readEnvelopeHeader(Readable.from([file])), isDamage(what));
    }
    await assert.rejects(readEnvelopeHeader(Readable.from([Buffer.from('age-encryption.org/v1\n-> scr')])), /ends inside its header/);
  });
});

function headerParts(header: AgeHeader): { salt: string; logN: string; body: string; mac: string } {
  const [, args, body, macLine] = header.bytes.toString('latin1').split('\n');
  const [, salt, logN] = args!.split(' ').slice(1);
  return { salt: salt!, logN: logN!, body: body!, mac: macLine!.slice(4) };
}

/** The header's text with stanza parts replaced (its MAC then no longer matches, which parsing does not check). */
function withStanzaText(header: AgeHeader, change: { salt?: string; logN?: string; body?: string }): string {
  const parts = { ...headerParts(header), ...change };
  return `age-encryption.org/v1\n-> scrypt ${parts.salt} ${parts.logN}\n${parts.body}\n--- ${parts.mac}\n`;
}

function withStanza(header: AgeHeader, change: { salt?: string; logN?: string; body?: string }): Buffer {
  return Buffer.from(withStanzaText(header, change), 'latin1');
}

describe('BCPCRYPT, the format before age, still read', () => {
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
  const FAST_KDF = { logN: FAST_LOG_N, r: 8, p: 1 };

  let envelope: UnlockedBcpcrypt;
  let plaintext: Buffer;
  let sealed: Buffer;
  let headerLength: number;

  before(async () => {
    envelope = sealBcpcrypt(await prepareBcpcrypt(PASSPHRASE, { kdf: FAST_KDF, chunkSize: CHUNK }), metadata);
    plaintext = randomBytes(CHUNK * 4 + 17);
    sealed = await encrypt(envelope, plaintext);
    headerLength = envelope.header.bytes.length;
  });

  async function encrypt(unlocked: UnlockedBcpcrypt, data: Buffer): Promise<Buffer> {
    return buffer(Readable.from(pieces(data, 23)).pipe(createBcpcryptEncryptStream(unlocked)));
  }

  async function readHeader(file: Buffer): Promise<BcpcryptHeader> {
    const header = await readEnvelopeHeader(Readable.from([file]));
    assert.equal(header.format, 'bcpcrypt');
    return header as BcpcryptHeader;
  }

  /** Decrypts `file` with a key unlocked from its own header, as the server does. */
  async function decrypt(file: Buffer, unlocked = envelope): Promise<Buffer> {
    const header = await readHeader(file);
    const key = header.bytes.equals(unlocked.header.bytes) ? unlocked : await unlockBcpcrypt(header, PASSPHRASE);
    return buffer(Readable.from([file]).pipe(createBcpcryptDecryptStream(key)));
  }

  const assertDamaged = (file: Buffer, what: string) => assert.rejects(decrypt(file), isDamage(what));

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
    const header = await readHeader(sealed);
    assert.deepEqual(header.metadata, metadata);
    assert.deepEqual(header.kdf, FAST_KDF);
    assert.equal(header.chunkSize, CHUNK);
  });

  test('a wrong passphrase is WrongPassphraseError, found from the header alone; the right one opens it through unlockArchive', async () => {
    const header = parseBcpcryptHeader(sealed.subarray(0, headerLength));
    await assert.rejects(unlockBcpcrypt(header, 'not the passphrase'), WrongPassphraseError);
    await assert.rejects(unlockBcpcrypt(header, PASSPHRASE.toUpperCase()), WrongPassphraseError);
    const unlocked = await unlockBcpcrypt(header, PASSPHRASE);
    assert.deepEqual(unlocked.key, envelope.key);
    const archive = await unlockArchive(() => Readable.from([sealed]), PASSPHRASE);
    assert.deepEqual(await buffer(archive.open()), plaintext);
  });

  test('archives written with 2^16, 8, 2 and the earlier 2^17, 8, 1 open', async () => {
    assert.deepEqual(BCPCRYPT_SCRYPT, { logN: 16, r: 8, p: 2 });
    for (const kdf of [BCPCRYPT_SCRYPT, { logN: 17, r: 8, p: 1 }]) {
      const earlier = sealBcpcrypt(await prepareBcpcrypt(PASSPHRASE, { kdf, chunkSize: CHUNK }), metadata);
      const data = randomBytes(CHUNK * 2 + 5);
      const file = await encrypt(earlier, data);
      const header = await readHeader(file);
      assert.deepEqual(header.kdf, kdf);
      const unlocked = await unlockBcpcrypt(header, PASSPHRASE);
      assert.deepEqual(await buffer(Readable.from([file]).pipe(createBcpcryptDecryptStream(unlocked))), data);
    }
  });

  test('a passphrase is the same key whatever its Unicode normal form', async () => {
    const composed = 'caf\u00e9 au lait, s\u2019il vous pla\u00eet';
    const decomposed = composed.normalize('NFD');
    assert.notEqual(composed, decomposed);
    const sealedNfc = sealBcpcrypt(await prepareBcpcrypt(composed, { kdf: FAST_KDF, chunkSize: CHUNK }), metadata);
    const unlocked = await unlockBcpcrypt(sealedNfc.header, decomposed);
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
      await assert.rejects(buffer(Readable.from(bytes).pipe(createBcpcryptDecryptStream(envelope))), InvalidArchiveError);
    }
  });

  test('a bit flipped anywhere in the header is damage, never a wrong passphrase', async () => {
    for (let at = 0; at < headerLength; at++) {
      const file = Buffer.from(sealed);
      file[at]! ^= 0x01;
      await assert.rejects((async () => unlockBcpcrypt(await readHeader(file), PASSPHRASE))(), isDamage(`header byte ${at}`));
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
    const stream = Readable.from([file]).pipe(createBcpcryptDecryptStream(envelope));
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
    const other = sealBcpcrypt(await prepareBcpcrypt(PASSPHRASE, { kdf: FAST_KDF, chunkSize: CHUNK }), metadata);
    const otherFile = await encrypt(other, randomBytes(plaintext.length));
    const spliced = Buffer.concat([sealed.subarray(0, headerLength), otherFile.subarray(other.header.bytes.length)]);
    await assertDamaged(spliced, 'body of another file');
  });

  test('metadata edited with a recomputed checksum opens with the passphrase but fails the first chunk', async () => {
    const edited = rewriteHeader(sealed, (json) =>
      json.replace('"schemaVersion":"20261101000000_init"', '"schemaVersion":"20261101000000_xxxx"'),
    );
    const header = await readHeader(edited);
    assert.equal(header.metadata.schemaVersion, '20261101000000_xxxx', 'the listing would show the edit');
    const unlocked = await unlockBcpcrypt(header, PASSPHRASE);
    await assert.rejects(buffer(Readable.from([edited]).pipe(createBcpcryptDecryptStream(unlocked))), InvalidArchiveError);
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
});
