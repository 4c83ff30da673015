// Streams the rows of an archive's table entries in batches, in archive order.
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import type { EncodedValue } from './value-codec.ts';

export interface RowBatch {
  /** The entry path, as the manifest names it. */
  path: string;
  rows: EncodedValue[][];
}

/** Yields every `db/` entry's rows, at most `batchRows` at a time; other entries are skipped. */
export async function* readArchiveRows(source: Readable, batchRows: number): AsyncGenerator<RowBatch> {
  const extract = tarStream.extract();
  const gunzip = createGunzip();
  source.on('error', (error) => extract.destroy(error));
  gunzip.on('error', (error) => extract.destroy(error));
  source.pipe(gunzip).pipe(extract);
  try {
    for await (const entry of extract) {
      if (!entry.header.name.startsWith('db/')) {
        entry.resume();
        continue;
      }
      let rest = '';
      let rows: EncodedValue[][] = [];
      for await (const chunk of entry) {
        const lines = (rest + (chunk as Buffer).toString('utf8')).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          rows.push(JSON.parse(line) as EncodedValue[]);
          if (rows.length >= batchRows) {
            yield { path: entry.header.name, rows };
            rows = [];
          }
        }
      }
      if (rest) rows.push(JSON.parse(rest) as EncodedValue[]);
      if (rows.length) yield { path: entry.header.name, rows };
    }
  } finally {
    source.unpipe();
    source.destroy();
    gunzip.destroy();
    extract.destroy();
  }
}
