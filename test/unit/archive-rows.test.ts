// Reading an archive's rows keeps every character: multi-byte UTF-8 split across the
// decompressor's chunks must come back whole, never as U+FFFD (a restore once did this).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readArchiveLines, readArchiveRows } from '../../src/ndjson/archive-rows.ts';
import { assembleTarGz } from '../../src/archive/tar-gz-assembler.ts';
import type { EncodedValue } from '../../src/ndjson/value-encoder.ts';

test('rows with multi-byte characters on every chunk boundary read back exactly', async () => {
  // 2-, 3- and 4-byte characters at shifting offsets: over 3 MB, the decompressor's chunks
  // end inside characters many times, at every byte of them.
  const rows: EncodedValue[][] = [];
  for (let i = 0; i < 40_000; i++) rows.push([i, `${'x'.repeat(i % 7)}é€🎬 Señor Ünder ${i}`, '日本語'.repeat(1 + (i % 5))]);
  const text = rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
  const archive = await new Response(
    Readable.toWeb(assembleTarGz([{ name: 'db/T.ndjson', content: Buffer.from(text), date: new Date(0) }])) as ReadableStream,
  ).arrayBuffer();
  const read: EncodedValue[][] = [];
  for await (const batch of readArchiveRows(Readable.from([Buffer.from(archive)]), 1_000)) read.push(...batch.rows);
  assert.equal(read.length, rows.length);
  assert.deepEqual(read, rows);

  // Unparsed, the same archive comes back as pieces of whole lines: the same bytes in all.
  const pieces: Buffer[] = [];
  let counted = 0;
  for await (const chunk of readArchiveLines(Readable.from([Buffer.from(archive)]))) {
    assert.equal(chunk.lines.at(-1), 10, 'every piece ends at a line end');
    pieces.push(chunk.lines);
    counted += chunk.lines.toString('utf8').split('\n').length - 1;
  }
  assert.ok(pieces.length > 1);
  assert.equal(counted, rows.length);
  assert.ok(Buffer.concat(pieces).equals(Buffer.from(text)));
});

test('a line longer than the limit is refused as it arrives, before it is held whole', async () => {
  const { linePieces, LineTooLongError } = await import('../../src/ndjson/line-pieces.ts');
  // 64 KiB chunks with no newline: the old reader joined all of them again at every chunk.
  async function* noNewline(chunks: number) {
    for (let i = 0; i < chunks; i++) yield Buffer.alloc(64 * 1024, 0x20);
  }
  await assert.rejects(async () => {
    for await (const piece of linePieces(noNewline(4096), 0, 128 * 1024 * 1024)) void piece;
  }, LineTooLongError);
  // Within the limit, a long line still arrives whole, and the lines around it too.
  const pieces: Buffer[] = [];
  async function* around() {
    yield Buffer.from('[1]\n["');
    for (let i = 0; i < 100; i++) yield Buffer.alloc(1024, 0x61);
    yield Buffer.from('"]\n[2]');
  }
  for await (const piece of linePieces(around(), 0, 1024 * 1024)) pieces.push(piece);
  const lines = Buffer.concat(pieces).toString().split('\n');
  assert.deepEqual(
    lines.map((line) => line.length),
    [3, 102_404, 3],
  );
  assert.ok(
    pieces.slice(0, -1).every((piece) => piece.at(-1) === 10),
    'every piece but the last ends at a line end',
  );
});

test('a manifest of megabytes of empty objects is refused before it is parsed', async () => {
  const { parseManifest, MAX_MANIFEST_CONTAINERS } = await import('../../src/archive/archive-reader.ts');
  const bomb = Buffer.from(`{"tables":[${'{},'.repeat(MAX_MANIFEST_CONTAINERS)}{}]}`);
  assert.throws(() => parseManifest(bomb), /opens \d+ objects and lists/);
});

test('the longest line of a page is measured in bytes, as the reader bounds it', async () => {
  const { longestLineBytes } = await import('../../src/ndjson/line-pieces.ts');
  assert.equal(longestLineBytes('["a"]\n["ééé"]\n'), 10);
  assert.equal(longestLineBytes(Buffer.from('[1]\n[22]\n[333]')), 5);
  assert.equal(longestLineBytes(''), 0);
});
