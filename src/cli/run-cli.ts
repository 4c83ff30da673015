// `npx backup-control-plane <command>`: the commands, their options and help, and the exit
// code each outcome gives (exit-codes.ts). Each command opens the control plane without its
// server (command-context.ts), does its work through the server's services, and closes it.
import { Command, CommanderError, Option } from 'commander';
import { ConfigError } from '../core/config.ts';
import { causeChain } from '../core/error-log.ts';
import { AppError } from '../core/errors.ts';
import { APP_VERSION } from '../core/version.ts';
import type { BackupOptions } from './backup-command.ts';
import type { CommandContext } from './command-context.ts';
import { CommandOutput } from './command-output.ts';
import type { DecryptOptions } from './decrypt-command.ts';
import { EXIT, EXIT_CODES_HELP, exitCodeOf, NotConfirmedError, UsageError } from './exit-codes.ts';
import type { RestoreOptions } from './restore-command.ts';
import { isInteractive } from './terminal-prompt.ts';

type Write = (text: string | Buffer, done?: () => void) => void;

const ENVIRONMENT_HELP = `Environment: the server's own (README.md, "Configuration"): DATA_DIR, BACKUP_DIR,
CONTROL_DATABASE_URL, TARGET_DATABASE_URL, TARGET_SCHEMA, TARGET_MIGRATIONS, TARGET_FILES,
TARGET_NAME. The server may be running or stopped; a restore is refused while a
restore holds the lease in the control database, here or on a server.
ARCHIVE: a file name in the backup folder (see list), or the path of an archive anywhere.
Passphrases are never given on the command line: --passphrase-file FILE, else the
passphrase saved in the settings (if it opens the archive), else asked on a terminal.`;

/** Runs one command line and returns the exit code; the caller exits with it. */
export async function runCli(argv: string[]): Promise<number> {
  // Only the command's output goes to stdout, so that it can be piped and parsed: anything
  // else written there (the server's log lines, which go to stdout) is sent to stderr.
  const realWrite = process.stdout.write.bind(process.stdout);
  const stdout: Write = (text, done) => void realWrite(text, done);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

  let exitCode: number = EXIT.ok;
  let out = new CommandOutput(false, 'backup-control-plane', stdout);
  /**
   * Runs `work` with the control plane open, and keeps its exit code. The commands and the
   * services are loaded only then, so that --help and a usage error answer at once.
   */
  const run = async (
    name: string,
    json: boolean | undefined,
    archive: string | undefined,
    work: (context: CommandContext) => Promise<number | void>,
  ) => {
    out = new CommandOutput(json ?? false, name, stdout);
    const { openCommandContext } = await import('./command-context.ts');
    const context = await openCommandContext(archive);
    try {
      exitCode = (await work(context)) ?? EXIT.ok;
    } finally {
      await context.close();
    }
  };

  const program = new Command('backup-control-plane')
    .description("Backs up and restores the target app's database and files, with or without the server running.")
    .version(APP_VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (text) => stdout(text), writeErr: (text) => process.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\n${EXIT_CODES_HELP}\n`);
  const json = () => new Option('--json', 'one JSON object per line: progress, then the result (or the error)');
  const passphraseFile = () => new Option('--passphrase-file <file>', 'read the passphrase from this file (less a final line break)');

  program
    .command('list')
    .description('list the archives in the backup folder, newest first, and whether each can be restored here')
    .addOption(json())
    .action((options: { json?: boolean }) =>
      run('list', options.json, undefined, async (context) => (await import('./list-command.ts')).listCommand(context, out)),
    );

  program
    .command('backup')
    .description('take a manual backup of the target now')
    .option('--media', 'include the media tables (@backup(media)), as a full backup')
    .addOption(passphraseFile())
    .option('--note <text>', 'a note kept in the manifest')
    .option('--pre-upgrade', 'mark it kind pre-upgrade (before an app upgrade; never expired)')
    .addOption(json())
    .action((options: BackupOptions & { json?: boolean }) =>
      run('backup', options.json, undefined, async (context) => (await import('./backup-command.ts')).backupCommand(context, out, options)),
    );

  program
    .command('verify')
    .description('check every hash of an archive, then restore it into a scratch database; the target is not touched')
    .argument('<archive>', 'a name in the backup folder, or a path')
    .addOption(passphraseFile())
    .addOption(json())
    .action((archive: string, options: { passphraseFile?: string; json?: boolean }) =>
      run('verify', options.json, archive, async (context) => (await import('./verify-command.ts')).verifyCommand(context, out, options)),
    );

  program
    .command('restore')
    .description("replace the target's data and files with an archive's (a missing or empty target database is created)")
    .argument('<archive>', 'a name in the backup folder, or a path')
    .option('-y, --yes', 'do not ask for confirmation (needed when not on a terminal)')
    .addOption(passphraseFile())
    .addOption(json())
    .action(async (archive: string, options: RestoreOptions & { json?: boolean }) => {
      if (!options.yes && !isInteractive()) {
        out = new CommandOutput(options.json ?? false, 'restore', stdout);
        throw new UsageError("restore replaces the target's data: confirm with --yes when not on a terminal; nothing was restored");
      }
      await run('restore', options.json, archive, async (context) =>
        (await import('./restore-command.ts')).restoreCommand(context, out, options),
      );
    });

  program
    .command('decrypt')
    .description("write an encrypted archive's plain tar.gz")
    .argument('<archive>', 'a name in the backup folder, or a path')
    .option('-o, --output <file>', 'where to write it ("-": stdout); default: its name without .enc, here')
    .addOption(passphraseFile())
    .addOption(json())
    .action((archive: string, options: DecryptOptions & { json?: boolean }) =>
      run('decrypt', options.json, archive, async (context) =>
        (await import('./decrypt-command.ts')).decryptCommand(context, out, options),
      ),
    );

  program
    .command('inspect')
    .description("print an archive's manifest (an encrypted one's header, without its passphrase)")
    .argument('<archive>', 'a name in the backup folder, or a path')
    .addOption(passphraseFile())
    .addOption(json())
    .action((archive: string, options: { passphraseFile?: string; json?: boolean }) =>
      run('inspect', options.json, archive, async (context) =>
        (await import('./inspect-command.ts')).inspectCommand(context, out, options),
      ),
    );

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    const code = exitCodeOf(error);
    // Commander has printed its own message (or the help) already.
    if (!(error instanceof CommanderError)) out.error(asShown(error), code);
    return code;
  }
}

/** Errors users can act on in their own words; anything else with its causes. */
function asShown(error: unknown): Error {
  if (error instanceof ConfigError) return Object.assign(new Error(`configuration error: ${error.message}`), { name: 'ConfigError' });
  if (error instanceof AppError || error instanceof UsageError || error instanceof NotConfirmedError) return error;
  return Object.assign(new Error(causeChain(error)), { name: error instanceof Error ? error.name : 'Error' });
}
