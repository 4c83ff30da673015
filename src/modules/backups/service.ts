// Creates, uploads, verifies, lists and deletes backups: plain inputs and results, nothing of
// GraphQL or HTTP. One backup runs at a time; every attempt is recorded in the control database.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open as openFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArchiveSealer, metadataMismatch, passphraseProblem, unlockArchive } from '../../archive/encryption/encrypted-archive.ts';
import { isEnvelope, readEnvelopeHeader, type EnvelopeHeader, type PublicMetadata } from '../../archive/encryption/envelope-header.ts';
import { ArchiveRejectedError, checkArchive } from '../../archive/archive-check.ts';
import { verifyBackup, type VerifyReport } from '../../engine/verify-backup.ts';
import { restoreRefusal, type RefusalTarget } from '../../engine/restore-refusal.ts';
import { backupFileName } from '../../archive/archive-name.ts';
import { writeBackup } from '../../engine/backup.ts';
import type { BackupKind, Manifest } from '../../archive/manifest.ts';
import { TargetFileMissingError } from '../../engine/stage-target-files.ts';
import { BackupFailedError, InsufficientSpaceError, InvalidArchiveError, NotFoundError, ValidationError } from '../../core/errors.ts';
import type { NewerSchemaError } from '../../core/errors.ts';
import type { ControlClient } from '../../control/control-db.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import type { TableSpec } from '../../target/target-schema.ts';
import type { Target } from '../../target/target.ts';
import { environmentFailure } from '../../util/environment-failure.ts';
import { SerialQueue } from '../../util/serial-queue.ts';
import type { OperationLog } from '../operation-log.ts';
import type { RestoreGate } from '../restore-gate.ts';
import type { JobSignals } from '../job-signals.ts';
import type { BackupJob, BackupJobs, BackupProgress } from './backup-jobs.ts';
import type { Backup, BackupCatalog } from './catalog.ts';

export interface CreateBackupInput {
  kind: BackupKind;
  includeMedia?: boolean | null;
  note?: string | null;
  /** Encrypts the archive (`….tar.gz.enc`); at least 8 characters. */
  passphrase?: string | null;
  /** What asked for it: the API, the scheduler, a restore taking its safety copy, start-up before deploying migrations, or the command-line tool. */
  trigger: 'api' | 'schedule' | 'restore' | 'upgrade' | 'cli';
  /**
   * The tables as the database has them, when they are not the schema's: a pre-upgrade backup
   * reads a database its newer schema does not describe yet.
   */
  tables?: TableSpec[];
  /** The restore job, or the scheduled run (its due time), it belongs to: in its log line and notifications. */
  jobId?: string | null;
  /** Who asked (actorOf); none for the schedule and a restore's safety backup. */
  actor?: string | null;
}

/** What an upload hands over: the web File a multipart request carries. */
export interface UploadedFile {
  /** Bytes, as the request declares them. */
  size: number;
  /** The file's bytes, read once. */
  stream(): ReadableStream<Uint8Array>;
  /** Where the bytes already are on disk (a GraphQL upload staged by the request): read in place. */
  path?: string;
}

export interface Restorability {
  ok: boolean;
  reason: string | null;
}

/** A backup's tar.gz as plaintext, however it is stored. */
export interface ArchiveAccess {
  /** A fresh plaintext stream of the tar.gz each call. */
  open(): Readable;
  /** Why the manifest read from inside the archive cannot be trusted with this backup, or null. */
  manifestProblem(manifest: Manifest): string | null;
}

export const MAX_NOTE_LENGTH = 500;
/** Rows are reported at least this often while they are read. */
const PROGRESS_INTERVAL_MS = 250;
/** A new backup is assumed to need at least this share of the last one's size. */
const SPACE_MARGIN = 1.1;

