import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertToken } from '../src/domain/tokens.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

const APPS = ['a01', 'a02', 'a03', 'a04', 'a05', 'a06', 'a07'];

describe.each(storeEngines)('GET /apps pages with cursors on %s', (engine) => {
  let api: DeployingApi;
  let bobToken: string;
  let scopedToken: string;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    const ok = async (method: 'POST', url: string, body: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
      return response.json() as { id: string };
    };
    // Created out of order: the list is ordered by id, not by creation.
    for (const id of [...APPS].reverse()) await ok('POST', '/apps', { id });
    const bob = await ok('POST', '/users', { username: 'bob' });
    await ok('POST', '/roles', { role: 'owner', user: 'bob', app: 'a02' });
    await ok('POST', '/roles', { role: 'developer', user: 'bob', app: 'a05' });
    await ok('POST', '/roles', { role: 'viewer', user: 'bob', app: 'a07' });
    bobToken = (await insertToken(api.store.db, { id: bob.id, username: 'bob' }, 'all', null)).token;
    scopedToken = (
      await insertToken(api.store.db, { id: bob.id, username: 'bob' }, 'one', null, 'app:a05:viewer')
    ).token;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  /** Every page of GET /apps as `token`, following nextCursor. */
  async function pages(token: string, limit: number): Promise<string[][]> {
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}` + (cursor ? `&cursor=${cursor}` : '');
      const response = await api.app.inject({
        method: 'GET',
        url: `/api/v1/apps${query}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { items: { id: string }[]; nextCursor: string | null };
      seen.push(page.items.map((app) => app.id));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 20);
    return seen;
  }

  it('gives every app once, by id, a page at a time', async () => {
    expect(await pages(api.token, 3)).toEqual([['a01', 'a02', 'a03'], ['a04', 'a05', 'a06'], ['a07']]);
    // A page that ends exactly at the last app says there is no more.
    expect(await pages(api.token, 7)).toEqual([APPS]);
  });

  it('pages through only the apps a member has a role on', async () => {
    expect(await pages(bobToken, 2)).toEqual([['a02', 'a05'], ['a07']]);
  });

  it('gives a token scoped to one app only that app', async () => {
    expect(await pages(scopedToken, 2)).toEqual([['a05']]);
  });

  it('answers every app on one page when there are fewer than a default page', async () => {
    const response = await api.call('GET', '/apps');
    expect(response.json()).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(response.json().items).toHaveLength(APPS.length);
  });

  it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
    const badCursor = await api.call('GET', '/apps?cursor=Not_An_Id');
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().errors).toEqual([
      expect.objectContaining({
        path: 'query.cursor',
        message: 'must be the nextCursor value of a previous page',
      }),
    ]);
    const badLimit = await api.call('GET', '/apps?limit=0');
    expect(badLimit.statusCode).toBe(400);
    expect(JSON.stringify(badLimit.json())).toContain('limit');
  });
});
