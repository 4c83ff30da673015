// "Restore this backup?": the backup's date, app and schema versions, the warning that the
// current data will be replaced, its passphrase when encrypted, and a typed confirmation.
import { useState } from 'preact/hooks';
import { ConsoleRestoreBackupDocument, type ConsoleBackupFragment } from '../generated/graphql.ts';
import { KIND_LABELS, formatBytes, formatDate } from '../lib/format.ts';
import { request } from '../lib/request.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';
import { Dialog } from './Dialog.tsx';
import { Field } from './Field.tsx';
import { Link } from './Link.tsx';

/** What the person types to confirm. */
export const CONFIRM_WORD = 'RESTORE';

interface RestoreDialogProps {
  backup: ConsoleBackupFragment;
  /** The schema version the target is at, to compare with the backup's. */
  currentSchemaVersion?: string | null;
  /** First run: the setup code signs the request. */
  setupCode?: string | null;
  onStarted(jobId: string): void;
  onClose(): void;
}

export function RestoreDialog({ backup, currentSchemaVersion, setupCode, onStarted, onClose }: RestoreDialogProps) {
  const [passphrase, setPassphrase] = useState('');
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TypedError | null>(null);
  const [runningJob, setRunningJob] = useState<string | null>(null);
  const [unknownMigrations, setUnknownMigrations] = useState<string[]>([]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (typed.trim() !== CONFIRM_WORD) return;
    setBusy(true);
    setError(null);
    try {
      const input = { backupId: backup.id, passphrase: backup.encrypted ? passphrase : null };
      const { restoreBackup: result } = await request(ConsoleRestoreBackupDocument, { input }, { setupCode });
      if (result.__typename === 'RestoreBackupPayload') return onStarted(result.job.id);
      if (result.__typename === 'RestoreInProgressError') setRunningJob(result.jobId);
      if (result.__typename === 'NewerSchemaError') setUnknownMigrations(result.unknownMigrations);
      setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    } finally {
      setBusy(false);
    }
  };

  const passphraseError = messageFor(error, 'passphrase', ['WrongPassphraseError']);
  return (
    <Dialog title="Restore this backup?" onClose={onClose} wide>
      <dl class="facts">
        <dt>Date</dt>
        <dd>{formatDate(backup.createdAt)}</dd>
        <dt>App version</dt>
        <dd>{backup.appVersion ?? 'unknown'}</dd>
        <dt>Schema version</dt>
        <dd>
          {backup.schemaVersion ?? 'unknown'}
          {currentSchemaVersion !== undefined && <span class="hint"> (this app: {currentSchemaVersion ?? 'no migrations applied'})</span>}
        </dd>
        <dt>Kind</dt>
        <dd>{KIND_LABELS[backup.kind]}</dd>
        <dt>Size</dt>
        <dd>{formatBytes(backup.sizeBytes)}</dd>
        <dt>Contents</dt>
        <dd>{contentsOf(backup)}</dd>
        <dt>File</dt>
        <dd class="file-name">{backup.fileName}</dd>
      </dl>
      {!backup.restorable.ok && (
        <div class="alert refused" data-testid="not-restorable">
          <strong>This backup cannot be restored here:</strong> {backup.restorable.reason}
        </div>
      )}
      <form onSubmit={(event) => void submit(event)}>
        <div class="alert warning">
          <strong>Restoring replaces all current data</strong> of the app with this backup's. A safety backup of the current data is taken
          first (kind pre-restore), so this restore can itself be undone.
          {backup.includesMedia === false && ' This backup holds no media data: run a full sync afterwards.'}
        </div>
        {backup.restorable.ok && backup.restorable.reason && <p class="hint">{backup.restorable.reason}</p>}
        {backup.encrypted && (
          <Field
            label="Passphrase"
            type="password"
            autocomplete="off"
            required
            value={passphrase}
            onValue={setPassphrase}
            error={passphraseError}
          />
        )}
        <Field
          label={
            <>
              Type <kbd>{CONFIRM_WORD}</kbd> to confirm
            </>
          }
          autocomplete="off"
          spellcheck={false}
          value={typed}
          onValue={setTyped}
        />
        {error && !passphraseError && (
          <div class="alert refused" role="alert">
            <p>{messageBesides(error, [passphraseError])}</p>
            {unknownMigrations.length > 0 && (
              <p>
                Migrations this app does not have: <code>{unknownMigrations.join(', ')}</code>. Upgrade the app first, then restore.
              </p>
            )}
            {runningJob && <Link href={`/restores/${encodeURIComponent(runningJob)}`}>Follow the running restore</Link>}
          </div>
        )}
        <div class="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="danger" disabled={busy || typed.trim() !== CONFIRM_WORD}>
            {busy ? 'Starting…' : 'Restore'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function contentsOf(backup: ConsoleBackupFragment): string {
  const sealed = backup.encrypted ? ', encrypted' : '';
  if (backup.includesMedia === true) return `configuration and media data${sealed}`;
  if (backup.includesMedia === false) return `configuration only${sealed}`;
  return backup.encrypted ? 'encrypted: known once its passphrase opens it' : 'unknown';
}
