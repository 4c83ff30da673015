// The audit log: every change and every sign-in attempt, with who, when, from where and the
// outcome, in the control database. Recording never fails the action it records.
import type { ControlClient } from '../../control/control-db.ts';
import { logUnexpectedError } from '../../core/error-log.ts';

export type AuditOutcome = 'SUCCESS' | 'FAILURE' | 'DENIED';

export interface AuditEntry {
  /** The username, `token:<name>`, `setup code`, or null when no credentials were sent. */
  actor: string | null;
  /** The GraphQL mutation or REST route, e.g. `deleteBackup`, `POST /api/v1/backups`. */
  action: string;
  /** What it acted on: a backup id, a username, a token name. */
  target: string | null;
  address: string | null;
  outcome: AuditOutcome;
  /** The error's message when it did not succeed. */
  detail: string | null;
}

export interface AuditEvent extends AuditEntry {
  id: string;
  at: Date;
}

/** Events older than this are dropped at start-up. */
export const AUDIT_RETENTION_DAYS = 400;

export class AuditLog {
  constructor(private readonly control: ControlClient) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.control.auditEvent.create({ data: { ...entry, detail: entry.detail?.slice(0, 1000) ?? null } });
    } catch (error) {
      logUnexpectedError(`audit log (${entry.action} by ${entry.actor ?? 'anonymous'})`, error);
    }
  }

  /** Newest first; `after` is the id of the last event of the previous page. */
  async list(args: { first: number; after: string | null }): Promise<{ events: AuditEvent[]; hasNextPage: boolean; totalCount: number }> {
    const after = args.after === null ? null : Number(args.after);
    const rows = await this.control.auditEvent.findMany({
      where: after !== null && Number.isSafeInteger(after) ? { id: { lt: after } } : {},
      orderBy: { id: 'desc' },
      take: args.first + 1,
    });
    const totalCount = await this.control.auditEvent.count();
    return {
      events: rows.slice(0, args.first).map((row) => ({ ...row, id: String(row.id), outcome: row.outcome as AuditOutcome })),
      hasNextPage: rows.length > args.first,
      totalCount,
    };
  }

  async prune(now = Date.now()): Promise<void> {
    await this.control.auditEvent.deleteMany({ where: { at: { lt: new Date(now - AUDIT_RETENTION_DAYS * 86_400_000) } } });
  }
}
