// First run: the setup code from the server's log proves you own the server; then create the
// first account, or first restore one of the archives found in the backup folder.
import { useState } from 'preact/hooks';
import { BackupList } from '../components/BackupList.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { RestoreDialog } from '../components/RestoreDialog.tsx';
import { RestoreProgressView } from '../components/RestoreProgressView.tsx';
import {
  ConsoleBackupsDocument,
  ConsoleSetupAccountDocument,
  type ConsoleBackupFragment,
  type ConsoleMeQuery,
} from '../generated/graphql.ts';
import { request } from '../lib/request.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';

/** Archives listed for a first-run restore. */
const LISTED = 50;

export function SetupPage({ onSignedIn }: { onSignedIn(me: ConsoleMeQuery['me']): void }) {
  const [code, setCode] = useState('');
  const [checkedCode, setCheckedCode] = useState<string | null>(null);
  const [codeError, setCodeError] = useState<string | null>(null);
  const [backups, setBackups] = useState<ConsoleBackupFragment[]>([]);
  const [restoring, setRestoring] = useState<ConsoleBackupFragment | null>(null);
  const [jobId, setJobId] = useState<string | null>(null);

  const check = async (event: Event) => {
    event.preventDefault();
    setCodeError(null);
    try {
      const { backups: found } = await request(ConsoleBackupsDocument, { first: LISTED, after: null }, { setupCode: code.trim() });
      setBackups(found.edges.map((edge) => edge.node));
      setCheckedCode(code.trim());
    } catch (e) {
      setCodeError((e as Error).message);
    }
  };

  if (!checkedCode) {
    return (
      <div class="narrow">
        <h1 tabIndex={-1}>Set up this server</h1>
        <p>
          While no account exists, the server prints a one-time setup code in its log at start-up and writes it to{' '}
          <code>$DATA_DIR/setup-code</code> (<code>./data/setup-code</code> by default).
        </p>
        <form class="card" onSubmit={(event) => void check(event)}>
          <Field
            label="Setup code"
            autocomplete="off"
            spellcheck={false}
            placeholder="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX"
            required
            value={code}
            onValue={setCode}
            error={codeError}
          />
          <div class="actions">
            <button type="submit" class="primary">
              Continue
            </button>
          </div>
        </form>
        <p>
          Already have an account? <Link href="/login">Sign in</Link>.
        </p>
      </div>
    );
  }

  return (
    <>
      <h1 tabIndex={-1}>Set up this server</h1>
      <div class="two-columns">
        <AccountForm setupCode={checkedCode} onSignedIn={onSignedIn} />
        <section class="card" aria-labelledby="first-restore-title">
          <h2 id="first-restore-title">Or first restore a backup</h2>
          {jobId ? (
            <RestoreProgressView jobId={jobId} setupCode={checkedCode} />
          ) : (
            <>
              <p>
                A new install after the old server was lost: copy its archives into the backup folder, then restore one here. Create your
                account afterwards.
              </p>
              <BackupList backups={backups} manage={false} restore onRestore={setRestoring} />
            </>
          )}
        </section>
      </div>
      {restoring && (
        <RestoreDialog
          backup={restoring}
          setupCode={checkedCode}
          onClose={() => setRestoring(null)}
          onStarted={(id) => {
            setRestoring(null);
            setJobId(id);
          }}
        />
      )}
    </>
  );
}

function AccountForm({ setupCode, onSignedIn }: { setupCode: string; onSignedIn(me: ConsoleMeQuery['me']): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [repeated, setRepeated] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<TypedError | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (password !== repeated) return setError({ type: 'Mismatch', message: 'The two passwords differ.', field: 'repeated' });
    setBusy(true);
    setError(null);
    try {
      const { setupAccount: result } = await request(ConsoleSetupAccountDocument, { input: { username, password, setupCode } });
      if (result.__typename === 'LoginPayload') return onSignedIn({ ...result.account, apiTokenName: null });
      setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    } finally {
      setBusy(false);
    }
  };

  const usernameError = messageFor(error, 'username');
  const passwordError = messageFor(error, 'password');
  const repeatedError = messageFor(error, 'repeated');
  return (
    <form class="card" onSubmit={(event) => void submit(event)} aria-labelledby="first-account-title">
      <h2 id="first-account-title">Create the first account</h2>
      <p class="hint">It is an admin, and signs you in. The setup code is spent.</p>
      <Field label="Username" autocomplete="username" required value={username} onValue={setUsername} error={usernameError} />
      <Field
        label="Password"
        type="password"
        autocomplete="new-password"
        required
        minLength={12}
        value={password}
        onValue={setPassword}
        hint="At least 12 characters."
        error={passwordError}
      />
      <Field
        label="Password again"
        type="password"
        autocomplete="new-password"
        required
        value={repeated}
        onValue={setRepeated}
        error={repeatedError}
      />
      <ErrorText message={messageBesides(error, [usernameError, passwordError, repeatedError])} />
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </div>
    </form>
  );
}