export interface BackupServiceDeps {
  catalog: BackupCatalog;
  store: BackupStore;
  target: Target;
  control: ControlClient;
  scratchDir: string;
  appVersion: string;
  /** Held by a running restore, here or on another instance: other backups are refused meanwhile. */
  restoreGate: RestoreGate;
  uploadMaxBytes: number;
  /** Every create, upload, verify and delete is recorded here as it ends. */
  operations: OperationLog;
  /** Backup jobs as rows and progress events. */
  jobs: BackupJobs;
  /** The jobs running here, each cancelable. */
  signals: JobSignals;
  /** This instance's name, recorded on the jobs it runs. */
  instance: string;
}

export class BackupService {
  private readonly queue = new SerialQueue();

  constructor(private readonly deps: BackupServiceDeps) {}

  /** Every backup in the store, newest first, of one kind if asked. */
  async list(filter: { kind?: BackupKind | null } = {}): Promise<Backup[]> {
    const all = await this.deps.catalog.list();
    return filter.kind ? all.filter((backup) => backup.kind === filter.kind) : all;
  }

  /** The backup with this id, or null. */
  get(id: string): Promise<Backup | null> {
    return this.deps.catalog.get(id);
  }

  /** The backup with this id, or NotFoundError. */
  async require(id: string): Promise<Backup> {
    const backup = await this.deps.catalog.get(id);
    if (!backup) throw new NotFoundError('backup', id);
    return backup;
  }

  sha256(backup: Backup): Promise<string> {
    return this.deps.catalog.sha256(backup);
  }

  /**
   * Why this target cannot take a backup, as the error its restore gives; null when it can
   * (engine/restore-refusal.ts, which verifyBackup runs too). `manifest` null: an encrypted
   * backup, judged by its public metadata until its passphrase opens it.
   */
  schemaRefusal(content: PublicMetadata, manifest: Manifest | null): NewerSchemaError | null {
    return restoreRefusal(content, manifest, this.refusalTarget());
  }

  /** Whether this target can take the backup back: readable, and a schema it can hold; the restore's own reason when not. */
  restorability(backup: Backup): Restorability {
    if (!backup.summary && backup.envelope) {
      return { ok: true, reason: 'encrypted with age: what it holds is checked once its passphrase opens it' };
    }
    if (!backup.summary) return { ok: false, reason: backup.problem ?? 'the manifest cannot be read' };
    const refusal = this.schemaRefusal(backup.summary, backup.manifest);
    if (refusal) return { ok: false, reason: refusal.message };
    const { provider } = this.deps.target.location;
    if (!backup.manifest && backup.summary.provider !== provider) {
      return {
        ok: true,
        reason: `the backup is from ${backup.summary.provider}: its tables are compared with this target's once its passphrase opens it`,
      };
    }
    return { ok: true, reason: null };
  }

  /** Takes a backup now, one at a time, and returns it once it is stored and listed. */
  async create(input: CreateBackupInput): Promise<Backup> {
    return (await this.createWithManifest(input)).backup;
  }

  /**
   * The same, with the manifest it wrote (an encrypted backup's too, which the listing does not
   * show); `signal` (a restore's) stops it as a cancel of its own job does.
   */
  async createWithManifest(input: CreateBackupInput, signal?: AbortSignal): Promise<{ backup: Backup; manifest: Manifest }> {
    return (await this.enqueue(input, signal)).done;
  }

  /** Checks what can be checked at once, then backs up in the background: the job at once, PENDING or RUNNING. */
  async start(input: CreateBackupInput): Promise<BackupJob> {
    const { job, done } = await this.enqueue(input);
    done.catch(() => {}); // the job records its failure
    return job;
  }

