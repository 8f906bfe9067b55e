import { hash, randomBytes, randomUUID } from 'node:crypto';
import {
  AuthenticationError,
  APP_ROLES,
  ENV_TYPE_ROLES,
  InputError,
  NotAllowedError,
  NotFoundError,
  ORG_ROLES,
  TOKEN_PAGE_DEFAULT,
  describeGrant,
  holdsScope,
  parseTokenCursor,
  parseTokenScope,
  scopeWithin,
  tokenCursor,
  TOKEN_SCOPE_FORMAT,
  type AccessGrant,
  type CreateTokenBody,
  type CreatedToken,
  type TokenInfo,
  type TokenPage,
} from '@pave/core';
import type { Executor, Store } from '../store/index.ts';
import type { Insertable, Selectable } from 'kysely';
import type { TokensTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { now, type Actor, type RequestContext } from './context.ts';
import { authorize, decideFor, loadGrants } from './access.ts';

/** Every token starts with this, so secret scanners (and people) can recognise a leaked Pave token. */
export const TOKEN_PREFIX = 'pave_';
// 256 bits in base64url without padding (see generateToken).
const TOKEN_BODY_LENGTH = 43;
const TOKEN_SHAPE = /^pave_[A-Za-z0-9_-]{43}$/;
/** How many characters of a token are kept in clear to recognise it (the prefix plus 4). */
const VISIBLE_CHARS = TOKEN_PREFIX.length + 4;

/** A new random token: `pave_` + 256 bits, base64url. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * The form a token is stored in. Tokens carry 256 random bits, so a fast hash is enough; every authenticated
 * request hashes its token, so the one-shot form (no Hash object per call).
 */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

function toTokenInfo(row: Selectable<TokensTable>, username: string): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    username,
    scope: row.scope ?? null,
    prefix: row.prefix,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** Inserts a token for `userId` inside `tx` and returns it; the plain token exists only in the result. */
export async function insertToken(
  tx: Executor,
  user: { id: string; username: string },
  name: string,
  expiresAt: string | null,
  scope: string | null = null,
): Promise<CreatedToken> {
  const token = generateToken();
  const row: Selectable<TokensTable> & Insertable<TokensTable> = {
    id: `tok_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    user_id: user.id,
    name,
    token_hash: hashToken(token),
    prefix: token.slice(0, VISIBLE_CHARS),
    created_at: now(),
    expires_at: expiresAt,
    revoked_at: null,
    last_used_at: null,
    scope,
  };
  await tx.insertInto('tokens').values(row).execute();
  return { ...toTokenInfo(row, user.username), token };
}

/**
 * Creates a token for the calling user, or (admins) for the user or service account `body.user`. A token can
 * never reach further than the one that creates it: its scope must be one the creator holds and within the
 * creating token's own scope (a scoped token's new token gets that scope when none is asked for), and it
 * expires no later than the creating token (which it inherits when no expiry is asked for). A scope asked for
 * another user's token must be one that user holds too (see refuseScopeOwnerLacks). InputError if `expiresAt`
 * is not in the future, the scope is malformed or beyond the token's user; NotAllowedError for a scope or
 * expiry beyond the creator's.
 */
export async function createToken(
  store: Store,
  context: RequestContext,
  body: CreateTokenBody,
): Promise<CreatedToken> {
  const creator = context.actor;
  let expiresAt: string | null = creator.tokenExpiresAt;
  if (body.expiresAt) {
    const at = new Date(body.expiresAt);
    if (at.getTime() <= Date.now()) {
      throw new InputError('the token would already be expired', [
        { path: '/expiresAt', message: 'must be in the future' },
      ]);
    }
    if (creator.tokenExpiresAt && at.getTime() > Date.parse(creator.tokenExpiresAt)) {
      throw new NotAllowedError('a token cannot outlive the token that creates it', [
        {
          path: '/expiresAt',
          message: `must be no later than ${creator.tokenExpiresAt}, when your token expires; ask for an earlier expiry`,
        },
      ]);
    }
    expiresAt = at.toISOString();
  }
  let scope: string | null = creator.tokenScope ? scopeText(creator.tokenScope) : null;
  if (body.scope !== undefined) {
    const asked = parseTokenScope(body.scope);
    if (!asked) {
      throw new InputError(`"${body.scope}" is not a token scope`, [
        { path: '/scope', message: `write it as ${TOKEN_SCOPE_FORMAT}, with a DNS-label app id` },
      ]);
    }
    // An environment-type role reaches no app by itself (it adds to an app role): such a token could do nothing.
    if (asked.scope.kind === 'env-type') {
      throw new InputError(
        `"${body.scope}" cannot scope a token: ${asked.role} on a type reaches no app alone`,
        [
          {
            path: '/scope',
            message:
              'scope the token to an app, e.g. app:<app>:developer, which carries your deployer roles on ' +
              'environment types; approving takes a token without a scope',
          },
        ],
      );
    }
    // The creating token's scope first: a scoped token is told of its scope, whatever its user holds.
    if (creator.tokenScope && !scopeWithin(asked, creator.tokenScope)) {
      const outer = scopeText(creator.tokenScope);
      throw new NotAllowedError(
        `this token's scope (${outer}) does not include ${body.scope}, so no token it creates can have it`,
        [{ path: '/scope', message: `ask for ${outer} or a narrower scope` }],
      );
    }
    if (!holdsScope(creator.grants, asked)) {
      throw new NotAllowedError(
        `you do not hold ${describeGrant({ ...asked, via: 'user' })}, so no token of yours can`,
        [{ path: '/scope', message: 'ask for a scope within your roles; `pave whoami` lists them' }],
      );
    }
    await refuseMissingScopeTarget(store.db, asked);
    scope = body.scope;
  }
  // Admins create tokens for service accounts (and other users); everyone else only for themselves.
  let owner = { id: context.actor.userId, username: context.actor.username };
  if (body.user && body.user !== context.actor.username) {
    authorize(context.actor, 'user.write');
    const user = await store.db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('username', '=', body.user)
      .executeTakeFirst();
    if (!user) {
      throw new NotFoundError(`user "${body.user}" not found`, [
        { path: '/user', message: '`pave users list` shows the users and service accounts' },
      ]);
    }
    owner = user;
    const asked = body.scope === undefined ? null : parseTokenScope(body.scope);
    if (asked) await refuseScopeOwnerLacks(store.db, owner, asked);
  }
  return store.transaction(async (tx) => {
    const created = await insertToken(tx, owner, body.name, expiresAt, scope);
    await recordAudit(tx, context, {
      action: 'token.create',
      target: `tokens/${created.id}`,
      summary: {
        id: created.id,
        name: created.name,
        user: owner.username,
        expiresAt,
        prefix: created.prefix,
        scope,
      },
    });
    return created;
  });
}

