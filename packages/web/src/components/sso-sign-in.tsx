import { useEffect, useState, type MouseEvent } from 'react';
import type { AuthMethods } from '@pave/core';
import { clientWith, openSession, revokeSignInToken, type Session } from '../session.ts';

/** The random value of the SSO sign-in this tab started, kept until the sign-in comes back. */
const STARTED_KEY = 'pave.sso-started';

/**
 * Reads (once) what an SSO sign-in handed the portal in the URL fragment, `#/sso?token=…&tab=…` or
 * `#/sso?error=…`, and takes it out of the address bar and the history. Null when there is none.
 */
function takeHandOver(): { token: string | null; tab: string | null; error: string | null } | null {
  const match = /^#\/sso\?(.*)$/.exec(window.location.hash);
  if (!match) return null;
  const params = new URLSearchParams(match[1]);
  window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}#/`);
  return { token: params.get('token'), tab: params.get('tab'), error: params.get('error') };
}

/**
 * Starts an SSO sign-in in this tab: a new random value, kept in this tab's session storage, which the
 * server hands back with the token. Returns the value.
 */
function startSignIn(): string {
  const bytes = window.crypto.getRandomValues(new Uint8Array(32));
  const value = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  window.sessionStorage.setItem(STARTED_KEY, value);
  return value;
}

/** The value of the sign-in this tab started, forgotten as it is read (a sign-in comes back once). */
function takeStartedSignIn(): string | null {
  const value = window.sessionStorage.getItem(STARTED_KEY);
  window.sessionStorage.removeItem(STARTED_KEY);
  return value;
}

/**
 * Finishes an SSO sign-in the server handed back: opens the session with its token, or resolves to the
 * reason it was refused. A token from a sign-in this tab did not start (someone else's callback URL, opened
 * to sign this browser in as them) is not taken but revoked. `error` is what to show; null while there is
 * nothing to say.
 */
export function useSsoHandOver(onSignedIn: (s: Session) => void, onSignOut: () => void): { error: unknown } {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const handOver = takeHandOver();
    if (!handOver) return;
    const started = takeStartedSignIn();
    if (handOver.error || !handOver.token) {
      setError(new Error(`SSO sign-in failed: ${handOver.error ?? 'no token was handed back'}`));
      return;
    }
    if (!started || handOver.tab !== started) {
      // The token then works for no one. Said once the revocation has been answered, so that a tab closed
      // on reading it does not cut the revocation short (best effort still: a failure is not shown).
      void revokeSignInToken(handOver.token)
        .catch(() => undefined)
        .then(() =>
          setError(
            new Error('This SSO sign-in was not started in this tab, so it was not used: start it again.'),
          ),
        );
      return;
    }
    openSession(handOver.token, onSignOut, 'sign-in').then(onSignedIn, setError);
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
  // The value is made at the click, so that each sign-in has its own.
  const signIn = (event: MouseEvent<HTMLAnchorElement>) => {
    event.preventDefault();
    window.location.assign(`${start}&tab=${startSignIn()}`);
  };
  return (
    <div className="sso">
      <a className="button primary" href={start} onClick={signIn}>
        Sign in with SSO
      </a>
      {!methods.password && <p className="hint">Password login is disabled on this server.</p>}
    </div>
  );
}
