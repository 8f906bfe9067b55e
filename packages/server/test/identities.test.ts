import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, bootstrapAdmin, type Store } from '../src/index.ts';
import { systemContext } from '../src/domain/context.ts';
import { AUTH_CACHE_TTL_MS, insertToken } from '../src/domain/tokens.ts';
import { deleteUser, LOGIN_FAILURES_PER_ADDRESS } from '../src/domain/users.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const PASSWORDS = {
  alice: 'correct horse battery staple',
  bob: 'bob-has-a-long-passphrase',
  erin: 'erin erin erin erin',
  frank: 'frank-is-root-here',
  aliceNew: 'a brand new passphrase for alice',
  bobReset: 'bob was reset by the admin',
  adminOwn: 'the admin finally has a password',
};

describe.each(storeEngines)('users, teams and password login on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let adminToken: string;
  let cleanup: () => Promise<void>;
  /** Every token a login handed out, to check none of them leaked into the store. */
  const issuedTokens: string[] = [];

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    adminToken = readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim();
    app = await buildApi({ store });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    options: { token?: string; payload?: unknown } = {},
  ) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${options.token ?? adminToken}` },
      ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
    });

  const login = async (username: string, password: string, clientAddress: string) => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: clientAddress,
      payload: { username, password },
    });
    if (response.statusCode === 200) issuedTokens.push(response.json().token);
    return response;
  };

  /** What a person sees of a problem: everything but the request id. */
  const problemOf = (response: { json(): unknown }) => {
    const { requestId: _requestId, ...rest } = response.json() as Record<string, unknown>;
    return rest;
  };

  it('creates users with scrypt-hashed passwords and service accounts without, never storing a password', async () => {
    const alice = await call('POST', '/users', { payload: { username: 'alice', password: PASSWORDS.alice } });
    expect(alice.statusCode).toBe(201);
    expect(alice.json()).toEqual({
      id: expect.stringMatching(/^usr_/),
      username: 'alice',
      kind: 'user',
      hasPassword: true,
      createdAt: expect.any(String),
      teams: [],
    });
    const bot = await call('POST', '/users', { payload: { username: 'deploy-bot', kind: 'service' } });
    expect(bot.statusCode).toBe(201);
    expect(bot.json()).toMatchObject({ username: 'deploy-bot', kind: 'service', hasPassword: false });

    const list = await call('GET', '/users');
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((u: { username: string; kind: string }) => [u.username, u.kind])).toEqual([
      ['admin', 'user'],
      ['alice', 'user'],
      ['deploy-bot', 'service'],
    ]);

    const users = await store.db.selectFrom('users').selectAll().orderBy('username').execute();
    expect(users.find((u) => u.username === 'alice')?.password_hash).toMatch(
      /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/,
    );
    expect(users.find((u) => u.username === 'deploy-bot')?.password_hash).toBeNull();
    expect(JSON.stringify(users)).not.toContain(PASSWORDS.alice);
  });

  it('refuses short passwords, passwords for service accounts, bad usernames and taken ones, saying why', async () => {
    const short = await call('POST', '/users', { payload: { username: 'carol', password: 'short' } });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors).toEqual([
      { path: '/password', message: expect.stringContaining('must be 12 to 1024 characters long') },
    ]);
    const service = await call('POST', '/users', {
      payload: { username: 'ci', kind: 'service', password: 'a long enough password' },
    });
    expect(service.statusCode).toBe(400);
    expect(service.json().detail).toBe('a service account has no password');
    const badName = await call('POST', '/users', { payload: { username: 'Carol_1' } });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().errors[0]).toMatchObject({ path: '/username' });
    const taken = await call('POST', '/users', { payload: { username: 'alice' } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().detail).toBe('user "alice" already exists');
    const names = (await store.db.selectFrom('users').select('username').execute()).map((u) => u.username);
    expect(names).not.toContain('carol');
    expect(names).not.toContain('ci');
  });

  it('logs in with the right password: the token works, is named for the login and expires in 12 hours', async () => {
    const before = Date.now();
    const response = await login('alice', PASSWORDS.alice, '10.0.1.1');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      token: expect.stringMatching(/^pave_/),
      expiresAt: expect.any(String),
      username: 'alice',
    });
    const lifetime = Date.parse(body.expiresAt) - before;
    expect(lifetime).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(12 * 3600_000 + 60_000);

    const whoami = await call('GET', '/whoami', { token: body.token });
    expect(whoami.statusCode).toBe(200);
    expect(whoami.json()).toMatchObject({
      username: 'alice',
      kind: 'user',
      hasPassword: true,
      token: { expiresAt: body.expiresAt },
    });
    // The first admin signs in with its token and has no password until it sets one.
    expect((await call('GET', '/whoami')).json()).toMatchObject({
      username: 'admin',
      kind: 'user',
      hasPassword: false,
    });
    expect(whoami.json().token.name).toMatch(/^login \d{4}-\d\d-\d\dT/);
  });

  it('answers a wrong password, an unknown user and a service account with the same 401', async () => {
    const wrongPassword = await login('alice', 'not the password at all', '10.0.2.1');
    const unknownUser = await login('mallory', 'not the password at all', '10.0.2.2');
    const serviceAccount = await login('deploy-bot', 'not the password at all', '10.0.2.3');
    for (const response of [wrongPassword, unknownUser, serviceAccount]) {
      expect(response.statusCode).toBe(401);
      expect(problemOf(response)).toEqual(problemOf(wrongPassword));
      expect(response.headers['www-authenticate']).toBe(wrongPassword.headers['www-authenticate']);
    }
    expect(wrongPassword.json().detail).toBe('username or password is wrong');
  });

  it('does not let failed logins from elsewhere lock a user out: only that user from that address waits', async () => {
    await call('POST', '/users', { payload: { username: 'bob', password: PASSWORDS.bob } });
    // Someone guesses bob's password from five addresses: bob, from his own, is not affected.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const failed = await login('bob', `wrong guess number ${attempt}`, `10.0.3.${attempt}`);
      expect(failed.statusCode, `attempt ${attempt}`).toBe(401);
    }
    expect((await login('bob', PASSWORDS.bob, '10.0.3.99')).statusCode).toBe(200);

    // Five failures for bob from one address make bob wait there, even with the right password…
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await login('bob', `another wrong guess ${attempt}`, '10.0.3.50')).statusCode).toBe(401);
    }
    const refused = await login('bob', PASSWORDS.bob, '10.0.3.50');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
    expect(refused.json().errors[0].message).toContain('`pave users unlock USERNAME`');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(300);
    // …but not elsewhere, and other users from that address are not affected.
    expect((await login('bob', PASSWORDS.bob, '10.0.3.51')).statusCode).toBe(200);
    expect((await login('alice', PASSWORDS.alice, '10.0.3.50')).statusCode).toBe(200);

    // A username that does not exist is limited alike, so the 429 does not tell either.
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect((await login('nobody', 'whatever it is', '10.0.4.1')).statusCode).toBe(401);
    }
    const nobody = await login('nobody', 'whatever it is', '10.0.4.1');
    expect(nobody.statusCode).toBe(429);
    // The same answer but for the seconds left: nobody's wait began a few logins later (seconds later on a busy
    // machine), so it ends no earlier than bob's.
    const withoutSeconds = (problem: Record<string, unknown>) => ({
      ...problem,
      detail: String(problem.detail).replace(/\d+ s$/, 'N s'),
    });
    expect(withoutSeconds(problemOf(nobody))).toEqual(withoutSeconds(problemOf(refused)));
    const nobodyRetryAfter = Number(nobody.headers['retry-after']);
    expect(nobodyRetryAfter).toBeGreaterThanOrEqual(retryAfter - 1);
    expect(nobodyRetryAfter).toBeLessThanOrEqual(300);
  });

  it('lets an admin lift the wait for a user (`pave users unlock`), audited; nobody else may', async () => {
    const before = await login('bob', PASSWORDS.bob, '10.0.3.50');
    expect(before.statusCode).toBe(429);
    const bob = (await login('bob', PASSWORDS.bob, '10.0.3.52')).json().token as string;
    const notAdmin = await call('DELETE', '/users/bob/login-failures', { token: bob });
    expect(notAdmin.statusCode).toBe(403);

    const unlocked = await call('DELETE', '/users/bob/login-failures');
    expect(unlocked.statusCode).toBe(200);
    expect(unlocked.json()).toEqual({ username: 'bob', failuresCleared: 10 });
    expect((await login('bob', PASSWORDS.bob, '10.0.3.50')).statusCode).toBe(200);
    // Nothing left to clear; an unknown user is a 404 that says how to find the users.
    expect((await call('DELETE', '/users/bob/login-failures')).json()).toEqual({
      username: 'bob',
      failuresCleared: 0,
    });
    const unknown = await call('DELETE', '/users/nobody/login-failures');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().detail).toBe('user "nobody" not found');
    const audited = await store.db
      .selectFrom('audit_entries')
      .select(['actor', 'target', 'summary'])
      .where('action', '=', 'user.unlock')
      .orderBy('id')
      .execute();
    expect(audited.map((entry) => ({ ...entry, summary: JSON.parse(entry.summary) }))).toEqual([
      { actor: 'admin', target: 'users/bob', summary: { username: 'bob', failuresCleared: 10 } },
      { actor: 'admin', target: 'users/bob', summary: { username: 'bob', failuresCleared: 0 } },
    ]);
  });

  it(`refuses further logins from one client address after ${LOGIN_FAILURES_PER_ADDRESS} failures, whatever the usernames`, async () => {
    for (let attempt = 1; attempt <= LOGIN_FAILURES_PER_ADDRESS; attempt++) {
      const name = attempt === 3 ? 'alice' : `u${attempt}`;
      expect((await login(name, 'a wrong password', '10.0.5.1')).statusCode).toBe(401);
    }
    const refused = await login('alice', PASSWORDS.alice, '10.0.5.1');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // alice herself is not blocked (one failure for her), only that address.
    expect((await login('alice', PASSWORDS.alice, '10.0.5.2')).statusCode).toBe(200);
  });

  it('checks no more than 5 of a burst of concurrent guesses for one user from one address', async () => {
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, attempt) => login('bob', `a concurrent guess ${attempt}`, '10.0.5.90')),
    );
    const statuses = burst.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((status) => status !== 401).every((status) => status === 429)).toBe(true);
    // Refused attempts count for nothing: bob is let in from there once the failures that were checked expire.
    const failures = await store.db
      .selectFrom('login_failures')
      .select('id')
      .where('key', '=', 'user:bob@10.0.5.90')
      .execute();
    expect(failures.length).toBe(statuses.filter((status) => status === 401).length);
  });

  it('forgets failed logins older than 5 minutes', async () => {
    const longAgo = new Date(Date.now() - 6 * 60_000).toISOString();
    await store.db
      .insertInto('login_failures')
      .values(Array.from({ length: 5 }, () => ({ key: 'user:alice@10.0.6.1', at: longAgo })))
      .execute();
    expect((await login('alice', PASSWORDS.alice, '10.0.6.1')).statusCode).toBe(200);
    // The next failure purges them.
    expect((await login('alice', 'a wrong password', '10.0.6.1')).statusCode).toBe(401);
    const stale = await store.db
      .selectFrom('login_failures')
      .select('id')
      .where('at', '<=', longAgo)
      .execute();
    expect(stale).toEqual([]);
  });

  it('creates teams, adds and removes members, lists them and deletes teams, auditing each change', async () => {
    const created = await call('POST', '/teams', { payload: { id: 'web' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toEqual({
      id: 'web',
      members: [],
      oidcGroup: null,
      createdBy: 'admin',
      createdAt: expect.any(String),
    });
    expect((await call('POST', '/teams', { payload: { id: 'web' } })).statusCode).toBe(409);

    const added = await call('PUT', '/teams/web/members/bob');
    expect(added.statusCode).toBe(200);
    expect(added.json().members).toEqual(['bob']);
    expect((await call('PUT', '/teams/web/members/alice')).json().members).toEqual(['alice', 'bob']);
    // Adding a member again changes nothing.
    expect((await call('PUT', '/teams/web/members/alice')).json().members).toEqual(['alice', 'bob']);
    expect((await call('PUT', '/teams/web/members/nobody')).statusCode).toBe(404);
    expect((await call('PUT', '/teams/nope/members/alice')).statusCode).toBe(404);

    const teams = await call('GET', '/teams');
    expect(teams.json().items).toEqual([expect.objectContaining({ id: 'web', members: ['alice', 'bob'] })]);
    const users = (await call('GET', '/users')).json().items as Array<{ username: string; teams: string[] }>;
    expect(users.find((u) => u.username === 'alice')?.teams).toEqual(['web']);

    expect((await call('DELETE', '/teams/web/members/bob')).statusCode).toBe(204);
    const notMember = await call('DELETE', '/teams/web/members/bob');
    expect(notMember.statusCode).toBe(404);
    expect(notMember.json().detail).toBe('"bob" is not a member of team "web"');
    expect((await call('DELETE', '/teams/web')).statusCode).toBe(204);
    expect((await call('GET', '/teams')).json().items).toEqual([]);
    expect((await call('DELETE', '/teams/web')).statusCode).toBe(404);
    const memberships = await store.db.selectFrom('team_members').selectAll().execute();
    expect(memberships).toEqual([]);

    const audit = await store.db
      .selectFrom('audit_entries')
      .select(['action', 'target', 'actor'])
      .where('action', 'like', 'team.%')
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { action: 'team.create', target: 'teams/web', actor: 'admin' },
      { action: 'team.member.add', target: 'teams/web', actor: 'admin' },
      { action: 'team.member.add', target: 'teams/web', actor: 'admin' },
      { action: 'team.member.remove', target: 'teams/web', actor: 'admin' },
      { action: 'team.delete', target: 'teams/web', actor: 'admin' },
    ]);
  });

  it('deletes a user with their tokens, team memberships and roles, but never the caller or the last org admin', async () => {
    const self = await call('DELETE', '/users/admin');
    expect(self.statusCode).toBe(409);
    expect(self.json().detail).toBe('you cannot delete yourself ("admin")');
    await expect(deleteUser(store, systemContext('pave', 'test'), 'admin')).rejects.toMatchObject({
      name: 'ConflictError',
      message: '"admin" is the last org admin',
    });

    await call('POST', '/users', { payload: { username: 'erin', password: PASSWORDS.erin } });
    await call('POST', '/teams', { payload: { id: 'qa' } });
    await call('PUT', '/teams/qa/members/erin');
    expect((await call('POST', '/roles', { payload: { role: 'member', user: 'erin' } })).statusCode).toBe(
      201,
    );
    const erinToken = (await login('erin', PASSWORDS.erin, '10.0.7.1')).json().token as string;
    expect((await call('GET', '/whoami', { token: erinToken })).statusCode).toBe(200);
    const erinId = (
      await store.db.selectFrom('users').select('id').where('username', '=', 'erin').executeTakeFirstOrThrow()
    ).id;

    expect((await call('DELETE', '/users/erin')).statusCode).toBe(204);
    expect((await call('GET', '/teams')).json().items).toEqual([
      expect.objectContaining({ id: 'qa', members: [] }),
    ]);
    expect(
      await store.db.selectFrom('role_grants').selectAll().where('subject_id', '=', erinId).execute(),
    ).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, AUTH_CACHE_TTL_MS + 50));
    expect((await call('GET', '/whoami', { token: erinToken })).statusCode).toBe(401);
    expect((await call('DELETE', '/users/erin')).statusCode).toBe(404);
    const audited = await store.db
      .selectFrom('audit_entries')
      .select('summary')
      .where('action', '=', 'user.delete')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audited.summary)).toEqual({
      username: 'erin',
      kind: 'user',
      teams: ['qa'],
      tokensDeleted: 1,
    });
  });

  it("stops a deleted user's tokens at once on the replica that deleted them", async () => {
    const user = (await call('POST', '/users', { payload: { username: 'gone' } })).json() as { id: string };
    const gone = (await insertToken(store.db, { id: user.id, username: 'gone' }, 'laptop', null)).token;
    // A request right before the deletion leaves the token's actor cached on this replica.
    expect((await call('GET', '/whoami', { token: gone })).statusCode).toBe(200);
    expect((await call('DELETE', '/users/gone')).statusCode).toBe(204);
    const after = await call('GET', '/whoami', { token: gone });
    expect(after.statusCode).toBe(401);
    expect(after.json().detail).toBe('the bearer token is not valid');
  });

  it('lets a user change their own password with the current one, revoking their other tokens', async () => {
    const session = (await login('alice', PASSWORDS.alice, '10.0.9.1')).json().token as string;
    const other = (await login('alice', PASSWORDS.alice, '10.0.9.2')).json().token as string;
    const setOwn = (payload: object, token = session) =>
      call('PUT', '/users/alice/password', { token, payload });

    const missing = await setOwn({ password: PASSWORDS.aliceNew });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toEqual([
      { path: '/currentPassword', message: expect.stringContaining('give your current password') },
    ]);
    const wrong = await setOwn({ password: PASSWORDS.aliceNew, currentPassword: 'not my password at all' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors).toEqual([
      { path: '/currentPassword', message: expect.stringContaining('is not your current password') },
    ]);
    const short = await setOwn({ password: 'short', currentPassword: PASSWORDS.alice });
    expect(short.statusCode).toBe(400);
    expect(short.json().errors[0]).toMatchObject({ path: '/password' });

    // Used once, so this replica has it cached: the revocation must reach the cache too.
    expect((await call('GET', '/whoami', { token: other })).statusCode).toBe(200);
    const changed = await setOwn({ password: PASSWORDS.aliceNew, currentPassword: PASSWORDS.alice });
    expect(changed.statusCode).toBe(200);
    // Every other token of hers (earlier logins included) is revoked; the one she used keeps working.
    expect(changed.json()).toEqual({ username: 'alice', tokensRevoked: expect.any(Number) });
    expect(changed.json().tokensRevoked).toBeGreaterThanOrEqual(1);
    expect((await call('GET', '/whoami', { token: other })).statusCode).toBe(401);
    expect((await call('GET', '/whoami', { token: session })).statusCode).toBe(200);
    expect((await login('alice', PASSWORDS.alice, '10.0.9.3')).statusCode).toBe(401);
    expect((await login('alice', PASSWORDS.aliceNew, '10.0.9.3')).statusCode).toBe(200);
  });

  it('counts wrong current passwords like failed logins', async () => {
    const session = (await login('alice', PASSWORDS.aliceNew, '10.0.9.10')).json().token as string;
    const guess = (attempt: number) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/users/alice/password',
        remoteAddress: '10.0.9.11',
        headers: { authorization: `Bearer ${session}` },
        payload: { password: 'a password of the attacker', currentPassword: `guess number ${attempt}` },
      });
    for (let attempt = 1; attempt <= 5; attempt++) expect((await guess(attempt)).statusCode).toBe(400);
    const refused = await guess(6);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // An admin's unlock lifts the wait for her password changes too.
    expect(
      (await call('DELETE', '/users/alice/login-failures')).json().failuresCleared,
    ).toBeGreaterThanOrEqual(5);
    expect((await guess(7)).statusCode).toBe(400);
  });

  it("lets only an admin set another user's password, and never a service account's", async () => {
    const alice = (await login('alice', PASSWORDS.aliceNew, '10.0.9.20')).json().token as string;
    const bob = (await login('bob', PASSWORDS.bob, '10.0.9.21')).json().token as string;
    expect((await call('GET', '/whoami', { token: bob })).statusCode).toBe(200);
    const notAdmin = await call('PUT', '/users/bob/password', {
      token: alice,
      payload: { password: 'alice would like this one' },
    });
    expect(notAdmin.statusCode).toBe(403);
    expect(notAdmin.json().detail).toContain('user.write');

    const reset = await call('PUT', '/users/bob/password', { payload: { password: PASSWORDS.bobReset } });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ username: 'bob', tokensRevoked: expect.any(Number) });
    expect((await call('GET', '/whoami', { token: bob })).statusCode).toBe(401);
    expect((await login('bob', PASSWORDS.bob, '10.0.9.22')).statusCode).toBe(401);
    expect((await login('bob', PASSWORDS.bobReset, '10.0.9.22')).statusCode).toBe(200);

    const service = await call('PUT', '/users/deploy-bot/password', {
      payload: { password: PASSWORDS.bobReset },
    });
    expect(service.statusCode).toBe(400);
    expect(service.json().detail).toBe('deploy-bot is a service account, which has no password');
    const unknown = await call('PUT', '/users/nobody/password', {
      payload: { password: PASSWORDS.bobReset },
    });
    expect(unknown.statusCode).toBe(404);

    const audited = await store.db
      .selectFrom('audit_entries')
      .select(['actor', 'summary'])
      .where('action', '=', 'user.password.set')
      .orderBy('id')
      .execute();
    expect(audited.map((entry) => [entry.actor, JSON.parse(entry.summary).username])).toEqual([
      ['alice', 'alice'],
      ['admin', 'bob'],
    ]);
  });

  it('refuses a password change through a token limited to a scope, unless the scope is org:admin', async () => {
    const alice = await store.db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('username', '=', 'alice')
      .executeTakeFirstOrThrow();
    const scoped = await insertToken(store.db, alice, 'ci', null, 'org:member');
    const refused = await call('PUT', '/users/alice/password', {
      token: scoped.token,
      payload: { password: 'changed through a scoped token', currentPassword: PASSWORDS.aliceNew },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toBe(
      'this token is limited to org:member; a password can be changed only with an unscoped token',
    );
    expect((await login('alice', PASSWORDS.aliceNew, '10.0.9.30')).statusCode).toBe(200);
  });

  it('lets a user without a password (the bootstrap admin) set one without a current password', async () => {
    const set = await call('PUT', '/users/admin/password', { payload: { password: PASSWORDS.adminOwn } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ username: 'admin', tokensRevoked: 0 });
    expect((await call('GET', '/whoami')).statusCode).toBe(200);
    expect((await login('admin', PASSWORDS.adminOwn, '10.0.9.40')).statusCode).toBe(200);
  });

  it('never writes a password or a login token into the store', async () => {
    const dump = JSON.stringify({
      users: await store.db.selectFrom('users').selectAll().execute(),
      tokens: await store.db.selectFrom('tokens').selectAll().execute(),
      audit: await store.db.selectFrom('audit_entries').selectAll().execute(),
      failures: await store.db.selectFrom('login_failures').selectAll().execute(),
    });
    for (const password of Object.values(PASSWORDS)) expect(dump).not.toContain(password);
    for (const token of issuedTokens) expect(dump).not.toContain(token);
    expect(dump).not.toContain('wrong guess number');
    const logins = await store.db
      .selectFrom('audit_entries')
      .selectAll()
      .where('action', '=', 'user.login')
      .execute();
    expect(logins.length).toBeGreaterThan(0);
    expect(new Set(logins.map((entry) => entry.actor))).toEqual(new Set(['admin', 'alice', 'bob', 'erin']));
  });

  // Last: the bootstrap admin is deleted here.
  it('keeps at least one org admin when the only admin holds the role through a team', async () => {
    await call('POST', '/users', { payload: { username: 'frank', password: PASSWORDS.frank } });
    await call('POST', '/teams', { payload: { id: 'root' } });
    await call('PUT', '/teams/root/members/frank');
    expect((await call('POST', '/roles', { payload: { role: 'admin', team: 'root' } })).statusCode).toBe(201);
    const frank = (await login('frank', PASSWORDS.frank, '10.0.8.1')).json().token as string;

    // frank is an admin through root, so admin is not the last one.
    expect((await call('DELETE', '/users/admin', { token: frank })).statusCode).toBe(204);
    const leave = await call('DELETE', '/teams/root/members/frank', { token: frank });
    expect(leave.statusCode).toBe(409);
    expect(leave.json().detail).toBe('"frank" is the last org admin (through team "root")');
    const disband = await call('DELETE', '/teams/root', { token: frank });
    expect(disband.statusCode).toBe(409);
    expect((await call('GET', '/teams', { token: frank })).json().items).toContainEqual(
      expect.objectContaining({ id: 'root', members: ['frank'] }),
    );
  });
});

describe.each(storeEngines)('the last org admin under concurrent changes on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let cleanup: () => Promise<void>;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    tokens.set('admin', readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim());
    app = await buildApi({ store });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  const call = (as: string, method: 'POST' | 'DELETE', url: string, payload?: object) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${tokens.get(as)}` },
      ...(payload ? { payload } : {}),
    });

  /** Creates an org admin with a token of their own, granted by `by`. */
  const makeAdmin = async (username: string, by: string) => {
    expect((await call(by, 'POST', '/users', { username, kind: 'service' })).statusCode).toBe(201);
    expect((await call(by, 'POST', '/roles', { role: 'admin', user: username })).statusCode).toBe(201);
    const user = await store.db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    tokens.set(username, (await insertToken(store.db, user, 'test', null)).token);
  };

  const orgAdmins = async () =>
    (
      await store.db
        .selectFrom('role_grants')
        .innerJoin('users', 'users.id', 'role_grants.subject_id')
        .select('users.username as username')
        .where('role_grants.role', '=', 'admin')
        .where('role_grants.scope_kind', '=', 'org')
        .execute()
    ).map((row) => row.username);

  it('lets only one of two admins who delete or demote each other at the same moment succeed', async () => {
    await makeAdmin('one-0', 'admin');
    expect((await call('one-0', 'DELETE', '/users/admin')).statusCode).toBe(204);
    let survivor = 'one-0';
    // Several rounds, each a new race between the last survivor and a newly made admin, mixing deletes and
    // revokes: without a lock both sides pass the "is another admin left?" check before either commits.
    for (let round = 1; round <= 6; round++) {
      const rival = `one-${round}`;
      await makeAdmin(rival, survivor);
      const removeOther = (actor: string, other: string) =>
        round % 2 === 0
          ? call(actor, 'DELETE', `/users/${other}`)
          : call(actor, 'POST', '/roles/revoke', { role: 'admin', user: other });
      const [first, second] = await Promise.all([removeOther(survivor, rival), removeOther(rival, survivor)]);
      // One wins; the other is refused as the last admin (409), or, when it came second, no longer an admin.
      const statuses = [first.statusCode, second.statusCode].sort();
      expect(statuses, `round ${round}: ${first.body} / ${second.body}`).toContainEqual(204);
      expect(
        [
          [204, 409],
          [204, 401],
          [204, 403],
        ],
        `round ${round}: ${first.body} / ${second.body}`,
      ).toContainEqual(statuses);
      const admins = await orgAdmins();
      expect(admins, `round ${round}`).toHaveLength(1);
      survivor = admins[0]!;
    }
  });
});
