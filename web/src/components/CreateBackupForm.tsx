// "Create backup": config only unless "Include media data" is checked; an optional note and
// passphrase (the archive is then encrypted with it).
import { useState } from 'preact/hooks';
import { ConsoleCreateBackupDocument, type ConsoleBackupFragment } from '../generated/graphql.ts';
import { formatBytes } from '../lib/format.ts';
import { request } from '../lib/request.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';
import { Checkbox } from './Checkbox.tsx';
import { ErrorText } from './ErrorText.tsx';
import { Field } from './Field.tsx';

export function CreateBackupForm({ onCreated }: { onCreated(backup: ConsoleBackupFragment, message: string): void }) {
  const [includeMedia, setIncludeMedia] = useState(false);
  const [note, setNote] = useState('');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TypedError | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const input = { includeMedia, note: note.trim() || null, passphrase: passphrase || null };
      const { createBackup: result } = await request(ConsoleCreateBackupDocument, { input });
      if (result.__typename === 'CreateBackupPayload') {
        setNote('');
        setPassphrase('');
        onCreated(result.backup, `Backup created: ${result.backup.fileName} (${formatBytes(result.backup.sizeBytes)}).`);
      } else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    } finally {
      setBusy(false);
    }
  };

  const noteError = messageFor(error, 'note');
  const passphraseError = messageFor(error, 'passphrase');
  return (
    <form class="card" onSubmit={(event) => void submit(event)} aria-labelledby="create-backup-title">
      <h2 id="create-backup-title">Create a backup now</h2>
      <Checkbox
        label="Include media data"
        checked={includeMedia}
        onChecked={setIncludeMedia}
        hint="Also back up the tables a sync can re-create. Larger; restoring it spares the re-sync."
      />
      <Field label="Note (optional)" value={note} onValue={setNote} maxLength={500} error={noteError} />
      <Field
        label="Passphrase (optional)"
        type="password"
        autocomplete="new-password"
        value={passphrase}
        onValue={setPassphrase}
        hint="Encrypts the backup; at least 8 characters. Without it the backup cannot be restored."
        error={passphraseError}
      />
      <ErrorText message={messageBesides(error, [noteError, passphraseError])} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating backup…' : 'Create backup'}
        </button>
      </div>
    </form>
  );
}
