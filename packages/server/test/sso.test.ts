import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildApi, bootstrapAdmin, type Store } from '../src/index.ts';
import { OidcSignOn, usernameFrom } from '../src/domain/sso.ts';
import { refusalsFor } from '../src/domain/audit-refusals.ts';
import { SSO_STARTS_PER_MINUTE } from '../src/http/routes/sso.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import {
  signInAtProvider,
  startOidcProvider,
  type TestOidcProvider,
} from '../../../test/support/oidc-provider.ts';

/** The address the tests pretend the browser reached Pave at (app.inject sends this Host). */
const PAVE = 'http://127.0.0.1:7300';
const HOST = { host: '127.0.0.1:7300' };

describe('usernames from provider claims', () => {
  it('makes a DNS-label username from a preferred username or email, `user` when nothing is left', () => {
    expect(usernameFrom('Alice.Smith@example.com')).toBe('alice-smith');
    expect(usernameFrom('42-bob_')).toBe('bob');
    expect(usernameFrom('日本')).toBe('user');
    expect(usernameFrom(undefined)).toBe('user');
  });
});

describe.each(storeEngines)('single sign-on with OIDC on %s', (engine) => {
  let store: Store;
  /** Seals the sign-ins under way. */
  let box: SecretBox;
  let app: FastifyInstance;
  let adminToken: string;
  let provider: TestOidcProvider;
  let cleanup: () => Promise<void>;
  /** Set by a test to change the ID token the provider's token endpoint answers with. */
  let rewriteIdToken: ((idToken: string) => Promise<string>) | undefined;

  // Pave talks to the provider through this fetch: a test may swap the ID token in the token response.
  const interceptingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (!rewriteIdToken || !url.endsWith('/token') || !response.ok) return response;
    const body = (await response.json()) as { id_token: string };
    body.id_token = await rewriteIdToken(body.id_token);
    return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
  };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    adminToken = readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim();
    box = new SecretBox(store.db, keyringSource(opened.location.dataDir, {}));
    provider = await startOidcProvider();
    provider.setRedirectUri(`${PAVE}/api/v1/auth/sso/callback`);
    provider.accounts.set('alice-sub', { preferredUsername: 'alice', groups: ['backend-devs', 'staff'] });
    provider.accounts.set('bob-sub', { email: 'Bob@example.com', groups: [] });
    const sso = new OidcSignOn(
      store,
      {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        fetch: interceptingFetch,
      },
      box,
    );
    app = await buildApi({ store, sso });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
    await cleanup?.();
  });
  beforeEach(() => {
    rewriteIdToken = undefined;
  });

  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    url: string,
    token = adminToken,
    payload?: object,
  ) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  /** Starts a sign-in as the browser would and returns the provider's authorization URL. */
  const start = async (redirect?: string) => {
    const query = redirect === undefined ? '' : `?redirect=${encodeURIComponent(redirect)}`;
    const response = await app.inject({ url: `/api/v1/auth/sso/start${query}`, headers: HOST });
    expect(response.statusCode, response.body).toBe(302);
    return response.headers.location as string;
  };
  /** Sends the browser back from the provider to Pave's callback. */
  const callback = (url: string) => {
    const { pathname, search } = new URL(url);
    return app.inject({ url: `${pathname}${search}`, headers: HOST });
  };
  /** A whole sign-in as `login`; resolves with Pave's answer to the callback. */
  const signIn = async (login: string, redirect?: string) =>
    callback(await signInAtProvider(await start(redirect), login));
  /** The parameters the portal receives in its URL fragment. */
  const portalParams = (location: string) => {
    expect(location.startsWith(`${PAVE}/#/sso?`), location).toBe(true);
    return new URLSearchParams(location.slice(`${PAVE}/#/sso?`.length));
  };
  const team = async (id: string) =>
    ((await call('GET', '/teams')).json().items as Array<{ id: string; members: string[] }>).find(
      (t) => t.id === id,
    )!;

  it('says that SSO is offered, before anyone signs in', async () => {
    const methods = await app.inject({ url: '/api/v1/auth/methods' });
    expect(methods.statusCode).toBe(200);
    expect(methods.json()).toEqual({
      password: true,
      sso: { issuer: provider.issuer, startUrl: '/api/v1/auth/sso/start' },
    });
  });

  it('creates a user at the first sign-in, as a member, and hands the portal a working token', async () => {
    expect(
      (await call('POST', '/teams', adminToken, { id: 'backend', oidcGroup: 'backend-devs' })).statusCode,
    ).toBe(201);
    expect((await call('POST', '/teams', adminToken, { id: 'ops', oidcGroup: 'ops' })).statusCode).toBe(201);
    expect((await call('POST', '/teams', adminToken, { id: 'web' })).statusCode).toBe(201);

    const response = await signIn('alice-sub');
    expect(response.statusCode).toBe(302);
    const params = portalParams(response.headers.location as string);
    expect(params.get('username')).toBe('alice');
    const whoami = await call('GET', '/whoami', params.get('token')!);
    expect(whoami.statusCode).toBe(200);
    expect(whoami.json()).toMatchObject({ username: 'alice' });
    expect(JSON.stringify(whoami.json().grants)).toContain('member');
    // Same lifetime as a password login: 12 hours.
    const lifetime = Date.parse(params.get('expiresAt')!) - Date.now();
    expect(lifetime).toBeGreaterThan(11.9 * 3600_000);
    expect(lifetime).toBeLessThanOrEqual(12 * 3600_000);

    expect((await team('backend')).members).toEqual(['alice']);
    expect((await team('ops')).members).toEqual([]);
    expect((await team('web')).members).toEqual([]);
    const users = (await call('GET', '/users')).json().items as Array<{
      username: string;
      hasPassword: boolean;
    }>;
    expect(users.find((user) => user.username === 'alice')).toMatchObject({ hasPassword: false });
  });

  it('gives a user created at the first sign-in the org role --oidc-default-role names, none included', async () => {
    provider.accounts.set('erin-sub', { preferredUsername: 'erin', groups: [] });
    provider.accounts.set('finn-sub', { preferredUsername: 'finn', groups: [] });
    for (const [login, defaultRole] of [
      ['erin-sub', 'none'],
      ['finn-sub', 'platform'],
    ] as const) {
      const sso = new OidcSignOn(
        store,
        {
          issuer: provider.issuer,
          clientId: provider.clientId,
          clientSecret: provider.clientSecret,
          fetch: interceptingFetch,
          defaultRole,
        },
        box,
      );
      const other = await buildApi({ store, sso });
      try {
        const started = await other.inject({ url: '/api/v1/auth/sso/start', headers: HOST });
        const { pathname, search } = new URL(
          await signInAtProvider(started.headers.location as string, login),
        );
        const back = await other.inject({ url: `${pathname}${search}`, headers: HOST });
        const whoami = await call(
          'GET',
          '/whoami',
          portalParams(back.headers.location as string).get('token')!,
        );
        expect(whoami.statusCode).toBe(200);
        const grants = whoami.json().grants as unknown[];
        if (defaultRole === 'none') expect(grants, login).toEqual([]);
        else expect(JSON.stringify(grants), login).toContain('"platform"');
      } finally {
        await other.close();
      }
    }
  });

  it('refuses more than 60 sign-in starts a minute from one address with a 429 that says when to retry', async () => {
    const sso = new OidcSignOn(
      store,
      {
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
      },
      box,
    );
    const limited = await buildApi({ store, sso });
    try {
      const startFrom = (remoteAddress: string) =>
        limited.inject({ url: '/api/v1/auth/sso/start', headers: HOST, remoteAddress });
      for (let i = 0; i < SSO_STARTS_PER_MINUTE; i++) {
        expect((await startFrom('192.0.2.1')).statusCode).toBe(302);
      }
      // Two seconds into the window: the answer still names the window, not the time left of it.
      const twoSecondsLater = Date.now() + 2_000;
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(twoSecondsLater);
      const refused = await startFrom('192.0.2.1').finally(() => vi.useRealTimers());
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toMatchObject({
        status: 429,
        detail: 'too many requests from this address: at most 60 in 1 minute',
      });
      // Another address is not held back by the first one's starts.
      expect((await startFrom('192.0.2.2')).statusCode).toBe(302);
    } finally {
      await limited.close();
    }
  });

  it('never takes over a local user of the same name: the SSO user gets a name of their own', async () => {
    expect(
      (await call('POST', '/users', adminToken, { username: 'bob', password: 'bob has a password' }))
        .statusCode,
    ).toBe(201);
    const response = await signIn('bob-sub');
    expect(portalParams(response.headers.location as string).get('username')).toBe('bob-2');
    // The next sign-in is the same user.
    const again = await signIn('bob-sub');
    expect(portalParams(again.headers.location as string).get('username')).toBe('bob-2');
  });

  it('finishes first sign-ins made at the same moment: one user per subject, a name of their own each', async () => {
    for (const subject of ['sam-sub-1', 'sam-sub-2', 'sam-sub-3']) {
      provider.accounts.set(subject, { preferredUsername: 'sam', groups: [] });
    }
    // Three people called sam, and the first of them in a second browser tab, come back from the provider at once.
    const callbacks: string[] = [];
    for (const subject of ['sam-sub-1', 'sam-sub-2', 'sam-sub-3', 'sam-sub-1']) {
      callbacks.push(await signInAtProvider(await start(), subject));
    }
    const answers = await Promise.all(callbacks.map(callback));
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(302);
    const names = answers.map((answer) => portalParams(answer.headers.location as string).get('username'));
    expect(new Set(names.slice(0, 3))).toEqual(new Set(['sam', 'sam-2', 'sam-3']));
    expect(names[3]).toBe(names[0]);
  });

  it('refreshes team memberships from the groups at every sign-in: added and removed', async () => {
    provider.accounts.set('alice-sub', { preferredUsername: 'alice', groups: ['ops'] });
    expect((await call('PUT', '/teams/web/members/alice')).statusCode).toBe(200);

    const response = await signIn('alice-sub');
    expect(portalParams(response.headers.location as string).get('username')).toBe('alice');
    expect((await team('backend')).members).toEqual([]);
    expect((await team('ops')).members).toEqual(['alice']);
    // A team without an SSO group is managed by hand only.
    expect((await team('web')).members).toEqual(['alice']);

    // A team that starts following a group picks its members up at their next sign-in.
    const updated = await call('PATCH', '/teams/web', adminToken, { oidcGroup: 'staff' });
    expect(updated.json()).toMatchObject({ id: 'web', oidcGroup: 'staff' });
    await signIn('alice-sub');
    expect((await team('web')).members).toEqual([]);
  });

  it('hands the CLI its token on its loopback redirect, and refuses any other destination', async () => {
    const response = await signIn('alice-sub', 'http://127.0.0.1:45678/callback');
    const location = new URL(response.headers.location as string);
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:45678/callback');
    expect(location.searchParams.get('token')).toMatch(/^pave_/);

    const elsewhere = await app.inject({
      url: `/api/v1/auth/sso/start?redirect=${encodeURIComponent('https://evil.example/steal')}`,
      headers: HOST,
    });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.json().detail).toContain('only to this portal or to `pave login --sso`');
  });

  it('hands the portal back, beside the token, the value its browser tab started the sign-in with', async () => {
    const tab = 'one-browser-tab_0123456789abcdef';
    const started = await app.inject({ url: `/api/v1/auth/sso/start?tab=${tab}`, headers: HOST });
    expect(started.statusCode, started.body).toBe(302);
    const back = await callback(await signInAtProvider(started.headers.location as string, 'alice-sub'));
    const params = portalParams(back.headers.location as string);
    expect(params.get('token')).toMatch(/^pave_/);
    expect(params.get('tab')).toBe(tab);

    // A sign-in started without one (not by the portal) hands back none: the portal will not take it.
    expect(portalParams((await signIn('alice-sub')).headers.location as string).get('tab')).toBeNull();
    // The CLI's loopback URL has a secret of its own; a value for a tab is not passed on to it.
    const cli = await app.inject({
      url: `/api/v1/auth/sso/start?tab=${tab}&redirect=${encodeURIComponent('http://127.0.0.1:45678/callback')}`,
      headers: HOST,
    });
    const toCli = new URL(
      (await callback(await signInAtProvider(cli.headers.location as string, 'alice-sub'))).headers
        .location as string,
    );
    expect(toCli.searchParams.get('token')).toMatch(/^pave_/);
    expect(toCli.searchParams.get('tab')).toBeNull();

    const malformed = await app.inject({ url: '/api/v1/auth/sso/start?tab=%3Cscript%3E', headers: HOST });
    expect(malformed.statusCode).toBe(400);
  });

  it('refuses a replayed or unknown state with a clear problem', async () => {
    const back = await signInAtProvider(await start(), 'alice-sub');
    expect((await callback(back)).statusCode).toBe(302);
    const replayed = await callback(back);
    expect(replayed.statusCode).toBe(401);
    expect(replayed.headers['content-type']).toContain('application/problem+json');
    expect(replayed.json().detail).toBe('this SSO sign-in is unknown or was used already (state)');
    const unknown = await app.inject({
      url: '/api/v1/auth/sso/callback?code=x&state=made-up',
      headers: HOST,
    });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().detail).toContain('unknown or was used already');
  });

  it("shows a browser that comes back with a used sign-in the portal's sign-in page with the reason", async () => {
    const back = await signInAtProvider(await start(), 'alice-sub');
    expect((await callback(back)).statusCode).toBe(302);
    // As a browser asks for the page again (going back, or reloading it).
    const url = new URL(back);
    const replayed = await app.inject({
      url: url.pathname + url.search,
      headers: { ...HOST, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(replayed.statusCode).toBe(302);
    const params = portalParams(replayed.headers.location as string);
    expect(params.get('token')).toBeNull();
    expect(params.get('error')).toBe('this SSO sign-in is unknown or was used already (state)');
  });

  const refusedWith = async (message: string) => {
    const response = await signIn('alice-sub');
    expect(response.statusCode).toBe(302);
    const params = portalParams(response.headers.location as string);
    expect(params.get('token')).toBeNull();
    expect(params.get('error')).toBe(message);
  };

  it('refuses a tampered ID token', async () => {
    rewriteIdToken = async (idToken) => {
      const [header, , signature] = idToken.split('.');
      const claims = { ...decodeJwt(idToken), groups: ['admins'] };
      return [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');
    };
    await refusedWith('the ID token is not signed by the SSO provider (its signature does not verify)');
  });

  it('refuses an ID token issued for another client', async () => {
    rewriteIdToken = async (idToken) =>
      provider.sign({ ...decodeJwt(idToken), aud: 'another-client', azp: 'another-client' });
    await refusedWith('the ID token was issued for another client (its audience is not this Pave)');
  });

  it('refuses an expired ID token', async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    rewriteIdToken = async (idToken) => provider.sign({ ...decodeJwt(idToken), iat: past - 60, exp: past });
    await refusedWith('the ID token has expired (or its times are not valid now)');
  });

  it('refuses a sign-in the provider refused', async () => {
    const state = new URL(await start()).searchParams.get('state')!;
    const response = await callback(
      `${PAVE}/api/v1/auth/sso/callback?error=access_denied&error_description=End-User+aborted+interaction&state=${state}`,
    );
    expect(portalParams(response.headers.location as string).get('error')).toBe(
      'the SSO provider refused the sign-in (access_denied: End-User aborted interaction)',
    );
  });

  it('audits every refused sign-in as auth.sso-failed, without a token or code', async () => {
    await refusalsFor(store).flush();
    const rows = await store.db
      .selectFrom('audit_entries')
      .selectAll()
      .where('action', '=', 'auth.sso-failed')
      .execute();
    const reasons = rows.map((row) => (JSON.parse(row.summary as string) as { reason: string }).reason);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'this SSO sign-in is unknown or was used already (state)',
        'the ID token is not signed by the SSO provider (its signature does not verify)',
        'the ID token was issued for another client (its audience is not this Pave)',
        'the ID token has expired (or its times are not valid now)',
        'the SSO provider refused the sign-in (access_denied: End-User aborted interaction)',
      ]),
    );
    expect(JSON.stringify(rows)).not.toContain('pave_');
  });

  it('answers 503 naming the provider when it cannot be reached, and starts anyway', async () => {
    const unreachable = new OidcSignOn(
      store,
      {
        issuer: 'http://127.0.0.1:1',
        clientId: 'pave',
        clientSecret: 'secret',
      },
      box,
    );
    const offline = await buildApi({ store, sso: unreachable });
    try {
      const response = await offline.inject({ url: '/api/v1/auth/sso/start', headers: HOST });
      expect(response.statusCode).toBe(503);
      expect(response.json().detail).toContain('the SSO provider http://127.0.0.1:1 cannot be reached');
    } finally {
      await offline.close();
    }
  });

  it('refuses password logins when they are disabled, while tokens keep working', async () => {
    const strict = await buildApi({ store, passwordLogin: false });
    try {
      const login = await strict.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'bob', password: 'bob has a password' },
      });
      expect(login.statusCode).toBe(403);
      expect(login.json().detail).toBe('password login is disabled on this server; sign in with SSO');
      expect((await strict.inject({ url: '/api/v1/auth/methods' })).json()).toEqual({
        password: false,
        sso: null,
      });
      const whoami = await strict.inject({
        url: '/api/v1/whoami',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(whoami.statusCode).toBe(200);
    } finally {
      await strict.close();
    }
  });
});
