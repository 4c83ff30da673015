// One PostgreSQL connection of our own for bulk work: plain SQL plus COPY in both directions,
// which streams rows as pg_dump and pg_restore do, where Prisma's adapter binds parameters
// statement by statement and fetches rows page by page, round trip after round trip.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import type { SqlQuery } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DatabaseLocation } from '../../prisma/database-url.ts';
import { CopyOutPages } from './copy-out-pages.ts';

/** What the loader needs of a connection: the subset of Prisma's Queryable it uses. */
export interface SqlRunner {
  executeRaw(query: SqlQuery): Promise<number>;
  queryRaw(query: SqlQuery): Promise<{ rows: unknown[][] }>;
}

export class PostgresSession implements SqlRunner {
  private constructor(private readonly client: pg.Client) {}

  static async open(location: DatabaseLocation & { provider: 'postgresql' }): Promise<PostgresSession> {
    const client = new pg.Client({
      connectionString: location.connectionString,
      options: `-c search_path="${location.schema.replace(/"/g, '""')}"`,
    });
    // A connection lost mid-restore surfaces from the next query; it must not crash the process.
    client.on('error', () => {});
    await client.connect();
    return new PostgresSession(client);
  }

  async executeRaw(query: SqlQuery): Promise<number> {
    const result = await this.client.query({ text: query.sql, values: query.args });
    return result.rowCount ?? 0;
  }

  async queryRaw(query: SqlQuery): Promise<{ rows: unknown[][] }> {
    const result = await this.client.query({ text: query.sql, values: query.args, rowMode: 'array' });
    return { rows: result.rows as unknown[][] };
  }

  /**
   * Runs `COPY … TO STDOUT`: pages of at least `minBytes` (but the last) of the server's
   * CopyData messages, one row each, headers included (copy-out-pages.ts).
   */
  copyOut(sql: string, minBytes: number): Readable {
    return this.client.query(new CopyOutPages(sql, minBytes));
  }

  /** Starts `COPY … FROM STDIN`: write its data to it (text lines, or binary header, tuples and trailer), then end it. */
  beginCopy(sql: string): CopyIn {
    return new CopyIn(this.client.query(copyFrom(sql)));
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}

/**
 * A COPY in progress. The server can refuse it at any moment (a duplicate key, a bad
 * value); the error is kept and thrown from the next write or from `end`.
 */
export class CopyIn {
  private failure: Error | null = null;
  private readonly closed: Promise<void>;

  constructor(private readonly stream: Writable) {
    stream.on('error', (error) => (this.failure ??= error));
    this.closed = new Promise((resolve) => stream.once('close', resolve));
  }

  /** Waits while the connection is behind (backpressure). */
  async write(text: string | Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(text)) await Promise.race([once(this.stream, 'drain').catch(() => {}), this.closed]);
    if (this.failure) throw this.failure;
  }

  /** Resolves once the server has taken every row. */
  async end(): Promise<void> {
    if (this.failure) throw this.failure;
    this.stream.end();
    await Promise.race([once(this.stream, 'finish').catch(() => {}), this.closed]);
    if (this.failure) throw this.failure;
  }
}
