// The console's shell: sign-in with an admin token, the navigation, and the page the location's hash names.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { forgetToken, signIn, storedToken, type Session } from './api';
import { AuditPage } from './pages/audit';
import { BudgetsPage } from './pages/budgets';
import { InventoryPage } from './pages/inventory';
import { LoginPage } from './pages/login';
import { OverviewPage } from './pages/overview';
import { ReconciliationPage } from './pages/reconciliation';
import { ReportsPage } from './pages/reports';
import { TransactionDetailPage, TransactionsPage } from './pages/transactions';
import { Empty, may, roleLabel, routeParams } from './ui';
import './styles.css';

/** Each page, and the operation its role must be allowed to read it at all (the API's route x role table decides). */
const PAGES = [
  { path: 'overview', title: 'Overview', reads: 'GET /api/usage' },
  { path: 'inventory', title: 'Inventory', reads: 'GET /api/consumers' },
  { path: 'reconciliation', title: 'Reconciliation', reads: 'GET /api/reconciliation/consumers' },
  { path: 'budgets', title: 'Budgets & templates', reads: 'GET /api/budgets' },
  { path: 'transactions', title: 'Transactions', reads: 'GET /api/transactions' },
  { path: 'reports', title: 'Reports', reads: 'GET /api/reports/chargeback' },
  { path: 'audit', title: 'Audit log', reads: 'GET /api/audit' },
] as const;

/** The page and its path segments the location's hash names (`#/transactions/42`); its query is `routeParams`'. */
function currentRoute(): string[] {
  const hash = window.location.hash.replace(/^#\/?/, '').replace(/\?.*$/, '');
  const parts = hash
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  return parts.length === 0 ? ['overview'] : parts;
}

function Page({ route, session }: { route: string[]; session: Session }) {
  // A page the role may not read, reached by its address: said so, and nothing requested that the API would refuse.
  const page = PAGES.find((one) => one.path === route[0]);
  if (page !== undefined && !may(session, page.reads)) {
    const role = roleLabel(session.role).toLowerCase();
    return (
      <>
        <h1>{page.title}</h1>
        <Empty title={`Not available to ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role} token`}>
          Your token's role may not read {page.title}: the navigation lists the pages it may.
        </Empty>
      </>
    );
  }
  switch (route[0]) {
    case 'inventory':
      return <InventoryPage session={session} />;
    case 'reconciliation':
      return <ReconciliationPage session={session} />;
    case 'budgets':
      return <BudgetsPage session={session} />;
    case 'transactions':
      return route[1] === undefined ? (
        <TransactionsPage session={session} params={routeParams()} />
      ) : (
        <TransactionDetailPage id={route[1]} />
      );
    case 'reports':
      return <ReportsPage session={session} />;
    case 'audit':
      return <AuditPage />;
    default:
      return <OverviewPage session={session} />;
  }
}

function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [checking, setChecking] = useState(storedToken() !== null);
  const [route, setRoute] = useState(currentRoute());
  // Why the console went back to sign-in on its own: the token it held was refused (revoked or expired).
  const [signedOutBecause, setSignedOutBecause] = useState<string | null>(null);

  useEffect(() => {
    // A new array each time: a page whose query alone changed (a filter applied) is drawn again.
    const onHash = () => setRoute(currentRoute());
    const onUnauthenticated = () => {
      // A token refused while signing in is the sign-in form's to report; one refused after it was kept, this one's.
      if (storedToken() !== null) setSignedOutBecause('Your admin token was refused (revoked or expired): sign in again.');
      forgetToken();
      setSession(null);
    };
    window.addEventListener('hashchange', onHash);
    window.addEventListener('sluice:unauthenticated', onUnauthenticated);
    const token = storedToken();
    if (token !== null) {
      signIn(token)
        .then(setSession, () => forgetToken())
        .finally(() => setChecking(false));
    }
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener('sluice:unauthenticated', onUnauthenticated);
    };
  }, []);

  useEffect(() => {
    const page = PAGES.find((one) => one.path === route[0]);
    document.title = `${page?.title ?? 'Overview'} · Sluice`;
    document.getElementById('main')?.focus();
  }, [route]);

  if (checking) return <p class="muted center">Signing in…</p>;
  if (session === null)
    return (
      <LoginPage
        notice={signedOutBecause}
        onSignedIn={(signedIn) => {
          setSignedOutBecause(null);
          setSession(signedIn);
        }}
      />
    );
  const active = PAGES.find((one) => one.path === route[0])?.path ?? 'overview';
  // Only the pages the role may read (a team-owner's token reads neither discoveries, nor budgets, nor the audit log).
  const pages = PAGES.filter((page) => may(session, page.reads));
  return (
    <div class="shell">
      <a
        class="skip"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">Sluice</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((page) => (
              <li key={page.path}>
                <a href={`#/${page.path}`} aria-current={active === page.path ? 'page' : undefined}>
                  {page.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span data-testid="role">
            {roleLabel(session.role)}
            {session.team === null ? '' : ` · ${session.team}`}
          </span>
          <button
            type="button"
            class="link"
            onClick={() => {
              forgetToken();
              setSession(null);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} session={session} />
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
