// One log line per operation (backup, restore, delete, upload, verify, settings change), all
// in one shape, and the listeners that act on outcomes (metrics, notifications).
import type { BackupKind } from '../archive/manifest.ts';
import { causeChain, logUnexpectedError } from '../core/error-log.ts';
import { AppError, BackupFailedError, InsufficientSpaceError } from '../core/errors.ts';
import { childLogger } from '../core/logger.ts';
import { TargetDatabaseMissingError } from '../target/database-state.ts';

export type OperationName = 'backup' | 'restore' | 'delete' | 'upload' | 'verify' | 'settings';
/** `refused`: not attempted as asked (wrong input, no such backup, a restore running); `failed`: attempted, and it failed. */
export type Outcome = 'succeeded' | 'failed' | 'refused';

export interface OperationRecord {
  op: OperationName;
  outcome: Outcome;
  /** Null when unknown (a restore settled after a restart). */
  durationMs: number | null;
  kind?: BackupKind | null;
  /** What asked for it: `api`, `schedule`, `restore` (its safety backup). */
  trigger?: string | null;
  backupId?: string | null;
  /** The restore job, or the scheduled run (its due time), the operation belongs to. */
  jobId?: string | null;
  sizeBytes?: number | null;
  /** The failure as it is recorded (a job's or a run's `error`): one line. */
  error?: string | null;
  /** The error thrown, whose cause chain the log line shows. */
  cause?: unknown;
  /** Facts of one kind of operation: the settings changed, a verify's problems, a restore's safety backup. */
  details?: Record<string, unknown>;
}

export type OperationFacts = Omit<OperationRecord, 'outcome' | 'durationMs'>;

/** Failures of the environment (a full disk, an unreadable target); any other AppError is a refusal. */
const FAILURES = [BackupFailedError, InsufficientSpaceError];

export function outcomeOf(error: unknown): Outcome {
  // A target waiting for its first restore has nothing to back up, and nothing is broken (the scheduler skips it).
  if (error instanceof TargetDatabaseMissingError) return 'refused';
  return error instanceof AppError && !FAILURES.some((type) => error instanceof type) ? 'refused' : 'failed';
}

export class OperationLog {
  private readonly listeners = new Set<(record: OperationRecord) => void>();
  private readonly log = childLogger('operations');

  /** Calls `listener` after every operation; returns the way to stop. A listener that throws is logged, never felt by the operation. */
  onFinished(listener: (record: OperationRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Times `work` and records how it ended; returns or throws as `work` does. `after` adds what the result tells. */
  async track<T>(facts: OperationFacts, work: () => Promise<T>, after?: (result: T) => Partial<OperationRecord>): Promise<T> {
    const started = performance.now();
    let result: T;
    try {
      result = await work();
    } catch (error) {
      this.failed(facts, error, started);
      throw error;
    }
    this.record({ ...facts, outcome: 'succeeded', durationMs: Math.round(performance.now() - started), ...after?.(result) });
    return result;
  }

  /** Records an operation that threw `error`: refused or failed, by the error's class. */
  failed(facts: OperationFacts, error: unknown, startedAt?: number): void {
    const durationMs = startedAt === undefined ? null : Math.round(performance.now() - startedAt);
    this.record({ ...facts, outcome: outcomeOf(error), durationMs, error: firstLine(error), cause: error });
  }

  record(record: OperationRecord): void {
    const { op, kind, backupId, jobId, trigger, durationMs, sizeBytes, outcome, error, cause, details } = record;
    const err = cause === undefined ? (error ?? undefined) : causeChain(cause);
    const line = { op, kind, backupId, jobId, trigger, durationMs, sizeBytes, outcome, err, ...details };
    const level = outcome === 'failed' ? 'error' : outcome === 'refused' ? 'warn' : 'info';
    this.log[level](line, headline(record));
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (problem) {
        logUnexpectedError(`after the ${op} operation`, problem);
      }
    }
  }
}

/** `backup scheduled failed: the disk is full`, `restore succeeded: app-backup-….tar.gz`. */
function headline({ op, kind, outcome, backupId, error }: OperationRecord): string {
  const what = [op, kind, outcome].filter(Boolean).join(' ');
  const about = error ?? backupId;
  return about ? `${what}: ${about}` : what;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ').trim();
}
