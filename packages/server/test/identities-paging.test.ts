import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, bootstrapAdmin, type Store } from '../src/index.ts';
import { insertToken } from '../src/domain/tokens.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

/** Created out of order: users are listed by username, teams by id, not by creation. */
const USERS = ['u07', 'u03', 'u01', 'u05', 'u02', 'u06', 'u04'];
const TEAMS = ['t5', 't2', 't4', 't1', 't3'];

describe.each(storeEngines)('users, teams, role grants and tokens page with cursors on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let adminToken: string;
  let cleanup: () => Promise<void>;
  const userIds: Record<string, string> = {};
  /** u06's token: u06 owns app shop. */
  let ownerToken: string;
  /** u07's token: u07 is an org member, with no role on shop. */
  let memberToken: string;

  const call = (url: string, token = adminToken, method: 'GET' | 'POST' | 'PUT' = 'GET', payload?: object) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const ok = async (url: string, payload: object) => {
    const response = await call(url, adminToken, 'POST', payload);
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json() as { id: string };
  };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    adminToken = readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim();
    app = await buildApi({ store });
    for (const username of USERS) userIds[username] = (await ok('/users', { username })).id;
    for (const id of TEAMS) {
      await ok('/teams', { id });
      // t1 has u01, t2 has u01 and u02, and so on: every team keeps all its members, whatever the page.
      for (const member of USERS.toSorted().slice(0, Number(id.slice(1)))) {
        expect((await call(`/teams/${id}/members/${member}`, adminToken, 'PUT')).statusCode).toBe(200);
      }
    }
    await ok('/apps', { id: 'shop' });
    await ok('/apps', { id: 'blog' });
    for (const user of ['u01', 'u02', 'u03', 'u04', 'u05']) {
      await ok('/roles', { role: 'viewer', user, app: 'shop' });
      await ok('/roles', { role: 'viewer', user, app: 'blog' });
    }
    await ok('/roles', { role: 'owner', user: 'u06', app: 'shop' });
    await ok('/roles', { role: 'member', user: 'u07' });
    await ok('/roles', { role: 'developer', team: 't1', app: 'shop' });
    ownerToken = (await insertToken(store.db, { id: userIds.u06!, username: 'u06' }, 'mine', null)).token;
    memberToken = (await insertToken(store.db, { id: userIds.u07!, username: 'u07' }, 'mine', null)).token;
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  /** Every page of a list as `token`, following nextCursor; each page's items as `key` gives them. */
  async function pages<T>(url: string, key: (item: T) => string, token = adminToken): Promise<string[][]> {
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const separator = url.includes('?') ? '&' : '?';
      const response = await call(`${url}${cursor ? `${separator}cursor=${cursor}` : ''}`, token);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { items: T[]; nextCursor: string | null };
      seen.push(page.items.map(key));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 50);
    return seen;
  }

  /** Whether pages are full but for the last, so that no page was cut short by rows filtered after LIMIT. */
  function expectFullPages(seen: string[][], limit: number): void {
    for (const page of seen.slice(0, -1)) expect(page).toHaveLength(limit);
    expect(seen.at(-1)!.length).toBeGreaterThan(0);
  }

  type UserItem = { username: string; teams: string[] };
  type TeamItem = { id: string; members: string[] };
  type GrantItem = { role: string; scope: { kind: string; id?: string }; subject: { name: string } };
  const grantKey = (grant: GrantItem) =>
    `${grant.role}@${grant.scope.id ?? grant.scope.kind}:${grant.subject.name}`;

  it('pages through every user once, by username, each with all its teams', async () => {
    const all = ['admin', ...USERS.toSorted()];
    expect(await pages<UserItem>('/users?limit=3', (user) => user.username)).toEqual([
      all.slice(0, 3),
      all.slice(3, 6),
      all.slice(6),
    ]);
    // A page that ends exactly at the last user says there is no more.
    expect(await pages<UserItem>(`/users?limit=${all.length}`, (user) => user.username)).toEqual([all]);
    const teamsOf = (
      await pages<UserItem>('/users?limit=2', (user) => `${user.username}:${user.teams}`)
    ).flat();
    expect(teamsOf).toContain('u01:t1,t2,t3,t4,t5');
    expect(teamsOf).toContain('u05:t5');
    expect(teamsOf).toContain('u06:');
  });

  it('pages through every team once, by id, each with all its members', async () => {
    expect(await pages<TeamItem>('/teams?limit=2', (team) => `${team.id}:${team.members}`)).toEqual([
      ['t1:u01', 't2:u01,u02'],
      ['t3:u01,u02,u03', 't4:u01,u02,u03,u04'],
      ['t5:u01,u02,u03,u04,u05'],
    ]);
  });

  it('pages through role grants in the order they were granted, keeping the filters', async () => {
    const all = (await pages<GrantItem>('/roles?limit=500', grantKey)).flat();
    expect(all[0]).toBe('admin@org:admin');
    const paged = await pages<GrantItem>('/roles?limit=4', grantKey);
    expectFullPages(paged, 4);
    expect(paged.flat()).toEqual(all);

    const shop = [
      'owner@shop:admin',
      ...['u01', 'u02', 'u03', 'u04', 'u05'].map((user) => `viewer@shop:${user}`),
      'owner@shop:u06',
      'developer@shop:t1',
    ];
    const shopPages = await pages<GrantItem>('/roles?app=shop&limit=3', grantKey);
    expect(shopPages).toEqual([shop.slice(0, 3), shop.slice(3, 6), shop.slice(6)]);
    // An owner of the app pages through the same grants, and never another app's.
    expect(await pages<GrantItem>('/roles?app=shop&limit=3', grantKey, ownerToken)).toEqual(shopPages);

    expect(await pages<GrantItem>('/roles?user=u03&limit=1', grantKey)).toEqual([
      ['viewer@shop:u03'],
      ['viewer@blog:u03'],
    ]);
  });

  it('refuses role grants to whoever could not list them before, whatever the page', async () => {
    const first = (await call('/roles?app=shop&limit=1')).json() as { nextCursor: string };
    // An app the caller cannot see is not found, on every page.
    expect((await call(`/roles?app=shop&cursor=${first.nextCursor}`, memberToken)).statusCode).toBe(404);
    expect((await call(`/roles?cursor=${first.nextCursor}`, ownerToken)).statusCode).toBe(403);
    expect((await call(`/roles?app=blog&cursor=${first.nextCursor}`, ownerToken)).statusCode).toBe(404);
    expect((await call('/users?limit=1', ownerToken)).statusCode).toBe(403);
    expect((await call('/teams?limit=1', memberToken)).statusCode).toBe(403);
  });

  it("pages through the caller's tokens newest first, those of the same instant by id", async () => {
    const user = { id: userIds.u01!, username: 'u01' };
    const made: Array<{ id: string; name: string; scope: string | null; at: string }> = [];
    const scopes = [
      null,
      'app:shop:viewer',
      'app:shop:developer',
      'app:shop:owner',
      'app:blog:viewer',
      'org:member',
      'app:shop:viewer',
      null,
      'app:shop:viewer',
      'env-type:production:deployer',
    ];
    for (const [index, scope] of scopes.entries()) {
      const created = await insertToken(store.db, user, `token-${index}`, null, scope);
      // Three instants, so that several tokens share each one.
      const at = `2026-01-0${1 + (index % 3)}T00:00:00.000Z`;
      await store.db.updateTable('tokens').set({ created_at: at }).where('id', '=', created.id).execute();
      made.push({ id: created.id, name: created.name, scope, at });
    }
    const newestFirst = made
      .toSorted((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .map((token) => token.name);
    const wide = await insertToken(store.db, user, 'wide', null);
    await store.db
      .updateTable('tokens')
      .set({ created_at: '2025-01-01T00:00:00.000Z' })
      .where('id', '=', wide.id)
      .execute();
    const tokenPages = await pages<{ name: string }>('/tokens?limit=3', (token) => token.name, wide.token);
    expectFullPages(tokenPages, 3);
    expect(tokenPages.flat()).toEqual([...newestFirst, 'wide']);

    // A token scoped to developer on shop sees only the tokens within that scope, and pages stay full.
    const scoped = await insertToken(store.db, user, 'ci', null, 'app:shop:developer');
    await store.db
      .updateTable('tokens')
      .set({ created_at: '2024-01-01T00:00:00.000Z' })
      .where('id', '=', scoped.id)
      .execute();
    const within = made
      .filter((token) => token.scope === 'app:shop:viewer' || token.scope === 'app:shop:developer')
      .toSorted((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .map((token) => token.name);
    const scopedPages = await pages<{ name: string }>('/tokens?limit=2', (token) => token.name, scoped.token);
    expectFullPages(scopedPages, 2);
    expect(scopedPages.flat()).toEqual([...within, 'ci']);

    // Another user's tokens are never listed.
    expect(
      (await pages<{ name: string }>('/tokens?limit=500', (token) => token.name, ownerToken)).flat(),
    ).toEqual(['mine']);
  });

  it('answers a whole short list on one page, and says so', async () => {
    for (const url of ['/users', '/teams', '/roles', '/tokens']) {
      const response = await call(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.json(), url).toEqual({ items: expect.any(Array), nextCursor: null });
    }
  });

  it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
    const notJson = Buffer.from('not json').toString('base64url');
    const badTime = Buffer.from(JSON.stringify(['yesterday', 'tok_1'])).toString('base64url');
    for (const url of [
      '/users?cursor=Not_A_Name',
      '/teams?cursor=Not_A_Team',
      '/roles?cursor=abc',
      '/roles?cursor=-1',
      '/tokens?cursor=tok_123',
      `/tokens?cursor=${notJson}`,
      `/tokens?cursor=${badTime}`,
    ]) {
      const response = await call(url);
      expect(response.statusCode, url).toBe(400);
      expect(response.json().errors, url).toEqual([
        expect.objectContaining({
          path: 'query.cursor',
          message: 'must be the nextCursor value of a previous page',
        }),
      ]);
    }
    for (const list of ['/users', '/teams', '/roles', '/tokens']) {
      for (const limit of [0, 501]) {
        const response = await call(`${list}?limit=${limit}`);
        expect(response.statusCode, `${list}?limit=${limit}`).toBe(400);
        expect(JSON.stringify(response.json())).toContain('limit');
      }
    }
  });
});
