import {
  PaveClient,
  decideForToken,
  type AccessGrant,
  type AccessTarget,
  type Permission,
  type WhoAmI,
} from '@pave/core';

const TOKEN_KEY = 'pave.token';

/** The signed-in user: a client with their token, and what they may do (the server still decides). */
export interface Session {
  client: PaveClient;
  whoami: WhoAmI;
  /** Whether the user may do `permission` on `target`, by the same rules the server applies. */
  can(permission: Permission, target?: AccessTarget): boolean;
  /** Reloads the user's roles (after creating an app, which makes them its owner). */
  refresh(): Promise<void>;
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

/** Opens a session with `token` (checks it with /whoami) and keeps the token for this tab. */
export async function openSession(token: string, onSignOut: () => void): Promise<Session> {
  const client = clientWith(token);
  const whoami = await client.whoami();
  window.sessionStorage.setItem(TOKEN_KEY, token);
  let grants = whoami.grants as AccessGrant[];
  const scope = (whoami.token.scope as AccessGrant | null) ?? null;
  return {
    client,
    whoami,
    can: (permission, target = {}) => decideForToken(grants, scope, permission, target).allowed,
    async refresh() {
      grants = (await client.whoami()).grants as AccessGrant[];
    },
    signOut() {
      window.sessionStorage.removeItem(TOKEN_KEY);
      onSignOut();
    },
  };
}
