import { randomBytes, randomUUID, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import {
  AuthenticationError,
  ConflictError,
  DNS_LABEL_RULE,
  InputError,
  NotAllowedError,
  NotFoundError,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  PASSWORD_RULE,
  SYSTEM_ACTORS,
  RESERVED_USERNAME_RULE,
  TEAM_PAGE_DEFAULT,
  TooManyRequestsError,
  USER_PAGE_DEFAULT,
  isDnsLabel,
  isReservedUsername,
  type CreateTeamBody,
  type CreateUserBody,
  type LoginFailuresCleared,
  type LoginResult,
  type PasswordChanged,
  type SetPasswordBody,
  type Team,
  type TeamPage,
  type UpdateTeamBody,
  type User,
  type UserKind,
  type UserPage,
  type WhoAmI,
} from '@pave/core';
import { sql, type Selectable } from 'kysely';
import { isUniqueViolation, lockRow, type Executor, type Store } from '../store/index.ts';
import type { UsersTable } from '../store/schema.ts';
import { authorize } from './access.ts';
import { recordAudit } from './audit.ts';
import { refusalsFor } from './audit-refusals.ts';
import { now, systemContext, type RequestContext } from './context.ts';
import { forgetUserTokens, insertToken } from './tokens.ts';

// Passwords

/** scrypt cost parameters for new hashes: N = 2^15, r = 8, p = 1 (32 MiB and tens of ms per hash). */
const SCRYPT = { N: 32_768, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
// scrypt needs 128·N·r bytes, exactly Node's default limit for these parameters; leave room.
const SCRYPT_MAX_MEMORY = 64 * 1024 * 1024;

function scryptAsync(
  password: string,
  salt: Buffer,
  length: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** Hashes a password for storage: `scrypt$32768$8$1$<salt, base64>$<hash, base64>` with a random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, KEY_BYTES, { ...SCRYPT, maxmem: SCRYPT_MAX_MEMORY });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

const HASH_SHAPE = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/;

/**
 * Whether `password` matches a hash made by {@link hashPassword}, compared in constant time. A hash that is
 * not in that form matches nothing.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const match = HASH_SHAPE.exec(hash);
  if (!match) return false;
  const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const salt = Buffer.from(match[4]!, 'base64');
  const expected = Buffer.from(match[5]!, 'base64');
  if (expected.length === 0) return false;
  const actual = await scryptAsync(password, salt, expected.length, {
    N,
    r,
    p,
    maxmem: Math.max(SCRYPT_MAX_MEMORY, 256 * N * r),
  });
  return timingSafeEqual(actual, expected);
}

/**
 * Verified instead when the user does not exist or has no password, so that answering takes as long as for
 * a real user and the time does not tell which usernames exist. No password hashes to it.
 */
const DUMMY_HASH = `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$cGF2ZS1kdW1teS1zYWx0IQ==$${Buffer.alloc(KEY_BYTES, 0x5a).toString('base64')}`;

function checkPassword(password: string, path: string): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new InputError(`the password is too ${password.length < PASSWORD_MIN_LENGTH ? 'short' : 'long'}`, [
      { path, message: `${PASSWORD_RULE}; a passphrase of several words is easy to type and hard to guess` },
    ]);
  }
}

// Users

function toUser(row: Selectable<UsersTable>, teams: string[]): User {
  return {
    id: row.id,
    username: row.username,
    kind: row.kind === 'service' ? 'service' : 'user',
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
    teams,
  };
}

/** The error for a user that does not exist. */
function userNotFound(username: string, path = 'username'): NotFoundError {
  return new NotFoundError(`user "${username}" not found`, [
    { path, message: 'no such user or service account; `pave users list` shows them' },
  ]);
}

/**
 * Creates a user (kind `user`, with a password when one is given) or a service account (kind `service`: it
 * has tokens only, never a password). InputError for a username that is not a DNS label or is one Pave records
 * its own actions under (SYSTEM_ACTORS), a password shorter than 12 characters, or a password for a service
 * account; ConflictError if the username is taken.
 */
