// What became of a restore's transaction after its process died: PostgreSQL keeps each
// transaction's outcome (txid_status) until it is too old to tell, so it says which it was.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatabaseLocation } from '../../prisma/database-url.ts';
import { sqlQuery } from '../../prisma/sql.ts';
import type { TransactionOutcome } from '../database/table-loader.ts';
import { PostgresSession } from './postgres-session.ts';

/** How long an orphaned transaction may take to end once its backend is told to. */
const ORPHAN_END_MS = 30_000;

export async function postgresTransactionOutcome(
  location: DatabaseLocation & { provider: 'postgresql' },
  transactionId: string,
): Promise<TransactionOutcome> {
  const session = await PostgresSession.open(location);
  try {
    const deadline = Date.now() + ORPHAN_END_MS;
    for (;;) {
      const status = await session
        .queryRaw(sqlQuery('SELECT txid_status($1::bigint)', [transactionId]))
        .then(({ rows }) => rows[0]?.[0] as string | null)
        .catch(() => null); // an id from another cluster ("in the future"): no answer
      if (status === 'committed' || status === 'aborted') return status;
      if (status !== 'in progress') return null; // too old to tell
      // Its client is gone, but its backend notices only when it next reads the socket (at the
      // commit, after rebuilding the keys). Ended now, it rolls back, unless COMMIT had arrived.
      const xid = sqlQuery(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_xid::text = ($1::bigint % 4294967296)::text',
        [transactionId],
      );
      await session.queryRaw(xid);
      if (Date.now() > deadline) throw new Error(`transaction ${transactionId} of the interrupted restore is still in progress`);
      await sleep(100);
    }
  } finally {
    await session.close();
  }
}
