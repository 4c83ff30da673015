// An encrypted backup's passphrase, never from the command line (where `ps` and the shell's
// history would keep it): a file, else the passphrase saved in the settings if it opens the
// backup, else asked on the terminal without echo.
import { readFile } from 'node:fs/promises';
import { WrongPassphraseError } from '../core/errors.ts';
import type { Backup } from '../modules/backups/catalog.ts';
import type { CommandContext } from './command-context.ts';
import { UsageError } from './exit-codes.ts';
import { askHidden, isInteractive } from './terminal-prompt.ts';

/** The file's text, less one line break at its end. */
export async function readPassphraseFile(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--passphrase-file ${file} cannot be read (${error.code ?? error.message})`);
  });
  const passphrase = text.replace(/\r?\n$/, '');
  if (!passphrase) throw new UsageError(`--passphrase-file ${file} is empty`);
  return passphrase;
}

/**
 * The passphrase for `backup`, null for a plain one. `optional`: null rather than a UsageError
 * when none can be had (inspect then shows what the header tells).
 */
export async function resolvePassphrase(
  context: CommandContext,
  backup: Backup,
  options: { file?: string; optional?: boolean },
): Promise<string | null> {
  if (!backup.encrypted) return null;
  if (options.file) return readPassphraseFile(options.file);
  const { settings, backups } = context.services;
  const saved = await settings.passphrase();
  if (saved) {
    try {
      await backups.access(backup, saved);
      return saved;
    } catch (error) {
      if (!(error instanceof WrongPassphraseError)) throw error;
    }
  }
  if (isInteractive()) {
    const typed = await askHidden(`Passphrase for ${backup.fileName}${options.optional ? ' (Enter to skip)' : ''}: `);
    return typed || (options.optional ? null : typed);
  }
  if (options.optional) return null;
  throw new UsageError(
    `${backup.fileName} is encrypted: give its passphrase with --passphrase-file FILE` +
      (saved ? ' (the passphrase saved in the settings does not open it)' : ''),
  );
}
