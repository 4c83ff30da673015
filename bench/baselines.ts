// The baselines the product is measured against: `sqlite3 DB .dump | gzip` and `gunzip -c | sqlite3`
// for SQLite, `pg_dump -Fc` and `pg_restore -j 1` for PostgreSQL.
import path from 'node:path';
import type { Provider } from '../src/prisma/database-url.ts';
import { createPgDatabase, PG_HOST, PG_PORT, PG_USER, removeSqliteFile } from './databases.ts';
import { measure, type Timed } from './measure.ts';

export interface BaselineBackup {
  command: string;
  timed: Timed;
  dumpFile: string;
}

/** The baseline's backup of the source database `where` into `roundDir`. */
export async function baselineBackup(provider: Provider, where: string, roundDir: string): Promise<BaselineBackup> {
  if (provider === 'sqlite') {
    const dumpFile = path.join(roundDir, 'dump.sql.gz');
    const command = 'sqlite3 DB .dump | gzip';
    return { command, timed: await measure(command, roundDir, [['sqlite3', where, '.dump'], ['gzip']], dumpFile), dumpFile };
  }
  const dumpFile = path.join(roundDir, 'dump.pgdump');
  const command = 'pg_dump -Fc';
  const timed = await measure(
    command,
    roundDir,
    [['pg_dump', '-Fc', '-h', PG_HOST, '-p', String(PG_PORT), '-U', PG_USER, '-f', dumpFile, where]],
    null,
  );
  return { command, timed, dumpFile };
}

export interface BaselineRestore {
  command: string;
  timed: Timed;
  /** The restored SQLite file or PostgreSQL database, to check and then `drop`. */
  target: string;
  drop: () => Promise<void>;
}

/**
 * The baseline's restore of `dumpFile` into a truly empty database (a new SQLite file; a new
 * PostgreSQL database): its dump creates the schema itself.
 */
export async function baselineRestore(provider: Provider, dumpFile: string, roundDir: string): Promise<BaselineRestore> {
  if (provider === 'sqlite') {
    const target = path.join(roundDir, 'restore-baseline.db');
    const command = 'gunzip -c | sqlite3 -bail';
    const timed = await measure(
      command,
      roundDir,
      [
        ['gunzip', '-c', dumpFile],
        ['sqlite3', '-bail', target],
      ],
      null,
    );
    return { command, timed, target, drop: () => removeSqliteFile(target) };
  }
  const db = await createPgDatabase();
  const command = 'pg_restore -j 1';
  const timed = await measure(
    command,
    roundDir,
    [['pg_restore', '-j', '1', '--exit-on-error', '-h', PG_HOST, '-p', String(PG_PORT), '-U', PG_USER, '-d', db.name, dumpFile]],
    null,
  );
  return { command, timed, target: db.name, drop: db.drop };
}
