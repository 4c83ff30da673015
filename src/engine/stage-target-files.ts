// Copies the target's configured files and folders into a backup's staging area, as they are.
import { createReadStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ManifestFile, ManifestFileRoot } from '../archive/manifest.ts';
import { StagedFile } from '../archive/staged-file.ts';
import { isStagingName } from './target-file-leftovers.ts';

export class TargetFileMissingError extends Error {
  constructor(readonly filePath: string) {
    super(`target file ${filePath} (TARGET_FILES) does not exist`);
  }
}

export interface StagedTargetFiles {
  roots: ManifestFileRoot[];
  files: (ManifestFile & { stagedPath: string })[];
}

/**
 * Each configured path becomes `files/<its base name>` in the archive (a second one with
 * the same base name gets a `-2` suffix). Symbolic links are followed: the archive holds
 * contents, never links. A restore's staging files in a folder are left out.
 */
export async function stageTargetFiles(sources: string[], stagingDir: string): Promise<StagedTargetFiles> {
  const result: StagedTargetFiles = { roots: [], files: [] };
  for (const [archiveRoot, source] of archiveRoots(sources)) {
    const info = await stat(source).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new TargetFileMissingError(source);
      throw error;
    });
    result.roots.push({ path: archiveRoot, source: path.resolve(source), type: info.isDirectory() ? 'directory' : 'file' });
    for (const relative of info.isDirectory() ? await listFilesUnder(source) : ['']) {
      const from = relative ? path.join(source, relative) : source;
      const archivePath = relative ? `${archiveRoot}/${relative.split(path.sep).join('/')}` : archiveRoot;
      const stagedPath = path.join(stagingDir, archivePath);
      await mkdir(path.dirname(stagedPath), { recursive: true });
      const staged = new StagedFile(stagedPath);
      for await (const chunk of createReadStream(from)) await staged.write(chunk as Buffer);
      const summary = await staged.finish();
      const mode = (await stat(from)).mode & 0o777;
      result.files.push({ path: archivePath, source: path.resolve(from), size: summary.bytes, sha256: summary.sha256, mode, stagedPath });
    }
  }
  return result;
}

/** The archive folder of each configured path, in order: `files/<base name>`, `-2` on a repeat. */
export function archiveRoots(sources: string[]): Map<string, string> {
  const roots = new Map<string, string>();
  for (const source of sources) {
    let base = path.basename(source);
    for (let n = 2; roots.has(`files/${base}`); n++) base = `${path.basename(source)}-${n}`;
    roots.set(`files/${base}`, source);
  }
  return roots;
}

async function listFilesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const full = path.join(dir, name);
    const info = await stat(full);
    if (info.isDirectory()) found.push(...(await listFilesUnder(full)).map((child) => path.join(name, child)));
    // A killed restore's half-written copy is never archived, so it is never restored either.
    else if (info.isFile() && !isStagingName(name)) found.push(name);
  }
  return found;
}
