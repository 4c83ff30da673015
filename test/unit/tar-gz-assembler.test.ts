// The archive writer: tar headers of every name length, and a tar.gz made of several gzip
// members (data compressed while it was read, copied in as it is), read back the same by
// GNU tar and by the server's own reader.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { openTarGz } from '../../src/archive/archive-reader.ts';
import { assembleTarGz, type AssembledEntry } from '../../src/archive/tar-gz-assembler.ts';

let dir: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bcp-tar-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('entries of every kind and name length come back byte for byte, from GNU tar and from our reader', async () => {
  const date = new Date('2026-11-22T03:00:00Z');
  const bigText = Buffer.from('row\n'.repeat(300_000));
  const gz = path.join(dir, 'table.ndjson.gz');
  // Two members, as a staged table may be written, to be copied in untouched.
  await writeFile(gz, Buffer.concat([gzipSync(bigText.subarray(0, 1000)), gzipSync(bigText.subarray(1000))]));
  const plain = path.join(dir, 'config.toml');
  await writeFile(plain, 'token = "x"\n');
  const expected = new Map<string, Buffer>([
    ['manifest.json', Buffer.from('{"formatVersion":1}\n')],
    ['db/Table.ndjson', bigText],
    ['db/empty.ndjson', Buffer.alloc(0)],
    ['files/config.toml', Buffer.from('token = "x"\n')],
    [`files/${'deep/'.repeat(25)}name.txt`, Buffer.from('split between prefix and name')],
    [`db/${'x'.repeat(180)}.ndjson`, Buffer.from('a name only a pax header can carry')],
    ['files/naïve café ✓.txt', Buffer.from('unicode name')],
  ]);
  const entries: AssembledEntry[] = [
    { name: 'manifest.json', content: expected.get('manifest.json')!, date },
    { name: 'db/Table.ndjson', gzipPath: gz, size: bigText.length, date },
    { name: 'db/empty.ndjson', content: Buffer.alloc(0), date },
    { name: 'files/config.toml', filePath: plain, size: 12, mode: 0o600, date },
    ...[...expected.entries()].slice(4).map(([name, content]) => ({ name, content, date })),
  ];
  const archive = await buffer(assembleTarGz(entries));
  const file = path.join(dir, 'out.tar.gz');
  await writeFile(file, archive);

  const listed = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(listed, [...expected.keys()], 'GNU tar lists every entry, in order, under its full name');
  const extractDir = await mkdtemp(path.join(dir, 'x-'));
  execFileSync('tar', ['-xzf', file, '-C', extractDir]);
  for (const [name, content] of expected) assert.deepEqual(await readFile(path.join(extractDir, name)), content, name);
  const verbose = execFileSync('tar', ['-tvzf', file], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  assert.match(verbose, /-rw------- .* files\/config\.toml/, 'the mode is kept');
  assert.match(verbose, /2026-11-22 03:00/, 'the date is kept');

  const read = new Map<string, Buffer>();
  const reader = openTarGz((await import('node:fs')).createReadStream(file));
  for await (const entry of reader.entries) {
    const parts: Buffer[] = [];
    for await (const chunk of entry) parts.push(chunk as Buffer);
    read.set(entry.header.name, Buffer.concat(parts));
  }
  reader.close();
  assert.deepEqual([...read.keys()], [...expected.keys()]);
  for (const [name, content] of expected) assert.deepEqual(read.get(name), content, name);
});