/**
 * NotFoundError when the app or environment type a scope names does not exist (a typo would make a token that
 * can do nothing). Asked only of a creator who holds the scope, so that no one learns which apps exist.
 */
async function refuseMissingScopeTarget(db: Executor, scope: AccessGrant): Promise<void> {
  if (scope.scope.kind !== 'app') return;
  const id = scope.scope.id;
  if (await db.selectFrom('apps').select('id').where('id', '=', id).executeTakeFirst()) return;
  throw new NotFoundError(`app "${id}" not found`, [
    { path: '/scope', message: 'no such app; `pave apps list` shows the apps you can see' },
  ]);
}

/**
 * InputError when a token made for another user (a service account) is scoped to a role that user does not
 * hold, by the rule a creator's scope is held to (holdsScope): a scoped token may do only what both its user
 * and its scope allow, so it could do less than its scope says, often nothing. A wider role passes (owner on
 * an app covers developer there: the scope narrows it). Asked only of admins, who may see every user's roles.
 */
async function refuseScopeOwnerLacks(
  db: Executor,
  owner: { id: string; username: string },
  asked: AccessGrant,
): Promise<void> {
  const grants = await loadGrants(db, owner.id);
  if (holdsScope(grants, asked)) return;
  const { username } = owner;
  const text = scopeText(asked);
  const app = asked.scope.kind === 'app' ? asked.scope.id : null;
  const held = grants
    .filter((grant) =>
      app === null ? grant.scope.kind === 'org' : grant.scope.kind === 'app' && grant.scope.id === app,
    )
    .map((grant) => grant.role);
  // org:admin narrows nothing: such a token does what its user may, and no more.
  const could =
    asked.scope.kind === 'org' && asked.role === 'admin'
      ? `no more than ${username}'s own roles allow`
      : held.length > 0
        ? `no more than ${[...new Set(held)].join(' and ')} may there`
        : 'nothing';
  const grantCommand = `pave roles grant ${asked.role} --user ${username}${app === null ? '' : ` --app ${app}`}`;
  throw new InputError(
    `${username} holds no role on ${app === null ? 'the organisation' : `app ${app}`} that allows ${asked.role}, ` +
      `so a token scoped ${text} could do ${could}`,
    [
      {
        path: '/scope',
        message: `grant it first: \`${grantCommand}\`, or ask for a scope within ${username}'s roles`,
      },
    ],
  );
}

