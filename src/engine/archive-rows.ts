// Streams the rows of an archive's table entries in batches, in archive order.
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { openTarGz } from './archive.ts';
import type { EncodedValue } from './value-codec.ts';

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
      let rest = '';
      let rows: EncodedValue[][] = [];
      // A chunk can end inside a multi-byte character: the decoder keeps its first bytes
      // for the next chunk rather than turning both halves into U+FFFD.
      const decoder = new StringDecoder('utf8');
      for await (const chunk of entry) {
        const lines = (rest + decoder.write(chunk as Buffer)).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          rows.push(JSON.parse(line) as EncodedValue[]);
          if (rows.length >= batchRows) {
            yield { path: entry.header.name, rows };
            rows = [];
          }
        }
      }
      rest += decoder.end();
      if (rest) rows.push(JSON.parse(rest) as EncodedValue[]);
      if (rows.length) yield { path: entry.header.name, rows };
    }
  } finally {
    archive.close();
  }
}
