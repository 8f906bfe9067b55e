import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { OidcSignOn } from '../src/domain/sso.ts';
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

interface AuditItem {
  action: string;
  target: string;
  summary: Record<string, unknown>;
}

describe.each(storeEngines)('team sync at SSO sign-in never removes the last org admin on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let bootstrapToken: string;
  let provider: TestOidcProvider;
  let cleanup: () => Promise<void>;
  /** Alice's latest token: she is who can still manage Pave once the bootstrap admin is gone. */
  let alice: string;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    bootstrapToken = readFileSync((await bootstrapAdmin(store, opened.location.dataDir))!, 'utf8').trim();
    const keyring = keyringSource(opened.location.dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    provider = await startOidcProvider();
    provider.setRedirectUri(`${PAVE}/api/v1/auth/sso/callback`);
    const sso = new OidcSignOn(
      store,
      { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret },
      box,
    );
    app = await buildApi({ store, sso, secrets: { box } });
  });
  afterAll(async () => {
    await app?.close();
    await provider?.close();
    await cleanup?.();
  });

  const call = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  /** A whole sign-in of the provider's `alice-sub` with `groups`; resolves with her new token. */
  const signInAlice = async (groups: string[]) => {
    provider.accounts.set('alice-sub', { preferredUsername: 'alice', groups });
    const started = await app.inject({ url: '/api/v1/auth/sso/start', headers: HOST });
    expect(started.statusCode, started.body).toBe(302);
    const { pathname, search } = new URL(
      await signInAtProvider(started.headers.location as string, 'alice-sub'),
    );
    const back = await app.inject({ url: `${pathname}${search}`, headers: HOST });
    expect(back.statusCode, back.body).toBe(302);
    const location = back.headers.location as string;
    const token = new URLSearchParams(location.split('#/sso?')[1]).get('token');
    expect(token, location).toMatch(/^pave_/);
    return token!;
  };
  const members = async (token: string, team: string) => {
    const teams = await call(token, 'GET', '/teams');
    expect(teams.statusCode, teams.body).toBe(200);
    return (teams.json().items as Array<{ id: string; members: string[] }>).find((t) => t.id === team)!
      .members;
  };
  const audit = async (token: string) =>
    (await call(token, 'GET', '/audit?limit=50')).json().items as AuditItem[];

  it('keeps a user in the team that makes them the last org admin, audits why, and signs them in', async () => {
    // Admins come from the provider: a team following the `pave-admins` group holds org admin.
    for (const [id, oidcGroup] of [
      ['a-admins', 'pave-admins'],
      ['z-admins', 'pave-admins-2'],
    ]) {
      expect((await call(bootstrapToken, 'POST', '/teams', { id, oidcGroup })).statusCode).toBe(201);
      const granted = await call(bootstrapToken, 'POST', '/roles', { role: 'admin', team: id });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    alice = await signInAlice(['pave-admins']);
    expect(await members(alice, 'a-admins')).toEqual(['alice']);
    // With Alice an admin through her team, the bootstrap admin may go.
    const deleted = await call(alice, 'DELETE', '/users/admin');
    expect(deleted.statusCode, deleted.body).toBe(204);

    // Alice leaves the group at the provider: leaving the team would leave nobody to manage Pave.
    alice = await signInAlice([]);
    expect(await members(alice, 'a-admins')).toEqual(['alice']);
    const whoami = (await call(alice, 'GET', '/whoami')).json();
    expect(JSON.stringify(whoami.grants)).toContain('"admin"');
    const entries = await audit(alice);
    const kept = entries.find((entry) => entry.action === 'team.member.keep');
    expect(kept).toMatchObject({
      target: 'teams/a-admins',
      summary: { team: 'a-admins', username: 'alice', via: 'sso' },
    });
    expect(String(kept!.summary.reason)).toContain('last org admin');
    expect(entries.find((entry) => entry.action === 'user.login')?.summary).toMatchObject({
      method: 'sso',
      teamsLeft: [],
      teamsKept: ['a-admins'],
    });
    expect(
      entries.some((entry) => entry.action === 'team.member.remove' && entry.target === 'teams/a-admins'),
    ).toBe(false);
  });

  it('lets the last org admin move to another admin team in one sign-in', async () => {
    alice = await signInAlice(['pave-admins-2']);
    expect(await members(alice, 'a-admins')).toEqual([]);
    expect(await members(alice, 'z-admins')).toEqual(['alice']);
  });

  it('removes the user as the provider says once another org admin exists', async () => {
    const created = await call(alice, 'POST', '/users', {
      username: 'bob',
      password: 'a long enough password',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect((await call(alice, 'POST', '/roles', { role: 'admin', user: 'bob' })).statusCode).toBe(201);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'bob', password: 'a long enough password' },
    });
    const bob = login.json().token as string;
    alice = await signInAlice([]);
    expect(await members(bob, 'z-admins')).toEqual([]);
    const entries = await audit(bob);
    expect(entries.find((entry) => entry.action === 'user.login')?.summary).toMatchObject({
      teamsLeft: ['z-admins'],
      teamsKept: [],
    });
  });
});
