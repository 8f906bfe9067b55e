import {
  PaveClient,
  actsAsOrgAdmin,
  decideForToken,
  type AccessGrant,
  type AccessTarget,
  type Permission,
  type WhoAmI,
} from '@pave/core';

const TOKEN_KEY = 'pave.token';
/** How the kept token was had (a TokenSource), so that a reloaded tab still knows whether to revoke it. */
const SOURCE_KEY = 'pave.token-source';
/** What the sign-in page says after a sign-out that could not revoke the token. */
const SIGNED_OUT_KEY = 'pave.signed-out';
/** How long sign-out waits for the server to revoke the token before signing the tab out anyway. */
const REVOKE_TIMEOUT_MS = 5_000;

/**
 * How a session's token was had: `sign-in`, a token of the portal's own from a password or SSO sign-in,
 * revoked when the user signs out; `pasted`, a token the user brought on the Token tab (the admin token of
 * `admin.token`, a CI token), which other tools go on using, so sign-out only forgets it.
 */
export type TokenSource = 'sign-in' | 'pasted';

/** The signed-in user: a client with their token, and what they may do (the server still decides). */
export interface Session {
  client: PaveClient;
  whoami: WhoAmI;
  /** Whether the user may do `permission` on `target`, by the same rules the server applies. */
  can(permission: Permission, target?: AccessTarget): boolean;
  /** Whether the user acts as an org admin, who alone may override a denying policy (the server decides). */
  isOrgAdmin(): boolean;
  /** Reloads the user's roles (after creating an app, which makes them its owner). */
  refresh(): Promise<void>;
  /**
   * Signs the tab out: forgets the token and, when the portal got it by signing in, revokes it first. A token
   * that cannot be revoked (the server unreachable) still leaves the tab signed out; `signedOutNotice()` then
   * says so.
   */
  signOut(): void;
}

/** A client of the server that served the portal. */
export function clientWith(token?: string): PaveClient {
  return new PaveClient({ server: window.location.origin, token, fetch: window.fetch.bind(window) });
}

/** The token kept for this browser tab, if any. */
export function storedToken(): string | undefined {
  return window.sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Why the last sign-out of this tab could not revoke its token; null when there is nothing to say. */
export function signedOutNotice(): string | null {
  return window.sessionStorage.getItem(SIGNED_OUT_KEY);
}

/**
 * Opens a session with `token` (checks it with /whoami) and keeps the token for this tab. `source` says how
 * the token was had; left out for the token kept for this tab (a reload), it is what was kept with it, and a
 * token of unknown source counts as pasted: it is never revoked.
 */
export async function openSession(
  token: string,
  onSignOut: () => void,
  source?: TokenSource,
): Promise<Session> {
  // Any answer that refuses the token (revoked, expired, its user deleted) ends the session: the tab would
  // otherwise stay "signed in" with every section failing, and go on polling.
  let ended = false;
  const endSession = () => {
    if (ended) return;
    ended = true;
    window.sessionStorage.removeItem(TOKEN_KEY);
    window.sessionStorage.removeItem(SOURCE_KEY);
    window.sessionStorage.setItem(
      SIGNED_OUT_KEY,
      "Signed out: the server no longer accepts this tab's token (revoked, expired, or its user deleted). " +
        'Sign in again.',
    );
    onSignOut();
  };
  let opened = false;
  const client = new PaveClient({
    server: window.location.origin,
    token,
    fetch: async (input, init) => {
      const response = await window.fetch(input, init);
      if (response.status === 401 && opened) endSession();
      return response;
    },
  });
  const whoami = await client.whoami();
  opened = true;
  const kept = source ?? (window.sessionStorage.getItem(SOURCE_KEY) === 'sign-in' ? 'sign-in' : 'pasted');
  window.sessionStorage.setItem(TOKEN_KEY, token);
  window.sessionStorage.setItem(SOURCE_KEY, kept);
  window.sessionStorage.removeItem(SIGNED_OUT_KEY);
  let grants = whoami.grants as AccessGrant[];
  const scope = (whoami.token.scope as AccessGrant | null) ?? null;
  let signingOut = false;
  return {
    client,
    whoami,
    can: (permission, target = {}) => decideForToken(grants, scope, permission, target).allowed,
    isOrgAdmin: () => actsAsOrgAdmin(grants, scope),
    async refresh() {
      grants = (await client.whoami()).grants as AccessGrant[];
    },
    signOut() {
      if (signingOut) return;
      signingOut = true;
      // Its own requests still in flight may now get 401s: they end nothing more.
      ended = true;
      window.sessionStorage.removeItem(TOKEN_KEY);
      window.sessionStorage.removeItem(SOURCE_KEY);
      if (kept !== 'sign-in') {
        onSignOut();
        return;
      }
      void revoke(token, whoami.token.id)
        .catch((error: unknown) => {
          const until = whoami.token.expiresAt
            ? ` until ${new Date(whoami.token.expiresAt).toLocaleString()}`
            : '';
          window.sessionStorage.setItem(
            SIGNED_OUT_KEY,
            `Signed out, but the token could not be revoked (${reasonOf(error)}): it keeps working${until}. ` +
              `Once Pave answers again, revoke it with \`pave tokens revoke ${whoami.token.id}\` ` +
              `(logged in as ${whoami.username}).`,
          );
        })
        .finally(onSignOut);
    },
  };
}

/**
 * Revokes `token`, a token the portal got by signing in, with itself. Resolves once the server revoked it or
 * it works no longer (401); rejects when the server could not be reached or refused, or after 5 seconds.
 */
export async function revokeSignInToken(token: string): Promise<void> {
  const { token: info } = await withTimeout(token).whoami();
  await revoke(token, info.id);
}

async function revoke(token: string, id: string): Promise<void> {
  try {
    await withTimeout(token).revokeToken(id);
  } catch (error) {
    // A token the server refuses is of no use to anyone any more: nothing is left to revoke.
    const { name, status } = (error ?? {}) as { name?: unknown; status?: unknown };
    if (name !== 'ApiError' || status !== 401) throw error;
  }
}

/** A client with `token` whose requests give up after REVOKE_TIMEOUT_MS. */
function withTimeout(token: string): PaveClient {
  return new PaveClient({
    server: window.location.origin,
    token,
    fetch: (input, init) => window.fetch(input, { ...init, signal: AbortSignal.timeout(REVOKE_TIMEOUT_MS) }),
  });
}

function reasonOf(error: unknown): string {
  const { name, status, message } = (error ?? {}) as { name?: unknown; status?: unknown; message?: unknown };
  if (name === 'ApiError') return `the server answered ${String(status)}: ${String(message)}`;
  return 'the server did not answer';
}
