// The console: who is signed in, the navigation, and the page the path names.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Link } from './components/Link.tsx';
import { ConsoleLogoutDocument, ConsoleMeDocument, type ConsoleMeQuery } from './generated/graphql.ts';
import { request, onSignedOut } from './lib/request.ts';
import { navigate, usePath } from './lib/router.ts';
import { AccountsPage } from './pages/AccountsPage.tsx';
import { ActivityPage } from './pages/ActivityPage.tsx';
import { BackupsPage } from './pages/BackupsPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { RestorePage } from './pages/RestorePage.tsx';
import { SchedulePage } from './pages/SchedulePage.tsx';
import { SetupPage } from './pages/SetupPage.tsx';

type Me = ConsoleMeQuery['me'];

export function App() {
  const path = usePath();
  /** undefined while the first request is out; null when signed out. */
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  /** Whether someone was signed in: only then does a refusal mean the session ended. */
  const wasSignedIn = useRef(false);
  wasSignedIn.current = Boolean(me);

  useEffect(() => {
    onSignedOut((message) => {
      if (wasSignedIn.current) setNotice(`Signed out: ${message}`);
      setMe(null);
    });
    request(ConsoleMeDocument, {})
      .then(({ me }) => setMe(me))
      .catch(() => setMe(null));
  }, []);
  // A new page: its heading takes the focus, so keyboard and screen reader users start there.
  useEffect(() => document.querySelector<HTMLElement>('main h1')?.focus(), [path, me === null]);

  const signedIn = (account: Me) => {
    setNotice(null);
    setMe(account);
    if (path === '/login' || path === '/setup') navigate('/', { replace: true });
  };
  const signOut = async () => {
    await request(ConsoleLogoutDocument, {}).catch(() => {});
    setMe(null);
    navigate('/login');
  };

  if (me === undefined) return <main class="loading">Loading…</main>;
  if (!me) {
    return <Frame>{path === '/setup' ? <SetupPage onSignedIn={signedIn} /> : <LoginPage notice={notice} onSignedIn={signedIn} />}</Frame>;
  }
  const admin = me.role === 'ADMIN';
  const links: [string, string][] = [
    ['/', 'Backups'],
    ['/schedule', 'Schedule'],
    ['/accounts', 'Accounts'],
    ...(admin ? ([['/activity', 'Activity']] as [string, string][]) : []),
  ];
  return (
    <Frame
      nav={
        <nav aria-label="Console">
          <ul>
            {links.map(([href, label]) => (
              <li key={href}>
                <Link href={href} aria-current={current(path, href) ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
            <li>
              <a href="/graphql">GraphiQL</a>
            </li>
          </ul>
          <span class="who">
            {me.username ?? me.apiTokenName} <span class="badge">{me.role.toLowerCase()}</span>
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </nav>
      }
    >
      {pageFor(path, me)}
    </Frame>
  );
}

function pageFor(path: string, me: Me) {
  const restore = /^\/restores\/([^/]+)$/.exec(path);
  if (restore) return <RestorePage jobId={decodeURIComponent(restore[1]!)} role={me.role} />;
  switch (path) {
    case '/':
    case '/login':
    case '/setup':
      return <BackupsPage role={me.role} />;
    case '/schedule':
      return <SchedulePage role={me.role} />;
    case '/accounts':
      return <AccountsPage me={me} />;
    case '/activity':
      return me.role === 'ADMIN' ? <ActivityPage /> : <NotFound text="The activity log is for admins." />;
    default:
      return <NotFound text={`There is no page at ${path}.`} />;
  }
}

function current(path: string, href: string): boolean {
  return href === '/' ? path === '/' || path.startsWith('/restores/') : path === href;
}

function Frame({ nav, children }: { nav?: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <Link href="/" class="brand">
          Backup &amp; Restore
        </Link>
        {nav}
      </header>
      <main id="main">{children}</main>
    </>
  );
}

function NotFound({ text }: { text: string }) {
  return (
    <>
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        {text} <Link href="/">Back to the backups</Link>.
      </p>
    </>
  );
}
