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
