// Streams the rows of an archive's table entries in archive order: parsed, in batches, or
// as whole lines, the bytes as the archive holds them.
import type { Readable } from 'node:stream';
import { openTarGz } from '../archive/archive-reader.ts';
import { endsWithNewline, linePieces } from './line-pieces.ts';
import type { EncodedValue } from './value-encoder.ts';

export interface RowBatch {
  /** The entry path, as the manifest names it. */
  path: string;
  rows: EncodedValue[][];
}

/** Yields every `db/` entry's rows, at most `batchRows` at a time; other entries are skipped. */
export async function* readArchiveRows(source: Readable, batchRows: number): AsyncGenerator<RowBatch> {
  const archive = openTarGz(source);
  try {
    for await (const entry of archive.entries) {
      if (!entry.header.name.startsWith('db/')) {
        entry.resume();
        continue;
      }
      for await (const rows of rowBatches(entry, batchRows)) yield { path: entry.header.name, rows };
    }
  } finally {
    archive.close();
  }
}

/** An entry's `ndjson-v1` bytes parsed into rows, at most `batchRows` at a time. */
export async function* rowBatches(chunks: AsyncIterable<unknown>, batchRows: number): AsyncGenerator<EncodedValue[][]> {
  let rows: EncodedValue[][] = [];
  // Pieces end at a line's end, so each decodes on its own (no character is cut in two).
  for await (const piece of linePieces(chunks, 0)) {
    const text = piece.toString('utf8');
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf('\n', start);
      const end = newline === -1 ? text.length : newline;
      rows.push(JSON.parse(text.slice(start, end)) as EncodedValue[]);
      start = end + 1;
      if (rows.length >= batchRows) {
        yield rows;
        rows = [];
      }
    }
  }
  if (rows.length) yield rows;
}

export interface LineChunk {
  /** The entry path, as the manifest names it. */
  path: string;
  /** Whole newline-terminated lines, as many as one decompressed piece completes. */
  lines: Buffer;
}

const NEWLINE = Buffer.from('\n');

/** Yields every `db/` entry's lines unparsed, in pieces that end at a line's end. */
export async function* readArchiveLines(source: Readable): AsyncGenerator<LineChunk> {
  const archive = openTarGz(source);
  try {
    for await (const entry of archive.entries) {
      const path = entry.header.name;
      if (!path.startsWith('db/')) {
        entry.resume();
        continue;
      }
      for await (const lines of wholeLines(entry)) yield { path, lines };
    }
  } finally {
    archive.close();
  }
}

/** An entry's bytes in pieces of whole lines, each ending in a newline. */
export async function* wholeLines(chunks: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const lines of linePieces(chunks, 0)) {
    // The writer ends every line with a newline; a last line without one is still a row.
    yield endsWithNewline(lines) ? lines : Buffer.concat([lines, NEWLINE]);
  }
}
