// Builds altered archives for tests: read the entries, change them, pack them again.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import type { Manifest } from '../../src/archive/manifest.ts';

export interface Entry {
  name: string;
  type?: 'file' | 'symlink' | 'directory';
  linkname?: string;
  /** The tar header's mode; tar-stream's default when not given. */
  mode?: number;
  content: Buffer;
}

export async function readEntries(archive: Buffer): Promise<Entry[]> {
  const extract = tarStream.extract();
  Readable.from([gunzipSync(archive)]).pipe(extract);
  const entries: Entry[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    entries.push({ name: entry.header.name, content: Buffer.concat(chunks) });
  }
  return entries;
}

export async function pack(entries: Entry[]): Promise<Buffer> {
  const packer = tarStream.pack();
  for (const entry of entries) {
    if (entry.type === 'symlink') packer.entry({ name: entry.name, type: 'symlink', linkname: entry.linkname });
    else if (entry.type === 'directory') packer.entry({ name: entry.name, type: 'directory' });
    else packer.entry({ name: entry.name, mode: entry.mode }, entry.content);
  }
  packer.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of packer) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

export function editManifest(entries: Entry[], edit: (manifest: Manifest) => void): Entry[] {
  const manifest = JSON.parse(entries[0]!.content.toString()) as Manifest;
  edit(manifest);
  return [{ name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) }, ...entries.slice(1)];
}

/** Replaces a table's rows and updates the manifest to match: a consistent, well-formed archive. */
export function replaceTableRows(entries: Entry[], table: string, edit: (rows: unknown[][]) => unknown[][]): Entry[] {
  const manifest = JSON.parse(entries[0]!.content.toString()) as Manifest;
  const spec = manifest.tables.find((t) => t.name === table)!;
  const entry = entries.find((e) => e.name === spec.path)!;
  const rows = edit(
    entry.content
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as unknown[]),
  );
  const content = Buffer.from(rows.map((row) => JSON.stringify(row) + '\n').join(''));
  Object.assign(spec, { rows: rows.length, bytes: content.length, sha256: createHash('sha256').update(content).digest('hex') });
  return entries.map((e) =>
    e === entry ? { ...e, content } : e.name === 'manifest.json' ? { ...e, content: Buffer.from(JSON.stringify(manifest)) } : e,
  );
}
