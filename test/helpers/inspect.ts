// Looks at archives and databases from outside the product: the system tar, plain drivers.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Manifest } from '../../src/archive/manifest.ts';
import { withPg } from './postgres.ts';

export interface ExtractedArchive {
  dir: string;
  entries: string[];
  manifest: Manifest;
  read(entry: string): Buffer;
  sha256(entry: string): string;
  rows(entry: string): unknown[][];
}

/** Lists and extracts an archive with the system `tar`, as a user without this software would. */
export function extractWithTar(archivePath: string): ExtractedArchive {
  const entries = execFileSync('tar', ['-tzf', archivePath], { encoding: 'utf8' }).trim().split('\n');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bcp-extract-'));
  execFileSync('tar', ['-xzf', archivePath, '-C', dir]);
  const read = (entry: string) => readFileSync(path.join(dir, entry));
  return {
    dir,
    entries,
    manifest: JSON.parse(read('manifest.json').toString('utf8')) as Manifest,
    read,
    sha256: (entry) => createHash('sha256').update(read(entry)).digest('hex'),
    rows: (entry) =>
      read(entry)
        .toString('utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as unknown[]),
  };
}

export async function countRows(databaseUrl: string, table: string): Promise<number> {
  const sql = `SELECT count(*) AS n FROM "${table.replace(/"/g, '""')}"`;
  if (databaseUrl.startsWith('file:')) {
    const db = new Database(databaseUrl.slice('file:'.length), { readonly: true, fileMustExist: true });
    try {
      return Number((db.prepare(sql).get() as { n: number }).n);
    } finally {
      db.close();
    }
  }
  return withPg(databaseUrl, async (client) => Number((await client.query(sql)).rows[0].n));
}
