// Creates, lists and deletes backups. Plain inputs and results; knows nothing of GraphQL
// or HTTP. One backup runs at a time; every attempt is recorded in the control database.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ArchiveRejectedError, verifyArchive } from '../../engine/archive-verifier.ts';
import { checkBackup, type CheckReport } from '../../engine/backup-checker.ts';
import { backupFileName } from '../../engine/backup-name.ts';
import { writeBackup } from '../../engine/backup-writer.ts';
import type { BackupKind } from '../../engine/manifest.ts';
import { TargetFileMissingError } from '../../engine/target-files.ts';
import { BackupFailedError, InsufficientSpaceError, InvalidArchiveError, NotFoundError, ValidationError } from '../../errors.ts';
import type { ControlClient } from '../../control/control-db.ts';
import type { BackupStore } from '../../storage/backup-store.ts';
import type { Target } from '../../target/target.ts';
import { SerialQueue } from '../../util/serial-queue.ts';
import type { RestoreGate } from '../restores/gate.ts';
import type { Backup, BackupCatalog } from './catalog.ts';

export interface CreateBackupInput {
  kind: BackupKind;
  includeMedia?: boolean | null;
  note?: string | null;
  /** What asked for it: the API, the scheduler, or a restore taking its safety copy. */
  trigger: 'api' | 'schedule' | 'restore';
}

/** What an upload hands over: the web File a multipart request carries. */
export interface UploadedFile {
  size: number;
  stream(): ReadableStream<Uint8Array>;
}

export interface Restorability {
  ok: boolean;
  reason: string | null;
}

export const MAX_NOTE_LENGTH = 500;
/** A new backup is assumed to need at least this share of the last one's size. */
const SPACE_MARGIN = 1.1;

export interface BackupServiceDeps {
  catalog: BackupCatalog;
  store: BackupStore;
  target: Target;
  control: ControlClient;
  scratchDir: string;
  appVersion: string;
  /** Held by a running restore: other backups are refused meanwhile. */
  restoreGate: RestoreGate;
  uploadMaxBytes: number;
}

export class BackupService {
  private readonly queue = new SerialQueue();

  constructor(private readonly deps: BackupServiceDeps) {}

  async list(filter: { kind?: BackupKind | null } = {}): Promise<Backup[]> {
    const all = await this.deps.catalog.list();
    return filter.kind ? all.filter((backup) => backup.kind === filter.kind) : all;
  }

  get(id: string): Promise<Backup | null> {
    return this.deps.catalog.get(id);
  }

  async require(id: string): Promise<Backup> {
    const backup = await this.deps.catalog.get(id);
    if (!backup) throw new NotFoundError('backup', id);
    return backup;
  }

  sha256(backup: Backup): Promise<string> {
    return this.deps.catalog.sha256(backup);
  }

