import { useEffect, useState } from 'react';
import type { AuthMethods } from '@pave/core';
import { clientWith, openSession, type Session } from '../session.ts';

/**
 * Reads (once) what an SSO sign-in handed the portal in the URL fragment, `#/sso?token=…` or
 * `#/sso?error=…`, and takes it out of the address bar and the history. Null when there is none.
 */
function takeHandOver(): { token: string | null; error: string | null } | null {
  const match = /^#\/sso\?(.*)$/.exec(window.location.hash);
  if (!match) return null;
  const params = new URLSearchParams(match[1]);
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`);
  return { token: params.get('token'), error: params.get('error') };
}

/**
 * Finishes an SSO sign-in the server handed back: opens the session with its token, or resolves to the
 * reason it was refused. `error` is what to show; null while there is nothing to say.
 */
export function useSsoHandOver(onSignedIn: (s: Session) => void, onSignOut: () => void): { error: unknown } {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const handOver = takeHandOver();
    if (!handOver) return;
    if (handOver.error || !handOver.token) {
      setError(new Error(`SSO sign-in failed: ${handOver.error ?? 'no token was handed back'}`));
      return;
    }
    openSession(handOver.token, onSignOut).then(onSignedIn, setError);
  }, [onSignedIn, onSignOut]);
  return { error };
}

/** "Sign in with SSO", when the server offers single sign-on; nothing otherwise. */
export function SsoSignIn() {
  const [methods, setMethods] = useState<AuthMethods | null>(null);
  useEffect(() => {
    clientWith()
      .authMethods()
      .then(setMethods, () => setMethods(null));
  }, []);
  if (!methods?.sso) return null;
  const start = `${methods.sso.startUrl}?redirect=${encodeURIComponent(`${window.location.origin}/`)}`;
  return (
    <div className="sso">
      <a className="button primary" href={start}>
        Sign in with SSO
      </a>
      {!methods.password && <p className="hint">Password login is disabled on this server.</p>}
    </div>
  );
}
