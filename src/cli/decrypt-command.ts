// `decrypt ARCHIVE [-o OUT]`: an encrypted archive's plain tar.gz, written whole or not at all
// (`-o -`: to stdout). Decrypted as a restore reads it (BackupService.access), whatever its format.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { access as exists, link, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ManifestReadError, readManifest } from '../archive/archive-reader.ts';
import { InvalidArchiveError } from '../core/errors.ts';
import type { CommandContext } from './command-context.ts';
import type { CommandOutput } from './command-output.ts';
import { UsageError } from './exit-codes.ts';
import { formatBytes } from './human-format.ts';
import { resolvePassphrase } from './resolve-passphrase.ts';

/** Bytes written are reported at most this often. */
const PROGRESS_INTERVAL_MS = 250;

export interface DecryptOptions {
  output?: string;
  passphraseFile?: string;
}

export async function decryptCommand(context: CommandContext, out: CommandOutput, options: DecryptOptions): Promise<void> {
  const { backups } = context.services;
  const backup = await backups.require(context.archiveId!);
  if (!backup.encrypted) throw new UsageError(`${backup.fileName} is not encrypted: it is a plain tar.gz already`);
  const toStdout = options.output === '-';
  if (toStdout && out.json) throw new UsageError('-o - writes the archive on stdout, where --json writes its objects');
  const output = toStdout ? null : path.resolve(options.output ?? backup.fileName.replace(/\.enc$/, ''));
  if (
    output &&
    (await exists(output).then(
      () => true,
      () => false,
    ))
  ) {
    throw new UsageError(`${output} exists: nothing was written (name another with -o)`);
  }
  const passphrase = await resolvePassphrase(context, backup, { file: options.passphraseFile });
  // The passphrase is checked against the header here, before a byte is written.
  const plain = await backups.access(backup, passphrase);

  const progress = out.progress();
  let written = 0;
  let reported = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      written += chunk.length;
      if (Date.now() - reported >= PROGRESS_INTERVAL_MS) {
        reported = Date.now();
        // Against the encrypted size: a little more than the plain one, so the bar ends just short.
        progress.update({ phase: 'DECRYPTING', done: written, total: backup.sizeBytes, unit: 'bytes' });
      }
      done(null, chunk);
    },
  });
  const temp = output && `${output}.partial-${randomBytes(4).toString('hex')}`;
  try {
    await pipeline(plain.open(), counter, temp ? createWriteStream(temp, { flags: 'wx', mode: 0o600 }) : out.stdoutStream());
    if (output && temp) {
      // Only a writer holding the key could make the manifest inside disagree with the header; such an archive is not kept.
      const manifest = await readManifest(createReadStream(temp)).catch((error: unknown) => {
        throw error instanceof ManifestReadError ? new InvalidArchiveError(error.message) : error;
      });
      const problem = plain.manifestProblem(manifest);
      if (problem) throw new InvalidArchiveError(problem);
      await link(temp, output).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EEXIST' ? new UsageError(`${output} appeared meanwhile: nothing was written`) : error;
      });
    }
    progress.update({ phase: 'DONE', done: written, total: written, unit: 'bytes' });
  } finally {
    progress.end();
    if (temp) await rm(temp, { force: true });
  }
  if (output) out.result({ backup: backup.id, output, sizeBytes: written }, [`${output}: ${formatBytes(written)}, a plain tar.gz`]);
}
