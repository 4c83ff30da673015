// The tool's exit codes, one per kind of outcome a script acts on differently, and which
// error gives which. `--help` prints EXIT_CODES_HELP; README.md, "Command line", the same.
import { CommanderError } from 'commander';
import { ConfigError } from '../core/config.ts';
import {
  InvalidArchiveError,
  NewerSchemaError,
  NotFoundError,
  RestoreInProgressError,
  ValidationError,
  WrongPassphraseError,
} from '../core/errors.ts';
import { TargetDatabaseMissingError } from '../target/database-state.ts';
import { InterruptedError } from './terminal-prompt.ts';

export const EXIT = {
  ok: 0,
  /** The operation ran and failed: a restore job failed, a backup could not be written, verify found problems. */
  failed: 1,
  /** The command line was wrong, or asked for what cannot be given here (a passphrase or a confirmation without a terminal). */
  usage: 2,
  /** Refused before anything changed: the data or the state says no. */
  refused: 3,
  /** The environment's configuration is wrong, as the server's start-up reports it (EX_CONFIG). */
  config: 78,
  /** Ctrl-C, as a shell reports SIGINT. */
  interrupted: 130,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0   done
  1   the operation failed (a restore job failed, a backup could not be written,
      verify found problems); nothing is left half-done
  2   usage: wrong arguments, no such archive, or a passphrase or confirmation
      needed with no terminal to ask (give --passphrase-file, --yes)
  3   refused, nothing changed: a newer schema, a wrong passphrase, a restore
      running on a server (the restore lease), an invalid archive, a target
      database with nothing to back up yet, or "no" at the confirmation
  78  configuration: an environment variable is wrong (the server's own check)
  130 interrupted (Ctrl-C)`;

/** A command line that cannot be carried out as given. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The person at the terminal answered no: nothing was done. */
export class NotConfirmedError extends Error {
  override name = 'NotConfirmedError';
}

const REFUSALS = [
  NewerSchemaError,
  WrongPassphraseError,
  RestoreInProgressError,
  InvalidArchiveError,
  TargetDatabaseMissingError,
  NotConfirmedError,
];

export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError)
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
  if (error instanceof ConfigError) return EXIT.config;
  if (error instanceof InterruptedError) return EXIT.interrupted;
  if (error instanceof UsageError || error instanceof NotFoundError || error instanceof ValidationError) return EXIT.usage;
  if (REFUSALS.some((type) => error instanceof type)) return EXIT.refused;
  return EXIT.failed;
}