  /**
   * Refuses at once what can be refused (recorded in the operation log as refused), records the
   * job as PENDING and queues it; `done` settles as the backup ends, recorded there too.
   */
  private async enqueue(
    input: CreateBackupInput,
    outer?: AbortSignal,
  ): Promise<{ job: BackupJob; done: Promise<{ backup: Backup; manifest: Manifest }> }> {
    const facts = { op: 'backup' as const, kind: input.kind, trigger: input.trigger, jobId: input.jobId };
    const started = performance.now();
    const { job, run } = await this.admit(input, outer).catch((error: unknown) => {
      this.deps.operations.failed(facts, error, started);
      throw error;
    });
    const done = this.deps.operations.track({ ...facts, jobId: input.jobId ?? job.id }, run, ({ backup }) => ({
      backupId: backup.id,
      sizeBytes: backup.sizeBytes,
    }));
    return { job, done };
  }

  /** The checks, then the PENDING row; `run` takes the backup when called. */
  private async admit(
    input: CreateBackupInput,
    outer?: AbortSignal,
  ): Promise<{ job: BackupJob; run: () => Promise<{ backup: Backup; manifest: Manifest }> }> {
    const note = input.note?.trim() || null;
    if (note && note.length > MAX_NOTE_LENGTH) {
      throw new ValidationError('note', `note must be at most ${MAX_NOTE_LENGTH} characters`);
    }
    const includeMedia = input.includeMedia ?? false;
    const passphrase = input.passphrase ?? null;
    const weak = passphrase === null ? null : passphraseProblem(passphrase);
    if (weak) throw new ValidationError('passphrase', weak);
    // A restore's own safety backup is the one backup that runs while it holds the gate.
    if (input.trigger !== 'restore') await this.deps.restoreGate.assertFree();
    await this.ensureSpace(includeMedia);
    const job: BackupJob = {
      id: randomUUID(),
      backupKind: input.kind,
      status: 'PENDING',
      actor: input.actor ?? null,
      trigger: input.trigger,
      includesMedia: includeMedia,
      encrypted: passphrase !== null,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
      fileName: null,
      sizeBytes: null,
      error: null,
    };
    await this.deps.control.backupRun.create({
      data: {
        id: job.id,
        kind: job.backupKind,
        trigger: job.trigger,
        status: job.status,
        actor: job.actor,
        includesMedia: includeMedia,
        encrypted: job.encrypted,
        instance: this.deps.instance,
        requestedAt: job.createdAt,
        startedAt: job.createdAt,
      },
    });
    const own = this.deps.signals.track(job.id, 'backup');
    const signal = outer ? AbortSignal.any([own, outer]) : own;
    const run = () =>
      this.run(job, { kind: input.kind, includeMedia, note, passphrase, tables: input.tables }, signal).finally(() =>
        this.deps.signals.untrack(job.id),
      );
    return { job: { ...job }, run };
  }

