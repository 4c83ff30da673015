// Runs restores: one at a time across instances (the restore lease), in the background, after
// a safety backup, checking every hash as the archive loads, reporting progress; settles the
// jobs of instances that died (interrupted-restore.ts). Knows nothing of GraphQL.
import { randomUUID } from 'node:crypto';
import { ManifestReadError, readManifest } from '../../archive/archive-reader.ts';
import { checkArchive, ArchiveRejectedError } from '../../archive/archive-check.ts';
import { fileStager, stageFileRestore, type StagedFileRestore } from '../../engine/restore-target-files.ts';
import { withMigratedBackup } from '../../engine/forward-migration.ts';
import { restoreIntoFreshTarget } from '../../engine/fresh-target.ts';
import { checkedArchiveSource, replaceData, type RowSource } from '../../engine/restore.ts';
import type { ControlClient } from '../../control/control-db.ts';
import { InvalidArchiveError, RestoreInProgressError } from '../../core/errors.ts';
import { failureText } from '../../core/error-log.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import { databaseState } from '../../target/database-state.ts';
import type { Target } from '../../target/target.ts';
import type { Backup } from '../backups/catalog.ts';
import type { ArchiveAccess, BackupService } from '../backups/service.ts';
import type { Manifest } from '../../archive/manifest.ts';
import type { PublicMetadata } from '../../archive/encryption/envelope-header.ts';
import { passphraseProblem } from '../../archive/encryption/encrypted-archive.ts';
import type { OperationLog } from '../operation-log.ts';
import type { RestoreGate } from '../restore-gate.ts';
import { LEASE_HEARTBEAT_MS } from '../restore-lease.ts';
import { commitRecordFor, settleInterrupted } from './interrupted-restore.ts';
import type { JobSignals } from '../job-signals.ts';
import { followProgress, isFinal } from '../progress-feed.ts';
import { restoreJobOf, type RestoreEvents, type RestoreJob, type RestoreProgress } from './restore-progress.ts';

/** Rows are reported at least this often while they are written. */
const PROGRESS_INTERVAL_MS = 250;
/** Ended jobs whose last event (with its totals) is kept for late watchers; older ones are read from the database. */
const ENDED_KEPT = 50;

