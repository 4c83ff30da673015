// Parses the database URLs users give (SQLite `file:` or PostgreSQL) into one typed shape.
import path from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export type DatabaseLocation =
  | { provider: 'sqlite'; url: string; filePath: string }
  | { provider: 'postgresql'; url: string; connectionString: string; schema: string; database: string };

export class DatabaseUrlError extends Error {}

/** Relative SQLite paths resolve against the working directory, where the variable was set. */
export function parseDatabaseUrl(url: string, cwd = process.cwd()): DatabaseLocation {
  if (url.startsWith('file:')) {
    const rawPath = url.slice('file:'.length).replace(/\?.*$/, '');
    if (!rawPath) throw new DatabaseUrlError('a file: URL needs a path, as in file:./data/app.db');
    return { provider: 'sqlite', url, filePath: path.resolve(cwd, rawPath) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DatabaseUrlError('is not a valid PostgreSQL URL');
    }
    // Prisma's `?schema=` is not understood by `pg`; it becomes the search path instead.
    const schema = parsed.searchParams.get('schema') ?? 'public';
    parsed.searchParams.delete('schema');
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
    return { provider: 'postgresql', url, connectionString: parsed.toString(), schema, database };
  }
  throw new DatabaseUrlError('must start with file: (SQLite) or postgresql:// (PostgreSQL)');
}

/** The same PostgreSQL location with another database name (for scratch databases). */
export function withDatabase(location: DatabaseLocation & { provider: 'postgresql' }, database: string) {
  const parsed = new URL(location.connectionString);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return { ...location, connectionString: parsed.toString(), database, url: parsed.toString() };
}
