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
}

/** The current time as an RFC 3339 UTC string, the form the store keeps timestamps in. */
export function now(): string {
  return new Date().toISOString();
}