export class RestoreService {
  private readonly latest = new Map<string, RestoreProgress>();
  /** The ids of the ended jobs in `latest`, oldest first: a server that runs for years keeps a few, not all. */
  private readonly ended: string[] = [];
  private orphanWatch: NodeJS.Timeout | null = null;
  private settling: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      backups: BackupService;
      store: BackupStore;
      target: Target;
      control: ControlClient;
      gate: RestoreGate;
      /** This instance's name, recorded on the jobs it runs. */
      instance: string;
      scratchDir: string;
      /** Progress goes out here: in process, or through Redis to every instance. */
      events: RestoreEvents;
      /** The saved passphrase for scheduled backups, which the safety backup uses too. */
      savedPassphrase: () => Promise<string | null>;
      /** Every restore's end (and refusal) is recorded here: the log line, the metrics, the notification. */
      operations: OperationLog;
      /** The jobs running here, each cancelable until its commit begins. */
      signals: JobSignals;
    },
  ) {}

  /**
   * Settles the jobs of instances that are gone (this one's previous process, or another whose
   * lease expired), then keeps looking for such jobs while no restore runs here.
   */
  async recoverInterrupted(): Promise<void> {
    await this.settleOrphans();
    this.orphanWatch = setInterval(() => {
      this.settling = this.settling.then(() => this.settleOrphans()).catch(() => {});
    }, LEASE_HEARTBEAT_MS);
    this.orphanWatch.unref();
  }

  /** Stops looking for orphaned jobs; a restore running here goes on until the process ends. */
  async stop(): Promise<void> {
    if (this.orphanWatch) clearInterval(this.orphanWatch);
    this.orphanWatch = null;
    await this.settling;
  }

  /** With the lease free, takes it to settle every job left running, then gives it back. */
  private async settleOrphans(): Promise<void> {
    if (this.deps.gate.holder) return; // a restore here settled them as it began
    const orphan = await this.deps.control.restoreJob.findFirst({ where: { status: { in: ['PENDING', 'RUNNING'] } } });
    if (!orphan) return;
    try {
      await this.deps.gate.acquire(orphan.id, { settling: true });
    } catch (error) {
      if (error instanceof RestoreInProgressError) return; // its instance is alive, or another settles it
      throw error;
    }
    try {
      await this.settleLeftovers(null);
    } finally {
      await this.deps.gate.release(orphan.id);
    }
  }

  /** Settles every job left running but `except`; call it holding the lease, before the target changes. */
  private async settleLeftovers(except: string | null): Promise<void> {
    const { control, target } = this.deps;
    const active = { status: { in: ['PENDING', 'RUNNING'] } };
    const leftovers = await control.restoreJob.findMany({ where: except ? { ...active, id: { not: except } } : active });
    for (const job of leftovers) {
      const settled = await settleInterrupted(job, { location: target.location, tables: target.schema.tables });
      await control.restoreJob.updateMany({
        where: { id: job.id, ...active },
        data: { status: settled.status, error: settled.error, phase: 'DONE', finishedAt: new Date() },
      });
      this.deps.operations.record({
        op: 'restore',
        outcome: settled.status === 'SUCCEEDED' ? 'succeeded' : 'failed',
        durationMs: null,
        backupId: job.backupId,
        jobId: job.id,
        error: settled.error,
        details: { preRestoreBackupId: job.preRestoreBackupId, interrupted: true },
      });
    }
  }

  /** Checks what can be checked at once, then restores in the background. */
  async start(input: { backupId: string; passphrase?: string | null; actor?: string | null }): Promise<RestoreJob> {
    try {
      return await this.begin(input);
    } catch (error) {
      this.deps.operations.failed({ op: 'restore', backupId: input.backupId }, error);
      throw error;
    }
  }

  private async begin(input: { backupId: string; passphrase?: string | null; actor?: string | null }): Promise<RestoreJob> {
    await this.deps.gate.assertFree();
    const backup = await this.deps.backups.require(input.backupId);
    if (!backup.summary && !backup.envelope) throw new InvalidArchiveError(backup.problem ?? 'the archive cannot be read');
    if (backup.summary) this.refuseSchema(backup.summary, backup.manifest);
    // An encrypted backup's passphrase is checked here, so a wrong one fails the request itself.
    const access = await this.deps.backups.access(backup, input.passphrase);
    // An age archive shows nothing of its schema outside: its manifest, read now, refuses it.
    if (!backup.summary) {
      const manifest = await readManifest(access.open()).catch((error: unknown) => {
        throw error instanceof ManifestReadError ? new InvalidArchiveError(error.message) : error;
      });
      this.refuseSchema(manifest, manifest);
    }
    // The safety backup holds the same secrets: it is encrypted whenever the user encrypts,
    // with the saved passphrase, or else with the one that opened the backup being restored.
    const openedWith = backup.encrypted && input.passphrase && !passphraseProblem(input.passphrase) ? input.passphrase : null;
    const safetyPassphrase = (await this.deps.savedPassphrase()) ?? openedWith;
    const job: RestoreJob = {
      id: randomUUID(),
      backupId: backup.id,
      preRestoreBackupId: null,
      status: 'PENDING',
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
      error: null,
      actor: input.actor ?? null,
      sizeBytes: backup.sizeBytes,
    };
    await this.deps.gate.acquire(job.id);
    try {
      await this.deps.control.restoreJob.create({
        data: {
          id: job.id,
          backupId: job.backupId,
          status: job.status,
          createdAt: job.createdAt,
          instance: this.deps.instance,
          actor: job.actor,
          sizeBytes: BigInt(backup.sizeBytes),
        },
      });
    } catch (error) {
      await this.deps.gate.release(job.id);
      throw error;
    }
    const signal = this.deps.signals.track(job.id, 'restore');
    // run() publishes the QUEUED state before its first await, so watchers find it at once.
    void this.run(job, backup, access, safetyPassphrase, signal).finally(() => {
      this.deps.signals.untrack(job.id);
      return this.deps.gate.release(job.id).catch(() => {});
    });
    return { ...job };
  }

  /** The job as this instance last published it, or as the control database has it; null if unknown. */
  async get(id: string): Promise<RestoreJob | null> {
    const live = this.latest.get(id);
    if (live) return live.job;
    const row = await this.deps.control.restoreJob.findUnique({ where: { id } });
    return row ? restoreJobOf(row) : null;
  }

  /** The job's current state first, then every event until it ends; null for an unknown job. */
  async watch(id: string): Promise<AsyncGenerator<RestoreProgress> | null> {
    return followProgress({
      events: this.deps.events.subscribe('restoreProgress', id),
      current: async () => this.latest.get(id) ?? (await this.finishedProgress(id)),
      // A job running on another instance: its end is read from the database too.
      ended: async () => (this.latest.has(id) ? null : this.finishedProgress(id)),
    });
  }

  private async finishedProgress(id: string): Promise<RestoreProgress | null> {
    const job = await this.get(id);
    if (!job) return null;
    const phase = isFinal({ job }) ? 'DONE' : 'QUEUED';
    return { job, phase, table: null, tablesDone: 0, tablesTotal: 0, rowsDone: 0, rowsTotal: 0, message: job.error };
  }

  private publish(progress: RestoreProgress): void {
    const event = { ...progress, job: { ...progress.job } };
    const id = progress.job.id;
    this.latest.set(id, event);
    if (isFinal(event) && !this.ended.includes(id)) {
      this.ended.push(id);
      while (this.ended.length > ENDED_KEPT) this.latest.delete(this.ended.shift()!);
    }
    this.deps.events.publish('restoreProgress', progress.job.id, event);
  }

  /** A backup this target cannot hold: unknown migrations, or a data model that differs where migrations cannot decide. */
  private refuseSchema(content: PublicMetadata, manifest: Manifest | null): void {
    const refusal = this.deps.backups.schemaRefusal(content, manifest);
    if (refusal) throw refusal;
  }

  private async run(
    job: RestoreJob,
    backup: Backup,
    access: ArchiveAccess,
    safetyPassphrase: string | null,
    signal: AbortSignal,
  ): Promise<void> {
    // An encrypted backup's table list is inside the ciphertext: the totals follow the check.
    const totals = (m: Manifest | null) => ({
      tablesTotal: m?.tables.length ?? 0,
      rowsTotal: m?.tables.reduce((sum, t) => sum + t.rows, 0) ?? 0,
    });
    const progress: RestoreProgress = {
      job,
      phase: 'QUEUED',
      table: null,
      tablesDone: 0,
      ...totals(backup.manifest),
      rowsDone: 0,
      message: null,
    };
    this.publish(progress);
    // Each step begins only if no cancel came; the load itself checks as its rows go in.
    const update = async (change: Partial<RestoreProgress>) => {
      signal.throwIfAborted();
      Object.assign(progress, change);
      this.publish(progress);
    };
    let stagedFiles: StagedFileRestore | null = null;
    /** Set once the target's transaction committed: from then on the data is the backup's, whatever fails. */
    let committed = false;
    try {
      // A job an instance that died left running is settled first, while the target still holds what it left.
      await this.settleLeftovers(job.id);
      job.status = 'RUNNING';
      job.startedAt = new Date();
      await this.deps.control.restoreJob.update({
        where: { id: job.id },
        data: { status: 'RUNNING', startedAt: job.startedAt, phase: 'VERIFYING' },
      });
      const target = this.deps.target;
      // Without migrations, or from the other kind of database (whose migrations are not the
      // target's), the data model already matched: there is nothing to migrate.
      const current = (m: Manifest) =>
        target.migrationsDir === null ||
        m.provider !== target.location.provider ||
        m.schemaVersion === (target.knownMigrations.at(-1) ?? null);
      await update({ phase: 'VERIFYING', message: 'reading the manifest' });
      const rejected = (error: unknown) => {
        throw error instanceof ArchiveRejectedError || error instanceof ManifestReadError ? new InvalidArchiveError(error.message) : error;
      };
      const manifest = await readManifest(access.open()).catch(rejected);
      const mismatch = access.manifestProblem(manifest);
      if (mismatch) throw new InvalidArchiveError(mismatch);
      // What the archive says, not what the listing read earlier, decides from here on.
      this.refuseSchema(manifest, manifest);
      // A target database not there yet (a new machine) is made with the backup's own migrations.
      const targetState = await databaseState(target.location);
      const fresh = targetState !== 'present';
      // An older backup is checked in full before anything else: it is loaded into a
      // scratch database and migrated there. A current one, or one going into a fresh target,
      // is checked as it is loaded, in one pass, inside the restore's transaction.
      if (!fresh && !current(manifest)) {
        await update({ message: 'checking every hash' });
        await checkArchive(access.open(), backup.sizeBytes).catch(rejected);
      }
      const { tablesTotal, rowsTotal } = totals(manifest);
      Object.assign(progress, { tablesTotal, rowsTotal });

      // A fresh target has nothing to keep: its state before is no tables at all.
      let safetyManifest: Manifest = { ...manifest, tables: [] };
      if (!fresh) {
        await update({ phase: 'SAFETY_BACKUP', message: 'backing up the current state first' });
        const safety = await this.deps.backups.createWithManifest(
          {
            kind: 'pre-restore',
            includeMedia: true,
            trigger: 'restore',
            note: `before restoring ${backup.fileName}`,
            passphrase: safetyPassphrase,
            jobId: job.id,
            actor: job.actor,
          },
          signal,
        );
        safetyManifest = safety.manifest;
        job.preRestoreBackupId = safety.backup.id;
      }
      await this.deps.control.restoreJob.update({
        where: { id: job.id },
        data: { preRestoreBackupId: job.preRestoreBackupId, phase: 'RESTORING' },
      });

      const doneByTable = new Map<string, number>();
      let lastPublished = 0;
      const tables = target.schema.tables;
      const openArchive = () => access.open();
      const replace = async (source: RowSource, into = { location: target.location, tables }) => {
        await replaceData({
          location: into.location,
          tables: into.tables,
          source,
          signal,
          onRows: (table, rows) => {
            const changedTable = progress.table !== table;
            doneByTable.set(table, rows);
            const rowsDone = [...doneByTable.values()].reduce((sum, n) => sum + n, 0);
            const tablesDone = manifest.tables.filter((t) => (doneByTable.get(t.name) ?? -1) >= t.rows).length;
            Object.assign(progress, { table, rowsDone, tablesDone });
            if (changedTable || Date.now() - lastPublished >= PROGRESS_INTERVAL_MS) {
              lastPublished = Date.now();
              this.publish(progress);
            }
          },
          // Recorded before the commit, so a restart can tell whether it happened (interrupted-restore.ts).
          beforeCommit: async (pending) => {
            // From here a cancel is refused: a cancel that came first rolls the load back.
            this.deps.signals.beginCommit(job.id);
            await this.deps.gate.confirm(job.id);
            const record = commitRecordFor({
              pending,
              manifest,
              direct: fresh || current(manifest),
              safety: safetyManifest,
              tables: into.tables,
              provider: target.location.provider,
            });
            await this.deps.control.restoreJob.update({
              where: { id: job.id },
              data: { phase: 'COMMITTING', commitRecord: JSON.stringify(record) },
            });
          },
        });
      };
      const markCommitted = async () => {
        committed = true;
        await this.deps.control.restoreJob.update({ where: { id: job.id }, data: { phase: 'COMMITTED' } });
      };
      let done = `restored ${backup.fileName}`;
      if (fresh) {
        const files = fileStager(manifest, target.files);
        stagedFiles = files;
        const schemaFrom =
          target.migrationsDir === null
            ? 'its schema'
            : manifest.provider === target.location.provider
              ? `the backup's ${manifest.migrations.length} migration(s)`
              : `its ${target.knownMigrations.length} migration(s)`;
        await update({ phase: 'MIGRATING', message: `creating the target database with ${schemaFrom}` });
        // SQLite: built beside the missing file and renamed into place, which is the commit.
        await restoreIntoFreshTarget({ manifest, target: { ...target, tables } }, async (location, loaded) => {
          await update({ phase: 'RESTORING', message: 'loading every table, checking every hash' });
          const source = checkedArchiveSource({
            manifest,
            targetTables: loaded,
            openArchive,
            compressedBytes: backup.sizeBytes,
            onFile: files.stage,
          });
          await replace(source, { location, tables: loaded });
        }).catch(rejected);
        await markCommitted();
        const pending =
          manifest.provider === target.location.provider ? target.knownMigrations.filter((m) => !manifest.migrations.includes(m)) : [];
        done = `restored ${backup.fileName} into a new database (it ${targetState === 'missing' ? 'did not exist' : 'held no tables'})`;
        if (target.migrationsDir !== null && pending.length > 0) {
          done += `; the app's ${pending.length} newer migration(s) are pending: the app applies them (or TARGET_MIGRATE=deploy at the next start)`;
        }
      } else if (current(manifest)) {
        // Files are written beside their destinations as the pass reaches them, moved into place only after the commit.
        const files = fileStager(manifest, target.files);
        stagedFiles = files;
        await update({ phase: 'RESTORING', message: 'loading every table, checking every hash' });
        await replace(
          checkedArchiveSource({ manifest, targetTables: tables, openArchive, compressedBytes: backup.sizeBytes, onFile: files.stage }),
        ).catch(rejected);
        await markCommitted();
      } else {
        await update({ phase: 'RESTORING', message: 'staging the target files' });
        stagedFiles = await stageFileRestore(manifest, access.open(), target.files);
        // An older backup: restored at its own version in a scratch database, migrated forward there.
        await update({ phase: 'MIGRATING', message: `bringing ${manifest.schemaVersion} forward to ${target.knownMigrations.at(-1)}` });
        await withMigratedBackup(
          { manifest, openArchive, target: { ...target, tables }, scratchDir: this.deps.scratchDir },
          async (source) => {
            await update({ phase: 'RESTORING', message: null });
            await replace(source);
            await markCommitted();
          },
        );
      }
      await stagedFiles.commit();
      stagedFiles = null;

      await update({ phase: 'FINISHING', table: null, tablesDone: tablesTotal, rowsDone: rowsTotal, message: 'committed' });
      job.status = 'SUCCEEDED';
      job.finishedAt = new Date();
      await this.end(job);
      this.recordEnd(job, backup);
      await update({ phase: 'DONE', message: done });
    } catch (error) {
      await stagedFiles?.discard();
      // After the commit the data is the backup's: the job says so, and what did not finish.
      job.status = committed ? 'SUCCEEDED' : 'FAILED';
      job.finishedAt = new Date();
      // The operation's line logs it; anything unexpected also with its causes, stack and an id.
      const failure = failureText(`restore job ${job.id}`, error);
      job.error = committed ? `the data was restored, but the restore did not finish: ${failure}` : failure;
      await this.end(job).catch(() => {});
      this.recordEnd(job, backup, error);
      this.publish(Object.assign(progress, { phase: 'DONE', message: job.error }));
    }
  }

  /** The restore's line in the operation log, once its end is recorded: whoever is notified finds the job ended. */
  private recordEnd(job: RestoreJob, backup: Backup, cause?: unknown): void {
    this.deps.operations.record({
      op: 'restore',
      outcome: job.status === 'SUCCEEDED' ? 'succeeded' : 'failed',
      durationMs: (job.finishedAt ?? new Date()).getTime() - (job.startedAt ?? job.createdAt).getTime(),
      backupId: backup.id,
      jobId: job.id,
      sizeBytes: backup.sizeBytes,
      error: job.error,
      cause,
      details: { preRestoreBackupId: job.preRestoreBackupId },
    });
  }

  /** Records the job's end and frees the lease in one transaction: whoever sees it ended may restore. */
  private async end(job: RestoreJob): Promise<void> {
    const { status, finishedAt, error } = job;
    await this.deps.gate.release(
      job.id,
      this.deps.control.restoreJob.update({ where: { id: job.id }, data: { status, finishedAt, error, phase: 'DONE' } }),
    );
  }
}
