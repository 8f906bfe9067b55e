import type { AccessGrant } from '@pave/core';

/** Who is acting and on behalf of which request; every domain change takes one, for the audit log. */
export interface RequestContext {
  actor: Actor;
  requestId: string;
}

/** An authenticated caller: a user, acting through one of their tokens. */
export interface Actor {
  userId: string;
  username: string;
  tokenId: string;
  tokenName: string;
  tokenExpiresAt: string | null;
  /** The user's roles, direct and through teams (cached with the token for at most a second). */
  grants: AccessGrant[];
  /** The token's narrower scope, if it has one. */
  tokenScope: AccessGrant | null;
}

/** The current time as an RFC 3339 UTC string, the form the store keeps timestamps in. */
export function now(): string {
  return new Date().toISOString();
}

/**
 * Where a function that records times reads the time: {@link now} unless a caller (a test seeding history,
 * a bench) hands it another clock. It answers RFC 3339 UTC strings, as `now()` does.
 */
export type Clock = () => string;

/**
 * The context of work Pave does on its own (bootstrap, the janitor, a deployment restoring values): audited
 * under `username`, holding no roles (it is never authorised through the API). `username` is one of
 * SYSTEM_ACTORS (from @pave/core, which no user may have) when Pave acts for itself, or the user's own name
 * when it finishes work a user asked for (a login, a queued deployment).
 */
export function systemContext(username: string, requestId: string, userId = ''): RequestContext {
  return {
    actor: {
      userId,
      username,
      tokenId: '',
      tokenName: '',
      tokenExpiresAt: null,
      grants: [],
      tokenScope: null,
    },
    requestId,
  };
}