/** A scope as it is written and stored: `app:shop:viewer`, `env-type:production:deployer`, `org:admin`. */
function scopeText(scope: AccessGrant): string {
  return scope.scope.kind === 'org'
    ? `org:${scope.role}`
    : `${scope.scope.kind}:${scope.scope.id}:${scope.role}`;
}

/**
 * Whether the calling token reaches a token of its user: an unscoped token reaches them all, a scoped one
 * only those limited to its scope or a narrower one (so a CI token for one app cannot see or revoke its
 * user's wider tokens).
 */
function reachesToken(actor: Actor, row: Pick<Selectable<TokensTable>, 'scope'>): boolean {
  if (!actor.tokenScope) return true;
  const scope = row.scope ? parseTokenScope(row.scope) : null;
  return scope !== null && scopeWithin(scope, actor.tokenScope);
}

/**
 * The stored scopes of the tokens a calling token reaches (see reachesToken): 'all' for an unscoped token,
 * 'scoped' for one scoped to org:admin (every scoped token), otherwise the scopes, as stored, within its own.
 * Lets a list filter in SQL, so that a page is never cut short after its LIMIT.
 */
function scopesReached(actor: Actor): 'all' | 'scoped' | string[] {
  const outer = actor.tokenScope;
  if (!outer) return 'all';
  if (outer.scope.kind === 'org' && outer.role === 'admin') return 'scoped';
  const roles =
    outer.scope.kind === 'org' ? ORG_ROLES : outer.scope.kind === 'app' ? APP_ROLES : ENV_TYPE_ROLES;
  return roles
    .map((role): AccessGrant => ({ ...outer, role }))
    .filter((inner) => scopeWithin(inner, outer))
    .map(scopeText);
}

/**
 * The user whose tokens a request names with `user` (`GET /tokens?user=`): the caller when it names none or
 * itself; another user only for those who may create tokens for others (user.write, as createToken asks), else
 * NotAllowedError naming it. NotFoundError at `query.user` for a user that does not exist.
 */
export async function tokenOwner(
  db: Executor,
  actor: Actor,
  username: string | undefined,
): Promise<{ id: string; username: string }> {
  if (username === undefined || username === actor.username) {
    return { id: actor.userId, username: actor.username };
  }
  authorize(actor, 'user.write');
  const user = await db
    .selectFrom('users')
    .select(['id', 'username'])
    .where('username', '=', username)
    .executeTakeFirst();
  if (!user) {
    throw new NotFoundError(`user "${username}" not found`, [
      { path: 'query.user', message: 'no such user or service account; `pave users list` shows them' },
    ]);
  }
  return user;
}

/**
 * One page of the calling user's tokens or, with `user`, that user's (see tokenOwner: admins only), revoked
 * ones included, marked, newest first (`limit`, default TOKEN_PAGE_DEFAULT); through a scoped token, only those
 * within its scope. With `cursor` (a previous page's nextCursor: the position of its last token, see
 * tokenCursor), the tokens older than that one; nextCursor is null on the last page. InputError for a cursor
 * tokenCursor did not make. Never a token's secret: Pave keeps only its hash.
 */