  private async run(
    job: BackupJob,
    request: { kind: BackupKind; includeMedia: boolean; note: string | null; passphrase: string | null; tables?: TableSpec[] },
    signal: AbortSignal,
  ): Promise<{ backup: Backup; manifest: Manifest }> {
    const { tables } = request;
    const target = tables ? { ...this.deps.target, schema: { ...this.deps.target.schema, tables } } : this.deps.target;
    const tablesTotal = target.schema.tables.filter((table) => request.includeMedia || !table.media).length;
    const progress: BackupProgress = {
      job,
      phase: 'QUEUED',
      table: null,
      tablesDone: 0,
      tablesTotal,
      rowsDone: 0,
      rowsTotal: null,
      bytesRead: 0,
      bytesWritten: 0,
      message: null,
    };
    const publish = (change: Partial<BackupProgress> = {}) => this.deps.jobs.publish(Object.assign(progress, change));
    publish();
    const rowsByTable = new Map<string, { rows: number; bytes: number }>();
    let lastPublished = 0;
    const onRows = (table: string, rows: number, bytes: number) => {
      const started = !rowsByTable.has(table);
      rowsByTable.set(table, { rows, bytes });
      progress.table = table;
      progress.rowsDone = [...rowsByTable.values()].reduce((sum, t) => sum + t.rows, 0);
      progress.bytesRead = [...rowsByTable.values()].reduce((sum, t) => sum + t.bytes, 0);
      if (started || Date.now() - lastPublished >= PROGRESS_INTERVAL_MS) {
        lastPublished = Date.now();
        publish();
      }
    };
    try {
      // The key is derived before the snapshot opens, so the snapshot is not held meanwhile.
      const sealer = request.passphrase === null ? undefined : await ArchiveSealer.create(request.passphrase);
      const queued = this.queue.run(async () => {
        await this.ensureSpace(request.includeMedia);
        // Checked just before the job leaves PENDING: a cancel until then has already ended it.
        signal.throwIfAborted();
        job.status = 'RUNNING';
        // Later than requestedAt, always: that is how a run that never started is told apart (backupJobOf).
        job.startedAt = new Date(Math.max(Date.now(), job.createdAt.getTime() + 1));
        await this.deps.control.backupRun.update({ where: { id: job.id }, data: { status: 'RUNNING', startedAt: job.startedAt } });
        publish({ phase: 'READING', message: 'reading the tables in one snapshot' });
        const { createdAt, fileName } = await this.freeName(request.kind, sealer !== undefined);
        const { manifest, archive, envelope } = await writeBackup({
          sealer,
          target,
          store: this.deps.store,
          fileName,
          kind: request.kind,
          includeMedia: request.includeMedia,
          note: request.note,
          createdAt,
          appVersion: this.deps.appVersion,
          scratchDir: this.deps.scratchDir,
          signal,
          onRows,
          onTable: (table, rows) => {
            onRows(table, rows, rowsByTable.get(table)?.bytes ?? 0);
            progress.tablesDone++;
            if (progress.tablesDone === tablesTotal) {
              publish({ phase: 'WRITING', table: null, rowsTotal: progress.rowsDone, message: `writing ${fileName}` });
            } else publish();
          },
          onWritten: (bytes) => {
            progress.bytesWritten = bytes;
            if (Date.now() - lastPublished >= PROGRESS_INTERVAL_MS) {
              lastPublished = Date.now();
              publish();
            }
          },
        });
        this.deps.catalog.remember(archive, envelope ? { envelope } : { manifest }, archive.sha256);
        Object.assign(job, { status: 'SUCCEEDED', fileName, sizeBytes: archive.sizeBytes, finishedAt: new Date() });
        await this.finishRun(job);
        publish({ phase: 'DONE', table: null, bytesWritten: archive.sizeBytes, message: `wrote ${fileName}` });
        return { backup: (await this.deps.catalog.get(fileName))!, manifest };
      });
      queued.catch(() => {}); // cancelled while it waited: it throws once its turn comes, unheard
      return await Promise.race([queued, abortedWhilePending(signal, job)]);
    } catch (error) {
      Object.assign(job, { status: 'FAILED', error: (error as Error).message, finishedAt: new Date() });
      await this.finishRun(job).catch(() => {});
      publish({ phase: 'DONE', table: null, message: job.error });
      if (error instanceof TargetFileMissingError) throw new BackupFailedError(error.message);
      const cause = environmentFailure(error);
      if (cause) throw new BackupFailedError(`the backup could not be written: ${cause}; nothing was kept`);
      throw error;
    }
  }

  /** Checks the archive, then restores it into a scratch database and compares it with the manifest; the target is not touched. */
  verify(id: string, passphrase?: string | null): Promise<VerifyReport> {
    return this.deps.operations.track(
      { op: 'verify', backupId: id },
      () => this.verifyNow(id, passphrase),
      (report) => ({ outcome: report.ok ? 'succeeded' : 'failed', details: { problems: report.problems.length } }),
    );
  }

  private async verifyNow(id: string, passphrase?: string | null): Promise<VerifyReport> {
    const backup = await this.require(id);
    const access = await this.access(backup, passphrase);
    const { target } = this.deps;
    return verifyBackup({
      openArchive: () => access.open(),
      manifestProblem: (manifest) => access.manifestProblem(manifest),
      compressedBytes: backup.sizeBytes,
      target: { ...this.refusalTarget(), schemaFiles: target.schemaFiles },
      scratchDir: this.deps.scratchDir,
    });
  }

