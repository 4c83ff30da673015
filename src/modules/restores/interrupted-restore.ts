// Settles a restore job whose instance died, as its data is. A record written to the control
// database just before the commit, and `COMMITTED` just after, say how far it got; in between,
// PostgreSQL's txid_status, or else the target's hashes against the backup's and the safety
// backup's manifests, decide. Nothing is written into the target: it holds only the user's data.
import { ROW_ENCODING, type Manifest } from '../../archive/manifest.ts';
import { transactionOutcome } from '../../engine/providers.ts';
import type { PendingCommit } from '../../engine/restore.ts';
import { digestTables, EMPTY_TABLE_SHA256, type TableDigest } from '../../engine/table-digests.ts';
import type { DatabaseLocation } from '../../prisma/database-url.ts';
import type { TableSpec } from '../../target/target-schema.ts';

/** What the job's row holds, written just before the commit (JSON in `commitRecord`). */
export interface CommitRecord {
  /** The database's id of the restore's transaction (PostgreSQL); null on SQLite. */
  transactionId: string | null;
  /** Each target table as the commit leaves it; `sha256` null where the backup's hash does not describe the loaded rows. */
  after: TableDigest[];
  /** Each table as the safety backup, taken just before the load, found it. */
  before: TableDigest[];
  /** Target files that go into place after the commit. */
  files: number;
}

/** The job's row, as far as settling it needs. */
export interface InterruptedJob {
  id: string;
  backupId: string;
  preRestoreBackupId: string | null;
  startedAt: Date | null;
  phase: string | null;
  instance: string | null;
  commitRecord: string | null;
}

export interface Settlement {
  status: 'SUCCEEDED' | 'FAILED';
  /** Why, in a sentence; on SUCCEEDED, what did not finish. */
  error: string;
}

/**
 * The record for a load about to commit. The backup's hashes describe the loaded rows only
 * when it is read as it is stored: same database kind, current encoding and schema version,
 * columns in the target's order; else its tables are known by their row counts.
 */
export function commitRecordFor(input: {
  pending: PendingCommit;
  manifest: Manifest;
  /** Loaded straight from the archive, not migrated forward in a scratch database. */
  direct: boolean;
  safety: Manifest;
  tables: TableSpec[];
  provider: string;
}): CommitRecord {
  const { pending, manifest, safety, tables } = input;
  const comparable = input.direct && manifest.provider === input.provider && manifest.encoding === ROW_ENCODING;
  const archived = new Map(manifest.tables.map((table) => [table.name, table]));
  const before = new Map(safety.tables.map((table) => [table.name, table]));
  return {
    transactionId: pending.transactionId,
    after: tables.map((table) => {
      const rows = pending.rows.get(table.name) ?? 0;
      const entry = archived.get(table.name);
      if (!entry) return { name: table.name, rows, sha256: rows === 0 ? EMPTY_TABLE_SHA256 : null };
      const sameColumns = entry.columns.map((c) => c.name).join('\0') === table.columns.map((c) => c.name).join('\0');
      return { name: table.name, rows, sha256: comparable && sameColumns ? entry.sha256 : null };
    }),
    before: tables.flatMap((table) => {
      const entry = before.get(table.name);
      return entry ? [{ name: table.name, rows: entry.rows, sha256: entry.sha256 }] : [];
    }),
    files: manifest.files.length,
  };
}

/** SUCCEEDED when the target holds the backup's data, FAILED when it does not, each with what is known. */
export async function settleInterrupted(
  job: InterruptedJob,
  target: { location: DatabaseLocation; tables: TableSpec[] },
): Promise<Settlement> {
  const wayBack = job.preRestoreBackupId ? `; the pre-restore backup ${job.preRestoreBackupId} holds the state before it` : '';
  if (!job.startedAt) return failed('interrupted: the server stopped before the restore began; nothing was changed');
  if (job.instance === null) {
    return failed(
      'interrupted: the server stopped during the restore, under a version that did not record its commit: ' +
        `the data may be the backup's or as it was${wayBack}`,
    );
  }
  if (job.phase === 'COMMITTED') {
    const files = JSON.parse(job.commitRecord ?? '{}') as Partial<CommitRecord>;
    return succeeded(
      "interrupted after the commit: the data is the backup's" +
        (files.files
          ? `; the server stopped while the files were put in place, so some of TARGET_FILES may be the previous ones${wayBack}`
          : ''),
    );
  }
  if (!job.commitRecord) return failed('interrupted: the server stopped before the commit; the data and files were left as they were');

  const record = JSON.parse(job.commitRecord) as CommitRecord;
  const filesNote =
    record.files > 0 ? '; TARGET_FILES were not replaced (they go into place after the commit): restore again to replace them' : '';
  const committed = (how: string) => succeeded(`interrupted as the restore committed: ${how}, so the data is the backup's${filesNote}`);
  const rolledBack = (how: string) =>
    failed(`interrupted as the restore committed: ${how}, so nothing was committed; the data and files were left as they were`);
  try {
    const outcome = record.transactionId ? await transactionOutcome(target.location, record.transactionId) : null;
    if (outcome === 'committed') return committed('PostgreSQL reports its transaction committed');
    if (outcome === 'aborted') return rolledBack('PostgreSQL reports its transaction rolled back');
    return judgeByContent(record, await digestTables(target.location, target.tables), { committed, rolledBack, wayBack });
  } catch (error) {
    return failed(
      `interrupted as the restore committed, and whether it committed could not be checked (${(error as Error).message}): ` +
        `compare the data with the backup ${job.backupId}${wayBack}`,
    );
  }
}

function judgeByContent(
  record: CommitRecord,
  now: TableDigest[],
  say: { committed: (how: string) => Settlement; rolledBack: (how: string) => Settlement; wayBack: string },
): Settlement {
  const after = new Map(record.after.map((table) => [table.name, table]));
  const before = new Map(record.before.map((table) => [table.name, table]));
  const asAfter = now.filter((table) => matches(after.get(table.name), table));
  const asBefore = now.filter((table) => matches(before.get(table.name), table));
  const allAfter = asAfter.length === now.length;
  const allBefore = asBefore.length === now.length;
  const exactAfter = record.after.every((table) => table.sha256 !== null);
  if (allAfter && (!allBefore || exactAfter)) return say.committed("every table holds the backup's rows");
  if (allBefore) return say.rolledBack('every table holds the rows it had before (as the pre-restore backup has them)');
  // Changed since, by the app: the tables that tell the two states apart decide, and the message says so.
  const onlyAfter = asAfter.filter((table) => !asBefore.includes(table)).length;
  const onlyBefore = asBefore.filter((table) => !asAfter.includes(table)).length;
  const counts = `${onlyAfter} table(s) hold only the backup's rows, ${onlyBefore} only the previous rows, the others neither (changed since?)`;
  const likely = onlyAfter > onlyBefore ? succeeded('probably committed') : failed('probably not committed');
  return { status: likely.status, error: `interrupted as the restore committed, ${likely.error}: ${counts}; check the data${say.wayBack}` };
}

/** The same row count, and the same hash where one is known. */
function matches(expected: TableDigest | undefined, actual: TableDigest): boolean {
  return expected !== undefined && expected.rows === actual.rows && (expected.sha256 === null || expected.sha256 === actual.sha256);
}

const succeeded = (error: string): Settlement => ({ status: 'SUCCEEDED', error });
const failed = (error: string): Settlement => ({ status: 'FAILED', error });
