// The failures a user can cause or meet, as plain classes. The GraphQL layer exposes
// each as a typed error object; REST maps them to status codes.

export class AppError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends AppError {
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`no ${resource} with id ${JSON.stringify(id)}`);
  }
}

export class ValidationError extends AppError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export class InsufficientSpaceError extends AppError {
  constructor(
    readonly requiredBytes: number,
    readonly availableBytes: number,
  ) {
    super(`not enough free space for a backup: about ${requiredBytes} bytes needed, ${availableBytes} available`);
  }
}

export class InvalidArchiveError extends AppError {}

/** A backup that cannot run because something outside the request failed (missing file, database error). */
export class BackupFailedError extends AppError {}

export class NewerSchemaError extends AppError {
  constructor(
    readonly backupSchemaVersion: string | null,
    readonly unknownMigrations: string[],
    message = `the backup was made with a newer schema (${backupSchemaVersion}); this target does not know migration ${unknownMigrations.at(-1)}: upgrade the app first`,
  ) {
    super(message);
  }
}

/**
 * The same refusal where migrations cannot bring the backup forward: an app without
 * migrations (`prisma db push`), a backup from the other kind of database, or one at the
 * target's own version whose tables disagree with the schema. The backup's data model must
 * then be the target's; `why` says which case it is. Clients see it as a NewerSchemaError.
 */
export class DataModelMismatchError extends NewerSchemaError {
  constructor(
    backupSchemaVersion: string | null,
    readonly differences: string[],
    why = 'which has no migrations to bring it forward',
  ) {
    super(backupSchemaVersion, [], `the backup's data model differs from this target's, ${why}: ${differences.join('; ')}`);
  }
}

export class RestoreInProgressError extends AppError {
  constructor(readonly jobId: string) {
    super(`a restore is already running (job ${jobId}); wait for it to finish`);
  }
}

/** The passphrase does not open this encrypted backup (checked against its header before any data is read). */
export class WrongPassphraseError extends AppError {
  constructor() {
    super('the passphrase does not match this encrypted backup');
  }
}

/** A sign-in with a username and password that do not match; which one is wrong is not said. */
export class InvalidCredentialsError extends AppError {
  constructor(message = 'the username or password is wrong') {
    super(message);
  }
}

/** Too many failed sign-ins for this account or from this address: nothing was checked. */
export class TooManyAttemptsError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed attempts: try again in ${retryAfterSeconds} s`);
  }
}

/** No account exists yet: the first is made with setupAccount and the setup code. */
export class SetupRequiredError extends AppError {
  constructor() {
    super('no account exists yet: create the first with setupAccount and the setup code from the server log or $DATA_DIR/setup-code');
  }
}

export class InvalidSetupCodeError extends AppError {
  constructor() {
    super('the setup code is wrong, or was used already (an account exists: log in instead)');
  }
}

/** What a cancelled job records as its error: who cancelled it, and that nothing changed. */
export class JobCancelledError extends AppError {
  constructor(
    readonly jobKind: 'backup' | 'restore',
    readonly actor: string | null,
  ) {
    const by = `cancelled by ${actor ?? 'an unknown user'}`;
    super(jobKind === 'backup' ? `${by}: no backup was kept` : `${by} before the commit: the data was left as it was`);
  }
}

/** cancelJob on a job that has already ended. */
export class JobFinishedError extends AppError {
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`job ${jobId} has already ended (${status}): there is nothing to cancel`);
  }
}

/** cancelJob on a restore whose commit has begun: it ends with the backup's data. */
export class TooLateToCancelError extends AppError {
  constructor(readonly jobId: string) {
    super(`too late: restore job ${jobId} is committing; the data will be the backup's`);
  }
}