export async function listTokens(
  db: Executor,
  actor: Actor,
  page: { user?: string | undefined; limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<TokenPage> {
  const limit = page.limit ?? TOKEN_PAGE_DEFAULT;
  const after = page.cursor === undefined ? undefined : parseTokenCursor(page.cursor);
  if (page.cursor !== undefined && !after) {
    throw new InputError('invalid cursor', [
      { path: 'query.cursor', message: 'must be the nextCursor value of a previous page' },
    ]);
  }
  const owner = await tokenOwner(db, actor, page.user);
  const reached = scopesReached(actor);
  if (Array.isArray(reached) && reached.length === 0) return { items: [], nextCursor: null };
  // Keyset pagination on the index tokens_user_created (user_id, created_at, id): a page walks it backwards
  // from the cursor; tokens of the same instant are ordered by id, as ORDER BY does.
  const rows = await db
    .selectFrom('tokens')
    .selectAll()
    .where('user_id', '=', owner.id)
    .$if(reached === 'scoped', (qb) => qb.where('scope', 'is not', null))
    .$if(Array.isArray(reached), (qb) => qb.where('scope', 'in', reached as string[]))
    .$if(after !== undefined, (qb) =>
      qb.where((eb) =>
        eb.or([
          eb('created_at', '<', after!.createdAt),
          eb.and([eb('created_at', '=', after!.createdAt), eb('id', '<', after!.id)]),
        ]),
      ),
    )
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  // reachesToken also drops a stored scope that does not parse; a page may then be short, never wrong.
  const items = rows
    .slice(0, limit)
    .filter((row) => reachesToken(actor, row))
    .map((row) => toTokenInfo(row, owner.username));
  const last = rows[Math.min(rows.length, limit) - 1];
  return {
    items,
    nextCursor: rows.length > limit && last ? tokenCursor({ createdAt: last.created_at, id: last.id }) : null,
  };
}

/**
 * Revokes a token; it stops working at once. The calling user's own, or (for those who may create tokens for
 * others: user.write) any user's or service account's, such as a leaked CI token; the audit entry names whose
 * it was. NotFoundError if there is no such token, or it is another user's and the caller may not revoke it
 * (so that no one learns another user's token ids); NotAllowedError when the calling token is scoped and the
 * token reaches beyond that scope.
 */
export async function revokeToken(store: Store, context: RequestContext, tokenId: string): Promise<void> {
  const { actor } = context;
  const mayRevokeOthers = decideFor(actor, 'user.write').allowed;
  await store.transaction(async (tx) => {
    const row = await tx
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .selectAll('tokens')
      .select('users.username as username')
      .where('tokens.id', '=', tokenId)
      .$if(!mayRevokeOthers, (qb) => qb.where('tokens.user_id', '=', actor.userId))
      .executeTakeFirst();
    if (!row) {
      throw new NotFoundError(`token "${tokenId}" not found`, [
        {
          path: 'id',
          message: mayRevokeOthers
            ? "no such token; `pave tokens list` shows your tokens' ids, `pave tokens list --user NAME` another user's"
            : 'no such token of yours; `pave tokens list` shows their ids',
        },
      ]);
    }
    const { tokenScope } = actor;
    if (tokenScope && !reachesToken(actor, row)) {
      throw new NotAllowedError(
        `this token is limited to ${scopeText(tokenScope)}; it cannot revoke a token that reaches further`,
        [{ path: 'id', message: 'revoke it with an unscoped token, e.g. after `pave login`' }],
      );
    }
    if (row.revoked_at) return;
    await tx.updateTable('tokens').set({ revoked_at: now() }).where('id', '=', tokenId).execute();
    await recordAudit(tx, context, {
      action: 'token.revoke',
      target: `tokens/${tokenId}`,
      summary: { id: tokenId, name: row.name, user: row.username, prefix: row.prefix },
    });
  });
  // Once committed: a request that read the token before then, and cached it, is forgotten; one still
  // reading it caches nothing (see forgettings).
  forgetToken(tokenId);
}

/**
 * A token's actor is cached for at most this long, so a busy client costs no store query per request. A
 * revocation on this replica drops the entry at once; on other replicas it takes effect within this time.
 */
export const AUTH_CACHE_TTL_MS = 1_000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;
const authCache = new Map<string, { actor: Actor; validUntil: number }>();
/**
 * Counts forgettings: a lookup that began before one caches nothing, since it may have read a token or user
 * that the forgetting's transaction was revoking or deleting.
 */
let forgettings = 0;

/** Forgets cached authentications of one token (after it is revoked). */
function forgetToken(tokenId: string): void {
  forgettings++;
  for (const [hash, entry] of authCache) {
    if (entry.actor.tokenId === tokenId) authCache.delete(hash);
  }
}

/** Forgets cached authentications of a user's tokens but `keep` (after they are revoked together). */
export function forgetUserTokens(userId: string, keep?: string): void {
  forgettings++;
  for (const [hash, entry] of authCache) {
    if (entry.actor.userId === userId && entry.actor.tokenId !== keep) authCache.delete(hash);
  }
}

/** Remembers when each token was last written as used, so a busy token costs one write a minute, not one a request. */
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
const lastUsedWrites = new Map<string, number>();

/**
 * Resolves a bearer token to the acting user. Rejects with AuthenticationError (with how to fix it) when the
 * token is malformed, unknown, revoked or expired.
 */
export async function authenticate(db: Executor, token: string): Promise<Actor> {
  return cachedActor(token) ?? lookUpActor(db, hashToken(token));
}

/**
 * The acting user of `token` when this replica authenticated it within AUTH_CACHE_TTL_MS; undefined when the
 * store must be asked (see {@link authenticate}). Synchronous, so that a busy client's requests are
 * authenticated without waiting for anything. Throws AuthenticationError for a malformed token.
 */
export function cachedActor(token: string): Actor | undefined {
  if (!TOKEN_SHAPE.test(token)) throw malformedToken(token);
  const cached = authCache.get(hashToken(token));
  return cached && cached.validUntil > Date.now() ? cached.actor : undefined;
}

// What is wrong with a token that is not shaped like one: its prefix, its characters or its length. Never the
// token itself, which may be a real one cut short or with something pasted on.
function malformedToken(token: string): AuthenticationError {
  const create = 'create a token with `pave tokens create`';
  if (!token.startsWith(TOKEN_PREFIX)) {
    return new AuthenticationError('the bearer token is not a Pave token', [
      { path: 'Authorization', message: `expected "Bearer pave_…"; ${create}` },
    ]);
  }
  const rest = token.slice(TOKEN_PREFIX.length);
  const message = !/^[A-Za-z0-9_-]*$/.test(rest)
    ? `after "pave_" a token has only letters, digits, "-" and "_", this one has other characters`
    : `after "pave_" a token has ${TOKEN_BODY_LENGTH} characters, this one has ${rest.length}`;
  return new AuthenticationError('the bearer token is not a whole Pave token', [
    {
      path: 'Authorization',
      message: `${message}; copy the whole token as \`pave tokens create\` printed it, or ${create}`,
    },
  ]);
}

async function lookUpActor(db: Executor, hash: string): Promise<Actor> {
  const began = forgettings;
  const row = await db
    .selectFrom('tokens')
    .innerJoin('users', 'users.id', 'tokens.user_id')
    .select([
      'tokens.id as id',
      'tokens.name as name',
      'tokens.expires_at as expires_at',
      'tokens.revoked_at as revoked_at',
      'tokens.scope as scope',
      'users.id as user_id',
      'users.username as username',
    ])
    .where('tokens.token_hash', '=', hash)
    .executeTakeFirst();
  if (!row) {
    throw new AuthenticationError('the bearer token is not valid', [
      { path: 'Authorization', message: 'unknown token; log in again or create a new token' },
    ]);
  }
  if (row.revoked_at) {
    throw new AuthenticationError('the bearer token has been revoked', [
      { path: 'Authorization', message: `revoked at ${row.revoked_at}; use another token` },
    ]);
  }
  if (row.expires_at && Date.parse(row.expires_at) <= Date.now()) {
    throw new AuthenticationError('the bearer token has expired', [
      { path: 'Authorization', message: `expired at ${row.expires_at}; create a new token` },
    ]);
  }
  const lastWrite = lastUsedWrites.get(row.id) ?? 0;
  if (Date.now() - lastWrite > LAST_USED_WRITE_INTERVAL_MS) {
    lastUsedWrites.set(row.id, Date.now());
    await db.updateTable('tokens').set({ last_used_at: now() }).where('id', '=', row.id).execute();
  }
  const actor: Actor = {
    userId: row.user_id,
    username: row.username,
    tokenId: row.id,
    tokenName: row.name,
    tokenExpiresAt: row.expires_at,
    // Grants are cached with the token, so a role change reaches every replica within AUTH_CACHE_TTL_MS.
    grants: await loadGrants(db, row.user_id),
    tokenScope: row.scope ? parseTokenScope(row.scope) : null,
  };
  if (began !== forgettings) return actor;
  if (authCache.size >= AUTH_CACHE_MAX_ENTRIES) authCache.clear();
  const expiry = row.expires_at ? Date.parse(row.expires_at) : Infinity;
  authCache.set(hash, { actor, validUntil: Math.min(Date.now() + AUTH_CACHE_TTL_MS, expiry) });
  return actor;
}
