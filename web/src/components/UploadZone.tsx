// Upload an archive (a backup from another machine, or this one's before it was lost): drop it
// on the zone or choose it; the bar shows the bytes sent, then the server checks it.
import { useState } from 'preact/hooks';
import type { ConsoleBackupFragment } from '../generated/graphql.ts';
import { formatBytes } from '../lib/format.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';
import { uploadBackup } from '../lib/upload-backup.ts';
import { ErrorText } from './ErrorText.tsx';
import { Field } from './Field.tsx';

export function UploadZone({ onUploaded }: { onUploaded(backup: ConsoleBackupFragment, message: string): void }) {
  const [passphrase, setPassphrase] = useState('');
  const [dragging, setDragging] = useState(false);
  const [progress, setProgress] = useState<{ name: string; sent: number; total: number } | null>(null);
  const [error, setError] = useState<TypedError | null>(null);

  const send = async (file: File | undefined) => {
    if (!file || progress) return;
    setError(null);
    setProgress({ name: file.name, sent: 0, total: file.size });
    try {
      const result = await uploadBackup(file, passphrase || null, (sent, total) => setProgress({ name: file.name, sent, total }));
      if (result.__typename === 'UploadBackupPayload') {
        setPassphrase('');
        onUploaded(result.backup, `Uploaded ${file.name} as ${result.backup.fileName}.`);
      } else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    } finally {
      setProgress(null);
    }
  };

  const passphraseError = messageFor(error, 'passphrase', ['WrongPassphraseError']);
  const checking = progress !== null && progress.sent >= progress.total;
  return (
    <form class="card" aria-labelledby="upload-title" onSubmit={(event) => event.preventDefault()}>
      <h2 id="upload-title">Upload a backup</h2>
      <label
        class={`dropzone${dragging ? ' dragging' : ''}${progress ? ' busy' : ''}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          void send(event.dataTransfer?.files[0]);
        }}
      >
        <input
          type="file"
          class="visually-hidden"
          accept=".gz,.enc,application/gzip,application/octet-stream"
          disabled={progress !== null}
          onChange={(event) => {
            const input = event.currentTarget;
            void send(input.files?.[0]).finally(() => (input.value = ''));
          }}
        />
        <strong>Drop a backup file here</strong> or <span class="linkish">choose a file</span>
        <span class="hint">A .tar.gz or .tar.gz.enc archive written by this control plane.</span>
      </label>
      {progress && (
        <div class="progress-line" role="status">
          <progress value={progress.sent} max={progress.total || 1} aria-label={`Uploading ${progress.name}`} />
          <span>
            {checking
              ? `Checking ${progress.name}…`
              : `Uploading ${progress.name}: ${formatBytes(progress.sent)} of ${formatBytes(progress.total)}`}
          </span>
        </div>
      )}
      <Field
        label="Passphrase of an encrypted archive (optional)"
        type="password"
        autocomplete="off"
        value={passphrase}
        onValue={setPassphrase}
        hint="With it, everything inside is checked before the archive is stored."
        error={passphraseError}
      />
      <ErrorText message={messageBesides(error, [passphraseError])} />
    </form>
  );
}
