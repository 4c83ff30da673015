// Your account (its password), and for admins: the accounts and the API tokens scripts use.
import { useEffect, useState } from 'preact/hooks';
import { ConfirmDialog } from '../components/ConfirmDialog.tsx';
import { ErrorText } from '../components/ErrorText.tsx';
import { Field } from '../components/Field.tsx';
import { SelectField } from '../components/SelectField.tsx';
import {
  ConsoleAccessDocument,
  ConsoleChangePasswordDocument,
  ConsoleCreateAccountDocument,
  ConsoleCreateApiTokenDocument,
  ConsoleDeleteAccountDocument,
  ConsoleRevokeApiTokenDocument,
  type ConsoleAccessQuery,
  type ConsoleMeQuery,
  type Role,
} from '../generated/graphql.ts';
import { formatDate } from '../lib/format.ts';
import { request } from '../lib/request.ts';
import { messageBesides, messageFor, thrownError, typedErrorOf, type TypedError } from '../lib/typed-error.ts';

type Removal = { kind: 'account'; id: string; name: string } | { kind: 'token'; id: string; name: string } | null;

export function AccountsPage({ me }: { me: ConsoleMeQuery['me'] }) {
  const admin = me.role === 'ADMIN';
  const [access, setAccess] = useState<ConsoleAccessQuery | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removal, setRemoval] = useState<Removal>(null);
  const load = () =>
    request(ConsoleAccessDocument, {})
      .then(setAccess)
      .catch((e: Error) => setError(e.message));
  useEffect(() => {
    if (admin) void load();
  }, [admin]);

  return (
    <>
      <h1 tabIndex={-1}>Accounts</h1>
      <ChangePasswordForm username={me.username ?? ''} />
      {admin && (
        <>
          <ErrorText message={error} />
          <section aria-labelledby="accounts-title">
            <h2 id="accounts-title">Accounts</h2>
            {access && (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Username</th>
                    <th scope="col">Role</th>
                    <th scope="col">Created</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {access.accounts.map((account) => (
                    <tr key={account.id}>
                      <th scope="row">{account.username}</th>
                      <td>{account.role}</td>
                      <td>{formatDate(account.createdAt)}</td>
                      <td>
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Delete account ${account.username}`}
                          onClick={() => setRemoval({ kind: 'account', id: account.id, name: account.username })}
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <CreateAccountForm onCreated={() => void load()} />
          </section>
          <section aria-labelledby="tokens-title">
            <h2 id="tokens-title">API tokens</h2>
            <p class="hint">
              For scripts: send a token as <code>Authorization: Bearer &lt;token&gt;</code>. Only its hash is kept.
            </p>
            {access && access.apiTokens.length > 0 && (
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Actions</th>
                  </tr>
                </thead>
                <tbody>
                  {access.apiTokens.map((token) => (
                    <tr key={token.id}>
                      <th scope="row">{token.name}</th>
                      <td>{token.role}</td>
                      <td>
                        {formatDate(token.createdAt)} by {token.createdBy}
                      </td>
                      <td>{formatDate(token.lastUsedAt)}</td>
                      <td>
                        <button
                          type="button"
                          class="danger"
                          aria-label={`Revoke token ${token.name}`}
                          onClick={() => setRemoval({ kind: 'token', id: token.id, name: token.name })}
                        >
                          Revoke
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <CreateTokenForm onCreated={() => void load()} />
          </section>
        </>
      )}
      {removal && (
        <ConfirmDialog
          title={removal.kind === 'account' ? `Delete the account ${removal.name}?` : `Revoke the token ${removal.name}?`}
          confirmLabel={removal.kind === 'account' ? 'Delete' : 'Revoke'}
          onClose={() => setRemoval(null)}
          onConfirm={async () => {
            const result =
              removal.kind === 'account'
                ? (await request(ConsoleDeleteAccountDocument, { input: { accountId: removal.id } })).deleteAccount
                : (await request(ConsoleRevokeApiTokenDocument, { input: { apiTokenId: removal.id } })).revokeApiToken;
            if ('message' in result) return result.message;
            void load();
            return null;
          }}
        >
          <p>
            {removal.kind === 'account'
              ? 'Its sessions end at once. The last admin cannot be deleted.'
              : 'Scripts using it are refused from now on, their open websockets too.'}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}

function ChangePasswordForm({ username }: { username: string }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<TypedError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    try {
      const { changePassword: result } = await request(ConsoleChangePasswordDocument, {
        input: { currentPassword: current, newPassword: next },
      });
      if (result.__typename === 'ChangePasswordPayload') {
        setCurrent('');
        setNext('');
        setNotice('Password changed; your other sessions have ended.');
      } else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    }
  };
  const currentError = messageFor(error, 'currentPassword', ['InvalidCredentialsError']);
  const nextError = messageFor(error, 'newPassword');
  return (
    <form class="card narrow-card" onSubmit={(event) => void submit(event)} aria-labelledby="password-title">
      <h2 id="password-title">Your password ({username})</h2>
      <input type="text" autocomplete="username" value={username} hidden readOnly />
      <Field
        label="Current password"
        type="password"
        autocomplete="current-password"
        required
        value={current}
        onValue={setCurrent}
        error={currentError}
      />
      <Field
        label="New password"
        type="password"
        autocomplete="new-password"
        required
        minLength={12}
        value={next}
        onValue={setNext}
        hint="At least 12 characters."
        error={nextError}
      />
      <ErrorText message={messageBesides(error, [currentError, nextError])} />
      <p class="notice" role="status">
        {notice}
      </p>
      <div class="actions">
        <button type="submit">Change password</button>
      </div>
    </form>
  );
}

function CreateAccountForm({ onCreated }: { onCreated(): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [error, setError] = useState<TypedError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const { createAccount: result } = await request(ConsoleCreateAccountDocument, { input: { username, password, role } });
      if (result.__typename === 'AccountPayload') {
        setUsername('');
        setPassword('');
        onCreated();
      } else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    }
  };
  const usernameError = messageFor(error, 'username');
  const passwordError = messageFor(error, 'password');
  return (
    <form class="card inline-form" onSubmit={(event) => void submit(event)} aria-label="Add an account">
      <Field label="Username" autocomplete="off" required value={username} onValue={setUsername} error={usernameError} />
      <Field
        label="Password"
        type="password"
        autocomplete="new-password"
        required
        minLength={12}
        value={password}
        onValue={setPassword}
        error={passwordError}
      />
      <SelectField label="Role" value={role} onValue={(value) => setRole(value as Role)}>
        <option value="VIEWER">Viewer</option>
        <option value="ADMIN">Admin</option>
      </SelectField>
      <div class="actions">
        <button type="submit">Add account</button>
      </div>
      <ErrorText message={messageBesides(error, [usernameError, passwordError])} />
    </form>
  );
}

function CreateTokenForm({ onCreated }: { onCreated(): void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('VIEWER');
  const [token, setToken] = useState<string | null>(null);
  const [error, setError] = useState<TypedError | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setToken(null);
    try {
      const { createApiToken: result } = await request(ConsoleCreateApiTokenDocument, { input: { name, role } });
      if (result.__typename === 'CreateApiTokenPayload') {
        setName('');
        setToken(result.token);
        onCreated();
      } else setError(typedErrorOf(result));
    } catch (e) {
      setError(thrownError(e));
    }
  };
  const nameError = messageFor(error, 'name');
  return (
    <form class="card inline-form" onSubmit={(event) => void submit(event)} aria-label="Create an API token">
      <Field label="Token name" placeholder="nightly offsite copy" required value={name} onValue={setName} error={nameError} />
      <SelectField label="Role" value={role} onValue={(value) => setRole(value as Role)}>
        <option value="VIEWER">Viewer</option>
        <option value="ADMIN">Admin</option>
      </SelectField>
      <div class="actions">
        <button type="submit">Create token</button>
      </div>
      <ErrorText message={messageBesides(error, [nameError])} />
      {token && (
        <div class="alert success" role="status">
          <p>The token, shown this once: keep it like a password.</p>
          <code class="secret">{token}</code>
        </div>
      )}
    </form>
  );
}
