// Sign-in: an admin token, checked against the API before it is kept (in session storage, for this tab only).
import { useState } from 'preact/hooks';
import { ApiFailure, signIn, type Session } from '../api';

export function LoginPage({ onSignedIn, notice = null }: { onSignedIn: (session: Session) => void; notice?: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(token.trim()));
    } catch (failure) {
      setError(
        failure instanceof ApiFailure && failure.status === 401
          ? 'That token was refused: it is unknown or revoked.'
          : (failure as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <form onSubmit={submit} aria-describedby="login-help">
        <h1>Sluice console</h1>
        <p id="login-help" class="muted">
          Sign in with an admin token: <code>data/admin.token</code> after <code>npm start</code>, or the token <code>sluice demo</code>{' '}
          printed. It is kept for this browser tab only.
        </p>
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
        />
        {error === null ? null : (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {error !== null || notice === null ? null : (
          <p class="error" role="alert">
            {notice}
          </p>
        )}
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
