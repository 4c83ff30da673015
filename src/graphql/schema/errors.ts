// The Error interface and one GraphQL object per expected failure. Mutations list the
// ones they can give; anything else is unexpected and stays masked.
import {
  AppError,
  BackupFailedError,
  InsufficientSpaceError,
  InvalidArchiveError,
  InvalidCredentialsError,
  InvalidSetupCodeError,
  JobFinishedError,
  TooLateToCancelError,
  NewerSchemaError,
  SetupRequiredError,
  TooManyAttemptsError,
  NotFoundError,
  RestoreInProgressError,
  ValidationError,
  WrongPassphraseError,
} from '../../core/errors.ts';
import { builder } from '../builder.ts';

export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'A failure the client can act on. Every mutation result union holds its payload or one of these.',
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(AppError, {
  name: 'BaseError',
  interfaces: [ErrorInterface],
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ resource: t.exposeString('resource'), id: t.exposeID('id') }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field', { description: 'The input field that is wrong.' }) }),
});

builder.objectType(InsufficientSpaceError, {
  name: 'InsufficientSpaceError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    requiredBytes: t.expose('requiredBytes', { type: 'SafeInt' }),
    availableBytes: t.expose('availableBytes', { type: 'SafeInt' }),
  }),
});

builder.objectType(InvalidArchiveError, {
  name: 'InvalidArchiveError',
  interfaces: [ErrorInterface],
});

builder.objectType(BackupFailedError, {
  name: 'BackupFailedError',
  description: 'The backup could not be taken (a missing target file, an unreachable database); nothing was written.',
  interfaces: [ErrorInterface],
});

builder.objectType(NewerSchemaError, {
  name: 'NewerSchemaError',
  description:
    "The backup comes from a newer version of the app than this target: upgrade the app first. For an app without migrations (`prisma db push`): the backup's data model is not the app's, as the message lists.",
  interfaces: [ErrorInterface],
  fields: (t) => ({
    backupSchemaVersion: t.exposeString('backupSchemaVersion', { nullable: true }),
    unknownMigrations: t.exposeStringList('unknownMigrations'),
  }),
});

builder.objectType(WrongPassphraseError, {
  name: 'WrongPassphraseError',
  description: 'The passphrase does not open this encrypted backup. Nothing was read or changed.',
  interfaces: [ErrorInterface],
});

builder.objectType(RestoreInProgressError, {
  name: 'RestoreInProgressError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ jobId: t.exposeID('jobId') }),
});

builder.objectType(InvalidCredentialsError, {
  name: 'InvalidCredentialsError',
  description: 'The username or password is wrong (which one is not said).',
  interfaces: [ErrorInterface],
});

builder.objectType(TooManyAttemptsError, {
  name: 'TooManyAttemptsError',
  description: 'Too many failed attempts for this account or from this address; nothing was checked.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ retryAfterSeconds: t.exposeInt('retryAfterSeconds') }),
});

builder.objectType(SetupRequiredError, {
  name: 'SetupRequiredError',
  description: 'No account exists yet: create the first with setupAccount and the setup code.',
  interfaces: [ErrorInterface],
});

builder.objectType(InvalidSetupCodeError, {
  name: 'InvalidSetupCodeError',
  interfaces: [ErrorInterface],
});

builder.objectType(JobFinishedError, {
  name: 'JobFinishedError',
  description: 'The job has already ended: there is nothing to cancel.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ jobId: t.exposeID('jobId'), status: t.exposeString('status', { description: 'How it ended.' }) }),
});

builder.objectType(TooLateToCancelError, {
  name: 'TooLateToCancelError',
  description: "The restore's commit has begun: it ends with the backup's data.",
  interfaces: [ErrorInterface],
  fields: (t) => ({ jobId: t.exposeID('jobId') }),
});