  /** Whether this target can take the backup back: readable, and no migration it does not know. */
  restorability(backup: Backup): Restorability {
    if (!backup.manifest) return { ok: false, reason: backup.problem ?? 'the manifest cannot be read' };
    const known = new Set(this.deps.target.knownMigrations);
    const unknown = backup.manifest.migrations.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      return { ok: false, reason: `the backup has a newer schema: migration ${unknown.at(-1)} is unknown to this target` };
    }
    return { ok: true, reason: null };
  }

  async create(input: CreateBackupInput): Promise<Backup> {
    const note = input.note?.trim() || null;
    if (note && note.length > MAX_NOTE_LENGTH) {
      throw new ValidationError('note', `note must be at most ${MAX_NOTE_LENGTH} characters`);
    }
    const includeMedia = input.includeMedia ?? false;
    // A restore's own safety backup is the one backup that runs while it holds the gate.
    if (input.trigger !== 'restore') this.deps.restoreGate.assertFree();
    return this.queue.run(async () => {
      await this.ensureSpace(includeMedia);
      const runId = randomUUID();
      await this.deps.control.backupRun.create({
        data: { id: runId, kind: input.kind, trigger: input.trigger, status: 'RUNNING' },
      });
      try {
        const { createdAt, fileName } = await this.freeName(input.kind);
        const { manifest, archive } = await writeBackup({
          target: this.deps.target,
          store: this.deps.store,
          fileName,
          kind: input.kind,
          includeMedia,
          note,
          createdAt,
          appVersion: this.deps.appVersion,
          scratchDir: this.deps.scratchDir,
        });
        this.deps.catalog.remember(archive, manifest, archive.sha256);
        await this.finishRun(runId, { status: 'SUCCEEDED', fileName, sizeBytes: BigInt(archive.sizeBytes) });
        return (await this.deps.catalog.get(fileName))!;
      } catch (error) {
        await this.finishRun(runId, { status: 'FAILED', error: (error as Error).message });
        if (error instanceof TargetFileMissingError) throw new BackupFailedError(error.message);
        throw error;
      }
    });
  }

  /** Every hash, then a restore into a scratch database compared with the manifest; the target is not touched. */
  async verify(id: string): Promise<CheckReport> {
    const backup = await this.require(id);
    if (backup.encrypted) throw new ValidationError('passphrase', 'encrypted backups cannot be verified yet');
    const { target } = this.deps;
    return checkBackup({
      openArchive: () => this.deps.store.read(backup.fileName),
      compressedBytes: backup.sizeBytes,
      target: { location: target.location, schemaFiles: target.schemaFiles, migrationsDir: target.migrationsDir },
      scratchDir: this.deps.scratchDir,
    });
  }

  /**
   * Stores an archive a user sends, as kind `uploaded`, only once it has passed every
   * check. The client's file name is never used: the archive gets a name of our own.
   */
  async upload(file: UploadedFile): Promise<Backup> {
    if (file.size > this.deps.uploadMaxBytes) {
      throw new ValidationError('file', `the file is ${file.size} bytes; uploads are limited to ${this.deps.uploadMaxBytes} (UPLOAD_MAX_BYTES)`);
    }
    const staging = path.join(this.deps.scratchDir, `upload-${randomUUID()}`);
    await mkdir(this.deps.scratchDir, { recursive: true });
    try {
      await pipeline(Readable.from(file.stream() as unknown as AsyncIterable<Uint8Array>), createWriteStream(staging, { flags: 'wx', mode: 0o600 }));
      const { manifest } = await verifyArchive(createReadStream(staging), file.size).catch((error: unknown) => {
        throw error instanceof ArchiveRejectedError ? new InvalidArchiveError(error.message) : error;
      });
      return await this.queue.run(async () => {
        const { fileName } = await this.freeName('uploaded');
        const archive = await this.deps.store.write(fileName, createReadStream(staging));
        this.deps.catalog.remember(archive, manifest, archive.sha256);
        return (await this.deps.catalog.get(fileName))!;
      });
    } finally {
      await rm(staging, { force: true });
    }
  }

  async delete(id: string): Promise<string> {
    const backup = await this.require(id);
    if (!(await this.deps.store.delete(backup.fileName))) throw new NotFoundError('backup', id);
    return backup.id;
  }

  private async finishRun(id: string, data: { status: string; fileName?: string; sizeBytes?: bigint; error?: string }) {
    await this.deps.control.backupRun.update({ where: { id }, data: { ...data, finishedAt: new Date() } });
  }

  /** Names carry the time to the second; a second backup within it waits for the next. */
  private async freeName(kind: BackupKind): Promise<{ createdAt: Date; fileName: string }> {
    for (;;) {
      const createdAt = new Date();
      const fileName = backupFileName(this.deps.target.name, createdAt, kind);
      if (!(await this.deps.store.stat(fileName))) return { createdAt, fileName };
      await sleep(1000 - createdAt.getMilliseconds());
    }
  }

  /** Refuses early when the folder cannot hold another backup the size of the last one. */
  private async ensureSpace(includeMedia: boolean): Promise<void> {
    const last = (await this.deps.catalog.list()).find((b) => (b.manifest?.includesMedia ?? false) === includeMedia);
    if (!last) return;
    const required = Math.ceil(last.sizeBytes * SPACE_MARGIN);
    const available = await this.deps.store.freeBytes();
    if (available < required) throw new InsufficientSpaceError(required, available);
  }
}
