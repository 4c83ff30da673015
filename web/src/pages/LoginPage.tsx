// Sign in. With no account yet, the server says so and the first-run page takes over.
import { useState } from 'preact/hooks';
import { ErrorText } from '../components/ErrorText.tsx';
import { Field } from '../components/Field.tsx';
import { Link } from '../components/Link.tsx';
import { ConsoleLoginDocument, type ConsoleMeQuery } from '../generated/graphql.ts';
import { request } from '../lib/request.ts';
import { navigate } from '../lib/router.ts';

export function LoginPage({ notice, onSignedIn }: { notice: string | null; onSignedIn(me: ConsoleMeQuery['me']): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { login: result } = await request(ConsoleLoginDocument, { input: { username, password } });
      if (result.__typename === 'LoginPayload') return onSignedIn({ ...result.account, apiTokenName: null });
      if (result.__typename === 'SetupRequiredError') return navigate('/setup');
      setError(result.message);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="narrow">
      <h1 tabIndex={-1}>Sign in</h1>
      {notice && <p class="alert warning">{notice}</p>}
      <form class="card" onSubmit={(event) => void submit(event)}>
        <Field label="Username" autocomplete="username" required value={username} onValue={setUsername} />
        <Field label="Password" type="password" autocomplete="current-password" required value={password} onValue={setPassword} />
        <ErrorText message={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
      <p>
        First run, or a new install after data loss? <Link href="/setup">Set up with the setup code</Link>.
      </p>
    </div>
  );
}