  /**
   * Stores an archive a user sends, as kind `uploaded`, only once it has passed every
   * check. The client's file name is never used: the archive gets a name of our own.
   */
  upload(file: UploadedFile, passphrase?: string | null): Promise<Backup> {
    return this.deps.operations.track(
      { op: 'upload', kind: 'uploaded', trigger: 'api' },
      () => this.storeUpload(file, passphrase),
      (backup) => ({ backupId: backup.id, sizeBytes: backup.sizeBytes }),
    );
  }

  private async storeUpload(file: UploadedFile, passphrase?: string | null): Promise<Backup> {
    if (file.size > this.deps.uploadMaxBytes) {
      throw new ValidationError(
        'file',
        `the file is ${file.size} bytes; uploads are limited to ${this.deps.uploadMaxBytes} (UPLOAD_MAX_BYTES)`,
      );
    }
    const staging = file.path ?? path.join(this.deps.scratchDir, `upload-${randomUUID()}`);
    try {
      if (!file.path) {
        await mkdir(this.deps.scratchDir, { recursive: true });
        await pipeline(
          Readable.from(file.stream() as unknown as AsyncIterable<Uint8Array>),
          createWriteStream(staging, { flags: 'wx', mode: 0o600 }),
        );
      }
      const content = await this.checkUpload(staging, file.size, passphrase ?? null);
      await this.checkUploadedRows(staging, file.size, passphrase ?? null, content);
      return await this.queue.run(async () => {
        const { fileName } = await this.freeName('uploaded', content.envelope !== undefined);
        const archive = await this.deps.store.write(fileName, createReadStream(staging));
        this.deps.catalog.remember(archive, content, archive.sha256);
        return (await this.deps.catalog.get(fileName))!;
      });
    } catch (error) {
      const cause = environmentFailure(error);
      if (cause) throw new BackupFailedError(`the upload could not be stored: ${cause}; nothing was kept`);
      throw error;
    } finally {
      if (!file.path) await rm(staging, { force: true });
    }
  }

  /**
   * The backup's tar.gz as plaintext. An encrypted backup needs its passphrase, checked
   * here against the header (WrongPassphraseError) before a byte of data is read.
   */
  async access(backup: Backup, passphrase?: string | null): Promise<ArchiveAccess> {
    const read = () => this.deps.store.read(backup.fileName);
    if (!backup.encrypted) return { open: read, manifestProblem: () => null };
    if (!backup.envelope) throw new InvalidArchiveError(backup.problem ?? 'the encrypted archive cannot be read');
    if (!passphrase) throw new ValidationError('passphrase', 'this backup is encrypted: its passphrase is needed');
    const unlocked = await unlockArchive(read, passphrase);
    return { open: () => unlocked.open(), manifestProblem: (manifest) => metadataMismatch(unlocked.header.metadata, manifest) };
  }

  /**
   * A plain upload passes the full check. An encrypted one has its header checked, and
   * with its passphrase, everything inside too; without it, the restore checks it later.
   */
  private async checkUpload(
    staging: string,
    size: number,
    passphrase: string | null,
  ): Promise<{ manifest?: Manifest; envelope?: EnvelopeHeader }> {
    const rejected = (error: unknown) => {
      throw error instanceof ArchiveRejectedError ? new InvalidArchiveError(error.message) : error;
    };
    if (!isEnvelope(await readHead(staging))) {
      const { manifest } = await checkArchive(createReadStream(staging), size).catch(rejected);
      return { manifest };
    }
    if (!passphrase) return { envelope: await readEnvelopeHeader(createReadStream(staging)) };
    const unlocked = await unlockArchive(() => createReadStream(staging), passphrase);
    const { manifest } = await checkArchive(unlocked.open(), size).catch(rejected);
    const mismatch = metadataMismatch(unlocked.header.metadata, manifest);
    if (mismatch) throw new InvalidArchiveError(mismatch);
    return { envelope: unlocked.header };
  }