export async function createUser(store: Store, context: RequestContext, body: CreateUserBody): Promise<User> {
  const kind: UserKind = body.kind ?? 'user';
  if (!isDnsLabel(body.username)) {
    throw new InputError(`"${body.username}" is not a valid username`, [
      { path: '/username', message: DNS_LABEL_RULE },
    ]);
  }
  if (isReservedUsername(body.username)) {
    throw new InputError(`"${body.username}" is a reserved username`, [
      { path: '/username', message: RESERVED_USERNAME_RULE },
    ]);
  }
  if (body.password !== undefined) {
    if (kind === 'service') {
      throw new InputError('a service account has no password', [
        {
          path: '/password',
          message: 'leave it out: service accounts authenticate with tokens only; or create kind user',
        },
      ]);
    }
    checkPassword(body.password, '/password');
  }
  const row: Selectable<UsersTable> = {
    id: `usr_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
    username: body.username,
    created_at: now(),
    kind,
    password_hash: body.password === undefined ? null : await hashPassword(body.password),
  };
  try {
    await store.transaction(async (tx) => {
      await tx.insertInto('users').values(row).execute();
      await recordAudit(tx, context, {
        action: 'user.create',
        target: `users/${row.username}`,
        summary: { username: row.username, kind, hasPassword: row.password_hash !== null },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`user "${body.username}" already exists`, [
        { path: '/username', message: 'is taken by a user or service account; choose another' },
      ]);
    }
    throw error;
  }
  return toUser(row, []);
}

/**
 * The users and service accounts, by username, that have a name Pave records its own actions under
 * (SYSTEM_ACTORS): made before such names were refused. Their actions cannot be told from Pave's own in the
 * audit log, so the server warns about them at start; they keep working, since refusing their login could lock
 * an organisation out of its only admin.
 */
export async function usersWithReservedNames(db: Executor): Promise<string[]> {
  const reserved = Object.values(SYSTEM_ACTORS);
  const rows = await db
    .selectFrom('users')
    .select('username')
    .where('username', 'in', reserved)
    .orderBy('username')
    .execute();
  return rows.map((row) => row.username);
}

/**
 * One page of the users and service accounts (`limit`, default USER_PAGE_DEFAULT), ordered by username, each
 * with the ids of its teams (sorted). With `cursor` (a previous page's nextCursor: its last username), the
 * users after that one; nextCursor is null on the last page.
 */
export async function listUsers(
  db: Executor,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<UserPage> {
  const limit = page.limit ?? USER_PAGE_DEFAULT;
  // Keyset pagination on the unique index of username: a deep page costs what the first does.
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .$if(page.cursor !== undefined, (qb) => qb.where('username', '>', page.cursor!))
    .orderBy('username')
    .limit(limit + 1)
    .execute();
  const users = rows.slice(0, limit);
  // The memberships of this page's users only (index team_members_user).
  const userIds = users.map((user) => user.id);
  const memberships =
    userIds.length === 0
      ? []
      : await db
          .selectFrom('team_members')
          .select(['user_id', 'team_id'])
          .where('user_id', 'in', userIds)
          .orderBy('team_id')
          .execute();
  const teams = new Map<string, string[]>();
  for (const { user_id, team_id } of memberships) {
    teams.set(user_id, [...(teams.get(user_id) ?? []), team_id]);
  }
  const items = users.map((row) => toUser(row, teams.get(row.id) ?? []));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.username ?? null) : null };
}

/**
 * How many users are org admins, directly or through a team. Used to refuse changes that would leave the
 * organisation without one (nobody could grant roles any more).
 */
export async function countOrgAdmins(tx: Executor): Promise<number> {
  const direct = tx
    .selectFrom('role_grants')
    .select('subject_id')
    .where('subject_kind', '=', 'user')
    .where('role', '=', 'admin')
    .where('scope_kind', '=', 'org');
  const viaTeams = tx
    .selectFrom('team_members')
    .innerJoin('role_grants', (join) =>
      join
        .onRef('role_grants.subject_id', '=', 'team_members.team_id')
        .on('role_grants.subject_kind', '=', 'team')
        .on('role_grants.role', '=', 'admin')
        .on('role_grants.scope_kind', '=', 'org'),
    )
    .select('team_members.user_id');
  const row = await tx
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string | number>().as('count'))
    .where((eb) => eb.or([eb('id', 'in', direct), eb('id', 'in', viaTeams)]))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Makes the org-admin count and the change after it one step among concurrent transactions, so that of two
 * admins removing each other at the same moment the second counts after the first has committed. On
 * PostgreSQL (read committed, several replicas) that is a transaction-scoped advisory lock, held until commit
 * or rollback. SQLite needs none: Pave's one connection to it runs one transaction at a time.
 */
export async function lockOrgAdmins(store: Store, tx: Executor): Promise<void> {
  if (store.engine === 'postgres') {
    await sql`select pg_advisory_xact_lock(hashtext('pave.org-admins'))`.execute(tx);
  }
}

/**
 * Runs `change` (inside `tx`, a transaction of `store`) and throws `refusal()` if it left the organisation
 * without an org admin when it had one before; the caller's transaction then rolls the change back.
 * Concurrent callers take turns (see {@link lockOrgAdmins}), so two changes can never both pass the check.
 */
export async function keepingAnOrgAdmin<T>(
  store: Store,
  tx: Executor,
  change: () => Promise<T>,
  refusal: () => ConflictError,
): Promise<T> {
  await lockOrgAdmins(store, tx);
  const before = await countOrgAdmins(tx);
  const result = await change();
  if (before > 0 && (await countOrgAdmins(tx)) === 0) throw refusal();
  return result;
}

/**
 * Deletes a user or service account with its tokens, team memberships and role grants. NotFoundError if there
 * is none; ConflictError when it is the caller (log in as another admin to do it) or the last org admin.
 */
export async function deleteUser(store: Store, context: RequestContext, username: string): Promise<void> {
  const userId = await store.transaction(async (tx) => {
    // Locked first: a concurrent deletion waits and then finds none; a grant or membership adding to it is
    // either deleted with it or refused (see lockRow).
    if (!(await lockRow(store.engine, tx, 'users', { username }, 'update'))) throw userNotFound(username);
    const user = await tx.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    if (!user) throw userNotFound(username);
    if (user.id === context.actor.userId) {
      throw new ConflictError(`you cannot delete yourself ("${username}")`, [
        { path: 'username', message: 'is the user you are logged in as; another admin can delete it' },
      ]);
    }
    const teams = await tx
      .selectFrom('team_members')
      .select('team_id')
      .where('user_id', '=', user.id)
      .orderBy('team_id')
      .execute();
    const tokens = await tx
      .selectFrom('tokens')
      .select((eb) => eb.fn.countAll<string | number>().as('count'))
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    await keepingAnOrgAdmin(
      store,
      tx,
      async () => {
        await tx
          .deleteFrom('role_grants')
          .where('subject_kind', '=', 'user')
          .where('subject_id', '=', user.id)
          .execute();
        await tx.deleteFrom('team_members').where('user_id', '=', user.id).execute();
        // Tokens go with the user (foreign key, on delete cascade).
        await tx.deleteFrom('users').where('id', '=', user.id).execute();
      },
      () =>
        new ConflictError(`"${username}" is the last org admin`, [
          {
            path: 'username',
            message: 'make another user an org admin first, so that someone can still manage Pave',
          },
        ]),
    );
    await recordAudit(tx, context, {
      action: 'user.delete',
      target: `users/${username}`,
      summary: {
        username,
        kind: user.kind,
        teams: teams.map((team) => team.team_id),
        tokensDeleted: Number(tokens.count),
      },
    });
    return user.id;
  });
  // Their tokens went with them: on this replica they stop at once, elsewhere within AUTH_CACHE_TTL_MS.
  forgetUserTokens(userId);
}

// Login

/** How long a token from a password login works. */
export const LOGIN_TOKEN_TTL_MS = 12 * 60 * 60 * 1000;
/** Failed logins are counted over this window… */
export const LOGIN_FAILURE_WINDOW_MS = 5 * 60 * 1000;
/**
 * …and this many for one username from one client address make further attempts for that username from that
 * address wait (429). Counting per username alone would let anyone lock any user out, admins included.
 */
export const LOGIN_FAILURE_LIMIT = 5;
/** This many from one client address, whatever the usernames, make every login from it wait. */
export const LOGIN_FAILURES_PER_ADDRESS = 20;

/** The failure counters a login attempt is checked against and adds to, each with its limit. */
function failureCounters(username: string, clientAddress: string): FailureCounter[] {
  return [
    // Usernames are DNS labels: no "@", and nothing LIKE would take for a wildcard (see unlockUser).
    { key: `user:${username}@${clientAddress}`, limit: LOGIN_FAILURE_LIMIT },
    { key: `client:${clientAddress}`, limit: LOGIN_FAILURES_PER_ADDRESS },
  ];
}

interface FailureCounter {
  key: string;
  limit: number;
}

/** What a login attempt presents, and where it comes from. */
export interface LoginAttempt {
  username: string;
  password: string;
  /** The client's address, for rate limiting. */
  clientAddress: string;
  requestId: string;
}

/**
 * Logs a user in with their password and returns a new token, valid for 12 hours. Rejects with
 * AuthenticationError ("username or password is wrong") for a wrong password, an unknown user, a service
 * account or a user without a password, alike and after the same work, so neither the answer nor its timing
 * tells whether a user exists. Each failure is counted for the username from the client address, and for the
 * address: with 5 failures for that username from that address, or 20 from that address, within 5 minutes,
 * attempts from there are refused with TooManyRequestsError (429, Retry-After) without checking the password,
 * until enough of them are 5 minutes old; of concurrent attempts, no more than the limits allow are checked.
 * Failures elsewhere never block a user: nobody can lock anyone out.
 */
export async function login(store: Store, attempt: LoginAttempt): Promise<LoginResult> {
  const keys = failureCounters(attempt.username, attempt.clientAddress);
  const counted = await countAttempt(store.db, keys);
  const user = await store.db
    .selectFrom('users')
    .select(['id', 'username', 'kind', 'password_hash'])
    .where('username', '=', attempt.username)
    .executeTakeFirst();
  const hash = user?.kind === 'user' && user.password_hash ? user.password_hash : null;
  // Always hash, even for no user, so timing does not reveal which usernames exist.
  const matches = await verifyPassword(attempt.password, hash ?? DUMMY_HASH);
  if (!user || !hash || !matches) {
    await forgetStaleFailures(store.db);
    refusalsFor(store).loginFailed(attempt);
    throw new AuthenticationError('username or password is wrong', [
      {
        path: '/',
        message: `check both; after ${LOGIN_FAILURE_LIMIT} failures within ${LOGIN_FAILURE_WINDOW_MS / 60_000} minutes logins from here wait`,
      },
    ]);
  }
  const loggedInAt = new Date();
  const expiresAt = new Date(loggedInAt.getTime() + LOGIN_TOKEN_TTL_MS).toISOString();
  return store.transaction(async (tx) => {
    await uncount(tx, counted);
    const created = await insertToken(
      tx,
      { id: user.id, username: user.username },
      `login ${loggedInAt.toISOString()}`,
      expiresAt,
    );
    // Audited as the user who logged in.
    await recordAudit(tx, systemContext(user.username, attempt.requestId, user.id), {
      action: 'user.login',
      target: `users/${user.username}`,
      summary: {
        tokenId: created.id,
        prefix: created.prefix,
        expiresAt,
        clientAddress: attempt.clientAddress,
      },
    });
    return { token: created.token, expiresAt, username: user.username };
  });
}

/**
 * Counts an attempt as failed before its password is checked, and returns the ids of the rows that count it
 * (for {@link uncount} when the password is right), so that a burst of concurrent attempts cannot all find
 * room before any of them is counted. Each row is committed before the rows are counted again, so of
 * attempts made at once no more than a limit find room; the others are uncounted and refused with
 * TooManyRequestsError (429, Retry-After), like every attempt while a limit is reached (those write nothing).
 */
async function countAttempt(db: Executor, keys: FailureCounter[]): Promise<number[]> {
  const blockedFor = await loginBlockedFor(db, keys);
  if (blockedFor > 0) throw tooManyFailures(blockedFor);
  const at = now();
  const rows = await db
    .insertInto('login_failures')
    .values(keys.map(({ key }) => ({ key, at })))
    .returning('id')
    .execute();
  const counted = rows.map((row) => Number(row.id));
  // This attempt's own rows are among those counted now: one more than each limit allows.
  const retryAfterMs = await loginBlockedFor(
    db,
    keys.map(({ key, limit }) => ({ key, limit: limit + 1 })),
  );
  if (retryAfterMs > 0) {
    await uncount(db, counted);
    throw tooManyFailures(retryAfterMs);
  }
  return counted;
}

/** Takes back the failures {@link countAttempt} counted for an attempt that succeeded (or was refused). */
async function uncount(db: Executor, counted: number[]): Promise<void> {
  await db.deleteFrom('login_failures').where('id', 'in', counted).execute();
}

/** The refusal while failed logins block: TooManyRequestsError (429) with Retry-After. */
function tooManyFailures(retryAfterMs: number): TooManyRequestsError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  const minutes = LOGIN_FAILURE_WINDOW_MS / 60_000;
  return new TooManyRequestsError(`too many failed logins; try again in ${seconds} s`, seconds, [
    {
      path: '/',
      message:
        `after ${LOGIN_FAILURE_LIMIT} failed logins for one user from one address, or ${LOGIN_FAILURES_PER_ADDRESS} ` +
        `from one address, within ${minutes} minutes, logins from there wait; an admin can lift the wait for ` +
        'a user with `pave users unlock USERNAME`',
    },
  ]);
}

/** Milliseconds until a login for all of `keys` may be tried again; 0 when it may be tried now. */
async function loginBlockedFor(db: Executor, keys: FailureCounter[]): Promise<number> {
  const cutoff = new Date(Date.now() - LOGIN_FAILURE_WINDOW_MS).toISOString();
  const rows = await db
    .selectFrom('login_failures')
    .select(['key', 'at'])
    .where(
      'key',
      'in',
      keys.map(({ key }) => key),
    )
    .where('at', '>', cutoff)
    .orderBy('at')
    .execute();
  let wait = 0;
  for (const { key, limit } of keys) {
    const times = rows.filter((row) => row.key === key).map((row) => Date.parse(row.at));
    // Attempts resume when all but limit - 1 of the failures have left the window.
    const freeing = times[times.length - limit];
    if (freeing !== undefined) wait = Math.max(wait, freeing + LOGIN_FAILURE_WINDOW_MS - Date.now());
  }
  return wait;
}

/** Forgets failed logins that no longer count. */
async function forgetStaleFailures(db: Executor): Promise<void> {
  await db
    .deleteFrom('login_failures')
    .where('at', '<', new Date(Date.now() - LOGIN_FAILURE_WINDOW_MS).toISOString())
    .execute();
}

/**
 * Clears the failed logins counted for `username` from every address, so that they may log in again at once
 * (`pave users unlock`), and returns how many were cleared (0 when none were). Failures counted for an
 * address alone stay: they are not that user's. Audited; NotFoundError for an unknown user.
 */
export async function unlockUser(
  store: Store,
  context: RequestContext,
  username: string,
): Promise<LoginFailuresCleared> {
  return store.transaction(async (tx) => {
    const user = await tx
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst();
    if (!user) throw userNotFound(username);
    // A username is a DNS label: it holds none of LIKE's wildcards (% and _).
    const result = await tx
      .deleteFrom('login_failures')
      .where('key', 'like', `user:${username}@%`)
      .executeTakeFirst();
    const cleared = { username, failuresCleared: Number(result.numDeletedRows) };
    await recordAudit(tx, context, { action: 'user.unlock', target: `users/${username}`, summary: cleared });
    return cleared;
  });
}

// Passwords of users

/**
 * Sets `username`'s password and revokes every other token of theirs, so that whoever knew the old password
 * (and any token made with it) is signed out; the token making the change keeps working.
 *
 * Your own password: `currentPassword` is required when you have one (a stolen session token alone cannot
 * take over the account), and wrong ones count like failed logins from `clientAddress` (429 after 5). Another
 * user's: needs `user.write` (admins), no current password. A token limited to a scope other than org:admin
 * can do neither. NotAllowedError (403), InputError for a missing or wrong current password, a weak new one
 * or a service account; NotFoundError for an unknown user; TooManyRequestsError while failures block.
 */
export async function setPassword(
  store: Store,
  context: RequestContext,
  target: { username: string; clientAddress: string },
  body: SetPasswordBody,
): Promise<PasswordChanged> {
  const { actor } = context;
  const own = target.username === actor.username;
  const scope = actor.tokenScope;
  if (scope && !(scope.scope.kind === 'org' && scope.role === 'admin')) {
    throw new NotAllowedError(
      `this token is limited to ${scope.via.replace(/^token scope /, '')}; a password can be changed only with an unscoped token`,
      [
        {
          path: 'Authorization',
          message: 'log in with `pave login --username NAME`, or use an unscoped token',
        },
      ],
    );
  }
  if (!own) authorize(actor, 'user.write');
  checkPassword(body.password, '/password');
  const user = await store.db
    .selectFrom('users')
    .select(['id', 'kind', 'password_hash'])
    .where('username', '=', target.username)
    .executeTakeFirst();
  if (!user) throw userNotFound(target.username);
  if (user.kind === 'service') {
    throw new InputError(`${target.username} is a service account, which has no password`, [
      {
        path: 'username',
        message: 'service accounts use tokens only: `pave tokens create NAME --user NAME`',
      },
    ]);
  }
  const checkCurrent = own && user.password_hash !== null;
  if (checkCurrent) await checkCurrentPassword(store, target, user.password_hash!, body.currentPassword);
  const hash = await hashPassword(body.password);
  const changed = await store.transaction(async (tx) => {
    await tx.updateTable('users').set({ password_hash: hash }).where('id', '=', user.id).execute();
    const revoked = await tx
      .updateTable('tokens')
      .set({ revoked_at: now() })
      .where('user_id', '=', user.id)
      .where('revoked_at', 'is', null)
      .where('id', '!=', actor.tokenId)
      .executeTakeFirst();
    const changed = { username: target.username, tokensRevoked: Number(revoked.numUpdatedRows) };
    await recordAudit(tx, context, {
      action: 'user.password.set',
      target: `users/${target.username}`,
      summary: { ...changed, currentPasswordChecked: checkCurrent },
    });
    return changed;
  });
  // On this replica the revoked tokens stop at once; others drop them within AUTH_CACHE_TTL_MS.
  forgetUserTokens(user.id, actor.tokenId);
  return changed;
}

/** Verifies the caller's current password, counting a wrong one like a failed login from that address. */
async function checkCurrentPassword(
  store: Store,
  target: { username: string; clientAddress: string },
  hash: string,
  currentPassword: string | undefined,
): Promise<void> {
  if (currentPassword === undefined) {
    throw new InputError('your current password is needed to change it', [
      {
        path: '/currentPassword',
        message: 'give your current password; if you forgot it, an admin can set a new one for you',
      },
    ]);
  }
  const keys = failureCounters(target.username, target.clientAddress);
  const counted = await countAttempt(store.db, keys);
  if (!(await verifyPassword(currentPassword, hash))) {
    await forgetStaleFailures(store.db);
    throw new InputError('the current password is wrong', [
      {
        path: '/currentPassword',
        message: `is not your current password; after ${LOGIN_FAILURE_LIMIT} wrong ones within ${LOGIN_FAILURE_WINDOW_MS / 60_000} minutes, attempts wait`,
      },
    ]);
  }
  await uncount(store.db, counted);
}

// Teams

function teamNotFound(team: string): NotFoundError {
  return new NotFoundError(`team "${team}" not found`, [
    { path: 'team', message: 'no such team; `pave teams list` shows them' },
  ]);
}

/**
 * One page of the teams (`limit`, default TEAM_PAGE_DEFAULT), ordered by id, each with the usernames of its
 * members (sorted). With `cursor` (a previous page's nextCursor: its last team id), the teams after that one;
 * nextCursor is null on the last page.
 */
export async function listTeams(
  db: Executor,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<TeamPage> {
  const limit = page.limit ?? TEAM_PAGE_DEFAULT;
  // Keyset pagination on the primary key: a deep page costs what the first does.
  const rows = await db
    .selectFrom('teams')
    .selectAll()
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const teams = rows.slice(0, limit);
  // The members of this page's teams only (team_members' primary key starts with team_id).
  const teamIds = teams.map((team) => team.id);
  const members =
    teamIds.length === 0
      ? []
      : await db
          .selectFrom('team_members')
          .innerJoin('users', 'users.id', 'team_members.user_id')
          .select(['team_members.team_id as team_id', 'users.username as username'])
          .where('team_members.team_id', 'in', teamIds)
          .orderBy('users.username')
          .execute();
  const items = teams.map((team) => ({
    id: team.id,
    members: members.filter((member) => member.team_id === team.id).map((member) => member.username),
    oidcGroup: team.oidc_group,
    createdBy: team.created_by,
    createdAt: team.created_at,
  }));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

async function getTeam(db: Executor, teamId: string): Promise<Team> {
  const team = await db.selectFrom('teams').selectAll().where('id', '=', teamId).executeTakeFirst();
  if (!team) throw teamNotFound(teamId);
  const members = await db
    .selectFrom('team_members')
    .innerJoin('users', 'users.id', 'team_members.user_id')
    .select('users.username as username')
    .where('team_members.team_id', '=', teamId)
    .orderBy('users.username')
    .execute();
  return {
    id: team.id,
    members: members.map((member) => member.username),
    oidcGroup: team.oidc_group,
    createdBy: team.created_by,
    createdAt: team.created_at,
  };
}

/** Creates an empty team; ConflictError if the id is taken, InputError if it is not a DNS label. */
export async function createTeam(store: Store, context: RequestContext, body: CreateTeamBody): Promise<Team> {
  if (!isDnsLabel(body.id)) {
    throw new InputError(`"${body.id}" is not a valid team id`, [{ path: '/id', message: DNS_LABEL_RULE }]);
  }
  const row = {
    id: body.id,
    created_by: context.actor.username,
    created_at: now(),
    oidc_group: body.oidcGroup ?? null,
  };
  try {
    await store.transaction(async (tx) => {
      await tx.insertInto('teams').values(row).execute();
      await recordAudit(tx, context, {
        action: 'team.create',
        target: `teams/${row.id}`,
        summary: { id: row.id, ...(row.oidc_group ? { oidcGroup: row.oidc_group } : {}) },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`team "${body.id}" already exists`, [
        { path: '/id', message: 'is taken; `pave teams list` shows the teams' },
      ]);
    }
    throw error;
  }
  return {
    id: row.id,
    members: [],
    oidcGroup: row.oidc_group,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/**
 * Changes a team: the SSO (OIDC) group it follows, or null to manage its members by hand. Members stay as
 * they are until each one's next SSO sign-in. Audited; NotFoundError for an unknown team.
 */
export async function updateTeam(
  store: Store,
  context: RequestContext,
  teamId: string,
  body: UpdateTeamBody,
): Promise<Team> {
  return store.transaction(async (tx) => {
    const team = await getTeam(tx, teamId);
    if (team.oidcGroup === body.oidcGroup) return team;
    await tx.updateTable('teams').set({ oidc_group: body.oidcGroup }).where('id', '=', teamId).execute();
    await recordAudit(tx, context, {
      action: 'team.update',
      target: `teams/${teamId}`,
      summary: { id: teamId, oidcGroup: body.oidcGroup, previousOidcGroup: team.oidcGroup },
    });
    return { ...team, oidcGroup: body.oidcGroup };
  });
}

/**
 * Deletes a team and the roles granted to it; its members stay users. NotFoundError if there is none;
 * ConflictError if the team's org admin role is the last one anybody holds.
 */
export async function deleteTeam(store: Store, context: RequestContext, teamId: string): Promise<void> {
  await store.transaction(async (tx) => {
    // Locked first, as a user is (see deleteUser); getTeam then says it is not found.
    await lockRow(store.engine, tx, 'teams', { id: teamId }, 'update');
    const team = await getTeam(tx, teamId);
    await keepingAnOrgAdmin(
      store,
      tx,
      async () => {
        await tx
          .deleteFrom('role_grants')
          .where('subject_kind', '=', 'team')
          .where('subject_id', '=', teamId)
          .execute();
        await tx.deleteFrom('team_members').where('team_id', '=', teamId).execute();
        await tx.deleteFrom('teams').where('id', '=', teamId).execute();
      },
      () =>
        new ConflictError(`team "${teamId}" holds the last org admin role`, [
          {
            path: 'team',
            message: 'make a user an org admin first, so that someone can still manage Pave',
          },
        ]),
    );
    await recordAudit(tx, context, {
      action: 'team.delete',
      target: `teams/${teamId}`,
      summary: { id: teamId, members: team.members },
    });
  });
}

/**
 * Adds a user (or service account) to a team and returns the team; nothing changes (and nothing is audited)
 * when they already are a member. NotFoundError for an unknown team or user.
 */
export async function addTeamMember(
  store: Store,
  context: RequestContext,
  teamId: string,
  username: string,
): Promise<Team> {
  return store.transaction(async (tx) => {
    // Both locked, so that neither is deleted while the membership is added (see lockRow).
    await lockRow(store.engine, tx, 'teams', { id: teamId }, 'share');
    const team = await getTeam(tx, teamId);
    if (team.members.includes(username)) return team;
    if (!(await lockRow(store.engine, tx, 'users', { username }, 'share'))) throw userNotFound(username);
    const user = await tx
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    const added = await tx
      .insertInto('team_members')
      .values({ team_id: teamId, user_id: user.id, added_at: now() })
      // Added by someone else at the same moment: as if it had been a member already.
      .onConflict((conflict) => conflict.columns(['team_id', 'user_id']).doNothing())
      .executeTakeFirst();
    if (Number(added.numInsertedOrUpdatedRows ?? 0) === 0)
      return { ...team, members: [...team.members, username].sort() };
    await recordAudit(tx, context, {
      action: 'team.member.add',
      target: `teams/${teamId}`,
      summary: { team: teamId, username },
    });
    return { ...team, members: [...team.members, username].sort() };
  });
}

/**
 * Removes a user from a team. NotFoundError for an unknown team, or a user who is not a member;
 * ConflictError when that would leave the organisation without an org admin.
 */
export async function removeTeamMember(
  store: Store,
  context: RequestContext,
  teamId: string,
  username: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    const team = await getTeam(tx, teamId);
    const user = await tx
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst();
    if (!user || !team.members.includes(username)) {
      throw new NotFoundError(`"${username}" is not a member of team "${teamId}"`, [
        {
          path: 'username',
          message: `members: ${team.members.join(', ') || 'none'}; \`pave teams list\` shows every team`,
        },
      ]);
    }
    await keepingAnOrgAdmin(
      store,
      tx,
      () =>
        tx.deleteFrom('team_members').where('team_id', '=', teamId).where('user_id', '=', user.id).execute(),
      () =>
        new ConflictError(`"${username}" is the last org admin (through team "${teamId}")`, [
          {
            path: 'username',
            message: 'make another user an org admin first, so that someone can still manage Pave',
          },
        ]),
    );
    await recordAudit(tx, context, {
      action: 'team.member.remove',
      target: `teams/${teamId}`,
      summary: { team: teamId, username },
    });
  });
}

/** Whether user `userId` is a person or a service account, and whether they have a password (`GET /whoami`). */
export async function accountOf(db: Executor, userId: string): Promise<Pick<WhoAmI, 'kind' | 'hasPassword'>> {
  const row = await db
    .selectFrom('users')
    .select(['kind', 'password_hash'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  return { kind: row.kind === 'service' ? 'service' : 'user', hasPassword: row.password_hash !== null };
}
