// The databases' own dumps, which a restore must give back byte for byte: `sqlite3 .dump` and
// `pg_dump` (the commands must be installed; .ci/run sees to it).
import { execFileSync } from 'node:child_process';
import { parseDatabaseUrl } from '../../src/prisma/database-url.ts';

/** The dump of the database a target URL names. */
export function dumpOf(targetUrl: string): string {
  const location = parseDatabaseUrl(targetUrl);
  return location.provider === 'sqlite' ? sqliteDump(location.filePath) : pgDump(targetUrl);
}

export function sqliteDump(file: string): string {
  return execFileSync('sqlite3', [file, '.dump'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

export function pgDump(url: string): string {
  const { pathname, hostname, port, username } = new URL(url);
  const dump = execFileSync(
    'pg_dump',
    ['-h', hostname, '-p', port || '5432', '-U', username || 'postgres', '--no-owner', pathname.slice(1)],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  // pg_dump 15.14 and later fence the script with a random key each run.
  return dump.replace(/^\\(un)?restrict \S+$/gm, '');
}

/** A dump without the lines that differ between two databases migrated apart (their migration history). */
export function withoutMigrationHistory(dump: string): string {
  return dump
    .split('\n')
    .filter((line) => !line.startsWith('INSERT INTO _prisma_migrations'))
    .join('\n');
}
