// The target's files as a restore writes them and a backup reads them: modes no archive can
// widen, owners kept, and a killed restore's staging copies removed at start-up, never archived.
import assert from 'node:assert/strict';
import { chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Manifest } from '../../src/archive/manifest.ts';
import { editManifest, pack, readEntries } from '../helpers/archive-edit.ts';
import { archivePath, createBackup, restoreAndWait } from '../helpers/scenarios.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

let server: TestServer;
let exampleDir: string;

before(async () => {
  server = await startServer({ provider: 'sqlite' });
  exampleDir = path.join(server.dataDir, 'example');
});

after(async () => {
  await server.close();
});

const isRoot = process.getuid?.() === 0;

test('a file entry of mode 0o6777 is restored without setuid, setgid, sticky or group/other write, and keeps its owner', async () => {
  const configFile = path.join(exampleDir, 'config.toml');
  const nested = path.join(exampleDir, 'secrets', 'nested');
  await mkdir(nested);
  await writeFile(path.join(nested, 'key'), 'nested secret');
  // Root may give a file away: the restored config keeps the owner it has now.
  if (isRoot) await chown(configFile, 4242, 4242);
  const backup = await createBackup(server);
  const entries = editManifest(await readEntries(await readFile(archivePath(server, backup.fileName))), (m) => {
    for (const file of m.files) file.mode = 0o6777;
  });
  // The tar headers say the same; the manifest's mode is the one a restore reads, neither may widen.
  const hostile = entries.map((e) => (e.name.startsWith('files/') ? { ...e, mode: 0o6777 } : e));
  await writeFile(archivePath(server, 'setuid.tar.gz'), await pack(hostile));
  // A folder the restore must make again; with no umask, only the restore's own mask stands between.
  await rm(nested, { recursive: true });
  const umask = process.umask(0);
  try {
    const { job } = await restoreAndWait(server, 'setuid.tar.gz');
    assert.equal(job?.status, 'SUCCEEDED', job?.error ?? undefined);
  } finally {
    process.umask(umask);
  }

  const restored = ['config.toml', 'secrets/plex-token', 'secrets/trakt.json', 'secrets/nested/key'];
  for (const file of restored) {
    const { mode } = await stat(path.join(exampleDir, file));
    assert.equal(mode & 0o7777, 0o755, `${file}: 0${(mode & 0o7777).toString(8)}, only rwxr-xr-x of 6777`);
  }
  assert.equal(await readFile(path.join(nested, 'key'), 'utf8'), 'nested secret');
  assert.equal((await stat(nested)).mode & 0o7777, 0o755, 'a folder the restore makes is not group- or other-writable');
  if (isRoot) {
    const owner = await stat(configFile);
    assert.deepEqual([owner.uid, owner.gid], [4242, 4242], 'the replaced file kept its owner');
  }
});

test("a killed restore's staging copies are removed at start-up, and anything else is left alone", async () => {
  const secrets = path.join(exampleDir, 'secrets');
  const leftovers = [
    path.join(exampleDir, 'config.toml.restoring-0123abcd'),
    path.join(exampleDir, 'secrets.restoring-89abcdef'),
    path.join(secrets, 'plex-token.restoring-00ff00ff'),
    path.join(secrets, 'from-the-archive.restoring-deadbeef'),
    path.join(secrets, 'nested', 'key.restoring-feedface'),
  ];
  const kept = [
    path.join(exampleDir, 'config.toml.restoring-notes'),
    path.join(exampleDir, 'config.toml.restoring-0123abcd0'),
    path.join(exampleDir, 'other.toml.restoring-0123abcd'), // beside no TARGET_FILES entry
    path.join(secrets, 'plex-token.restoring-00ff00ff.bak'),
    path.join(secrets, 'plex-token.restoring-00FF00FF'),
  ];
  await server.stop();
  await mkdir(path.join(secrets, 'nested'), { recursive: true });
  for (const file of [...leftovers, ...kept]) await writeFile(file, 'half written');
  server = await startServer({ provider: 'sqlite', dataDir: server.dataDir });

  for (const file of leftovers) await assert.rejects(stat(file), `${path.relative(exampleDir, file)} was removed`);
  for (const file of kept) assert.equal(await readFile(file, 'utf8'), 'half written', `${path.relative(exampleDir, file)} was kept`);
});

test("a backup never archives a restore's staging copy", async () => {
  const leftover = path.join(exampleDir, 'secrets', 'trakt.json.restoring-0a1b2c3d');
  await writeFile(leftover, '{"half": ');
  try {
    const backup = await createBackup(server);
    const archive = await readEntries(await readFile(archivePath(server, backup.fileName)));
    const entries = archive.map((e) => e.name);
    assert.ok(entries.includes('files/secrets/trakt.json'), 'the secrets are archived');
    assert.ok(entries.includes('files/secrets/plex-token.restoring-00ff00ff.bak'), 'a name the restore never makes is archived');
    assert.deepEqual(
      entries.filter((name) => /\.restoring-[0-9a-f]{8}$/.test(name)),
      [],
      'no staging copy in the archive',
    );
    const manifest = JSON.parse(archive[0]!.content.toString()) as Manifest;
    assert.ok(!manifest.files.some((f) => f.path.endsWith('.restoring-0a1b2c3d')), 'nor in the manifest');
  } finally {
    await rm(leftover, { force: true });
  }
});
