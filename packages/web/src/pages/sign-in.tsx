import { useState, type FormEvent } from 'react';
import { clientWith, openSession, signedOutNotice, type Session } from '../session.ts';
import { Command, ErrorMessage } from '../components/common.tsx';
import { SsoSignIn, useSsoHandOver } from '../components/sso-sign-in.tsx';

/** Sign in with SSO (when the server offers it), a username and password, or a token. */
export function SignIn({
  onSignedIn,
  onSignOut,
}: {
  onSignedIn: (s: Session) => void;
  onSignOut: () => void;
}) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const sso = useSsoHandOver(onSignedIn, onSignOut);
  const notice = signedOutNotice();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // A token the portal got by signing in is its own, revoked at sign-out; a pasted one is only forgotten.
      const opened =
        mode === 'password'
          ? openSession((await clientWith().login({ username, password })).token, onSignOut, 'sign-in')
          : openSession(token.trim(), onSignOut, 'pasted');
      onSignedIn(await opened);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>Sign in to Pave</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <SsoSignIn />
      <ErrorMessage error={sso.error} />
      <div
        role="tablist"
        aria-label="Sign-in method"
        className="tabs"
        onKeyDown={(event) => {
          // As a tab list does: the arrow keys move between the tabs (one tab stop for the list).
          if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
          event.preventDefault();
          const next = mode === 'password' ? 'token' : 'password';
          setMode(next);
          event.currentTarget.querySelector<HTMLButtonElement>(`[data-mode="${next}"]`)?.focus();
        }}
      >
        <button
          role="tab"
          type="button"
          data-mode="password"
          aria-selected={mode === 'password'}
          tabIndex={mode === 'password' ? 0 : -1}
          onClick={() => setMode('password')}
        >
          Username and password
        </button>
        <button
          role="tab"
          type="button"
          data-mode="token"
          aria-selected={mode === 'token'}
          tabIndex={mode === 'token' ? 0 : -1}
          onClick={() => setMode('token')}
        >
          Token
        </button>
      </div>
      <form onSubmit={submit}>
        {mode === 'password' ? (
          <>
            <label>
              Username
              <input
                name="username"
                autoComplete="username"
                value={username}
                onChange={(e) => setUsername(e.target.value)}
                required
              />
            </label>
            <label>
              Password
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
              />
            </label>
          </>
        ) : (
          <label>
            Token
            <input
              name="token"
              type="password"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              required
            />
          </label>
        )}
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <ErrorMessage error={error} />
      <p className="hint" data-testid="sign-in-hint">
        First time here? <code>pave up</code> wrote an admin token to{' '}
        <code>&lt;data dir&gt;/admin.token</code> on the machine running it (<code>~/.pave/admin.token</code>{' '}
        unless started with <code>--data-dir</code>
        ): paste it on the Token tab. To sign in with a password, make a user with{' '}
        <code>pave users create NAME</code>.
      </p>
      <Command>
        {mode === 'password' ? `pave login --username ${username || 'NAME'}` : 'pave login --token-stdin'}
      </Command>
    </main>
  );
}
