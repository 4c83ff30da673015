// Prometheus metrics in a registry of the app's own (several apps in one process never share
// one): the process's defaults, and backups, restores, verifies and webhook deliveries as the
// operation log reports them.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BACKUP_KINDS, type BackupKind } from '../../archive/manifest.ts';
import { childLogger } from '../../core/logger.ts';
import type { Backup } from '../backups/catalog.ts';
import type { OperationRecord } from '../operation-log.ts';

/** Seconds: from a small config-only backup to a large library's. */
const DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400];

export class Metrics {
  readonly registry = new Registry();
  private readonly lastSuccess: Gauge<'kind'>;
  private readonly size: Gauge<'kind'>;
  private readonly backupDuration: Histogram<'kind' | 'outcome'>;
  private readonly backupFailures: Counter<'kind'>;
  private readonly restoreDuration: Histogram<'outcome'>;
  private readonly restoreFailures: Counter;
  private readonly verifyDuration: Histogram<'outcome'>;
  private readonly verifyFailures: Counter;
  private readonly deliveries: Counter<'event' | 'outcome'>;
  /** Seconds of the newest successful backup of each kind: only ever moves forward. */
  private readonly newest = new Map<BackupKind, number>();
  private seeded: Promise<void> = Promise.resolve();

  constructor(deps: { restoreInProgress: () => Promise<boolean> }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.lastSuccess = new Gauge({
      name: 'bcp_backup_last_success_timestamp_seconds',
      help: 'When the newest successful backup of each kind was taken (Unix time); from the backup folder at start-up.',
      labelNames: ['kind'],
      registers,
    });
    this.size = new Gauge({
      name: 'bcp_backup_size_bytes',
      help: 'The size of the newest successful backup of each kind.',
      labelNames: ['kind'],
      registers,
    });
    this.backupDuration = new Histogram({
      name: 'bcp_backup_duration_seconds',
      help: 'How long backups took, by kind and outcome (succeeded, failed).',
      labelNames: ['kind', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.backupFailures = new Counter({
      name: 'bcp_backup_failures_total',
      help: 'Backups that failed (a full disk, an unreadable target), by kind; refused requests are not counted.',
      labelNames: ['kind'],
      registers,
    });
    this.restoreDuration = new Histogram({
      name: 'bcp_restore_duration_seconds',
      help: 'How long restores took, by outcome.',
      labelNames: ['outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.restoreFailures = new Counter({ name: 'bcp_restore_failures_total', help: 'Restores that failed.', registers });
    new Gauge({
      name: 'bcp_restore_in_progress',
      help: '1 while a restore runs, here or on another instance sharing the control database.',
      registers,
      async collect() {
        this.set((await deps.restoreInProgress()) ? 1 : 0);
      },
    });
    this.verifyDuration = new Histogram({
      name: 'bcp_verify_duration_seconds',
      help: 'How long verifyBackup took, by outcome (failed: problems found).',
      labelNames: ['outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.verifyFailures = new Counter({ name: 'bcp_verify_failures_total', help: 'Verifies that found problems or failed.', registers });
    this.deliveries = new Counter({
      name: 'bcp_webhook_deliveries_total',
      help: 'Webhook deliveries by event and outcome (delivered, failed: every attempt failed).',
      labelNames: ['event', 'outcome'],
      registers,
    });
    // Every kind's failure series exists from the start, so an alert on its increase sees the first one.
    for (const kind of BACKUP_KINDS) this.backupFailures.inc({ kind }, 0);
  }

  /** The newest archive of each kind as its last success, so a restart does not forget them. */
  seed(backups: Promise<Backup[]>): void {
    this.seeded = backups.then(
      (list) => {
        for (const kind of BACKUP_KINDS) {
          const newest = list.find((backup) => backup.kind === kind && !backup.problem);
          if (newest) this.succeeded(kind, newest.createdAt.getTime() / 1000, newest.sizeBytes);
        }
      },
      (error: unknown) => {
        childLogger('metrics').warn({ err: error }, `the backup folder could not be read for the metrics: ${(error as Error).message}`);
      },
    );
  }

  /** Moves what an operation's outcome moves. */
  observe(record: OperationRecord): void {
    const seconds = record.durationMs === null ? null : record.durationMs / 1000;
    const { outcome } = record;
    if ((record.op === 'backup' || record.op === 'upload') && record.kind && outcome !== 'refused') {
      const kind = record.kind;
      if (seconds !== null) this.backupDuration.observe({ kind, outcome }, seconds);
      if (outcome === 'failed') this.backupFailures.inc({ kind });
      else this.succeeded(kind, Date.now() / 1000, record.sizeBytes ?? null);
    } else if (record.op === 'restore' && outcome !== 'refused') {
      if (seconds !== null) this.restoreDuration.observe({ outcome }, seconds);
      if (outcome === 'failed') this.restoreFailures.inc();
    } else if (record.op === 'verify' && outcome !== 'refused') {
      if (seconds !== null) this.verifyDuration.observe({ outcome }, seconds);
      if (outcome === 'failed') this.verifyFailures.inc();
    }
  }

  /** Counts a webhook delivery once it is over (delivered, or every attempt failed). */
  observeDelivery(event: string, delivered: boolean): void {
    this.deliveries.inc({ event, outcome: delivered ? 'delivered' : 'failed' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The scrape: every metric in Prometheus's text format. */
  async text(): Promise<string> {
    await this.seeded;
    return this.registry.metrics();
  }

  private succeeded(kind: BackupKind, at: number, sizeBytes: number | null): void {
    if ((this.newest.get(kind) ?? 0) > at) return;
    this.newest.set(kind, at);
    this.lastSuccess.set({ kind }, at);
    if (sizeBytes !== null) this.size.set({ kind }, sizeBytes);
  }
}
