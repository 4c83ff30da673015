// Verify: every hash checked, then the rows restored into a scratch database and compared with
// the manifest; the target is not touched. Shows the report.
import { useState } from 'preact/hooks';
import { ConsoleVerifyBackupDocument, type ConsoleBackupFragment, type ConsoleVerifyBackupMutation } from '../generated/graphql.ts';
import { request } from '../lib/request.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';
import { Dialog } from './Dialog.tsx';
import { ErrorText } from './ErrorText.tsx';
import { Field } from './Field.tsx';

type Report = Extract<ConsoleVerifyBackupMutation['verifyBackup'], { __typename: 'VerifyBackupPayload' }>['report'];

export function VerifyDialog({ backup, onClose }: { backup: ConsoleBackupFragment; onClose(): void }) {
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TypedError | null>(null);
  const [report, setReport] = useState<Report | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      const input = { backupId: backup.id, passphrase: backup.encrypted ? passphrase : null };
      const { verifyBackup: result } = await request(ConsoleVerifyBackupDocument, { input });
      if (result.__typename === 'VerifyBackupPayload') setReport(result.report);
      else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    } finally {
      setBusy(false);
    }
  };

  const passphraseError = messageFor(error, 'passphrase', ['WrongPassphraseError']);
  return (
    <Dialog title={`Verify ${backup.fileName}`} onClose={onClose} wide>
      <form onSubmit={(event) => void submit(event)}>
        <p>Checks every hash, then restores the rows into a scratch database and compares each table. Your data is not touched.</p>
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
        <ErrorText message={messageBesides(error, [passphraseError])} />
        <div class="actions">
          <button type="button" onClick={onClose}>
            Close
          </button>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Verifying…' : 'Verify'}
          </button>
        </div>
      </form>
      {report && (
        <section class="report" aria-live="polite">
          <p class={`alert ${report.ok ? 'success' : 'refused'}`}>
            {report.ok ? 'The backup is sound: every table matches its manifest.' : 'The backup has problems:'}
          </p>
          {report.problems.length > 0 && (
            <ul>
              {report.problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          )}
          <table>
            <caption>{report.restored ? 'Tables restored into a scratch database' : 'Tables checked by their hashes'}</caption>
            <thead>
              <tr>
                <th scope="col">Table</th>
                <th scope="col">Rows expected</th>
                <th scope="col">Rows restored</th>
                <th scope="col">Matches</th>
              </tr>
            </thead>
            <tbody>
              {report.tables.map((table) => (
                <tr key={table.name}>
                  <th scope="row">{table.name}</th>
                  <td>{table.expectedRows}</td>
                  <td>{table.restoredRows ?? '—'}</td>
                  <td>{matchLabel(table.valuesMatch ?? table.hashMatches)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {report.notes.map((note) => (
            <p class="hint" key={note}>
              {note}
            </p>
          ))}
        </section>
      )}
    </Dialog>
  );
}

function matchLabel(matches: boolean | null | undefined): string {
  if (matches == null) return '—';
  return matches ? 'yes' : 'NO';
}