  /**
   * Verify's trial restore of an upload it can read (plain, or encrypted with its passphrase),
   * so that rows which would not load (a wrong type, a missing value, a broken key) are refused
   * now, not at the restore that needs them. One that only cannot be restored here (a newer
   * schema, another app's tables) is still stored: `restorable` says why.
   */
  private async checkUploadedRows(
    staging: string,
    size: number,
    passphrase: string | null,
    content: { manifest?: Manifest; envelope?: EnvelopeHeader },
  ): Promise<void> {
    if (content.envelope && !passphrase) return;
    const open = content.envelope
      ? (await unlockArchive(() => createReadStream(staging), passphrase!)).open
      : () => createReadStream(staging) as Readable;
    const report = await verifyBackup({
      openArchive: () => open(),
      compressedBytes: size,
      target: { ...this.refusalTarget(), schemaFiles: this.deps.target.schemaFiles },
      scratchDir: this.deps.scratchDir,
    });
    if (report.restored && !report.ok) throw new InvalidArchiveError(`the archive's rows do not load: ${report.problems.join('; ')}`);
  }

  /** Deletes the backup's archive and returns its id; NotFoundError when there is none. */
  async delete(id: string): Promise<string> {
    const deleted = await this.deps.operations.track(
      { op: 'delete', backupId: id },
      () => this.deleteNow(id),
      (backup) => ({ kind: backup.kind }),
    );
    return deleted.id;
  }

  private async deleteNow(id: string): Promise<Backup> {
    const backup = await this.require(id);
    if (!(await this.deps.store.delete(backup.fileName))) throw new NotFoundError('backup', id);
    return backup;
  }

  private refusalTarget(): RefusalTarget & Pick<Target, 'location'> {
    const { location, migrationsDir, knownMigrations, schema } = this.deps.target;
    return { location, migrationsDir, knownMigrations, tables: schema.tables };
  }

  private async finishRun(job: BackupJob): Promise<void> {
    const { status, fileName, sizeBytes, error, finishedAt } = job;
    await this.deps.control.backupRun.update({
      where: { id: job.id },
      data: { status, fileName, sizeBytes: sizeBytes === null ? null : BigInt(sizeBytes), error, finishedAt },
    });
  }

  /** Names carry the time to the second; a second backup within it waits for the next. */
  private async freeName(kind: BackupKind, encrypted: boolean): Promise<{ createdAt: Date; fileName: string }> {
    for (;;) {
      const createdAt = new Date();
      const fileName = backupFileName(this.deps.target.name, createdAt, kind, encrypted);
      if (!(await this.deps.store.stat(fileName))) return { createdAt, fileName };
      await sleep(1000 - createdAt.getMilliseconds());
    }
  }

  /** Refuses early when the folder cannot hold another backup the size of the last one. */
  private async ensureSpace(includeMedia: boolean): Promise<void> {
    const last = (await this.deps.catalog.list()).find((b) => (b.summary?.includesMedia ?? false) === includeMedia);
    if (!last) return;
    const required = Math.ceil(last.sizeBytes * SPACE_MARGIN);
    const available = await this.deps.store.freeBytes();
    if (available < required) throw new InsufficientSpaceError(required, available);
  }
}

/** Rejects with the signal's reason if it aborts while the job still waits for the backup ahead. */
function abortedWhilePending(signal: AbortSignal, job: BackupJob): Promise<never> {
  return new Promise((_resolve, reject) => {
    const abort = () => job.status === 'PENDING' && reject(signal.reason as Error);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

/** The first bytes of a file: enough to tell an encrypted archive from a plain one. */
async function readHead(file: string): Promise<Buffer> {
  const handle = await openFile(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
