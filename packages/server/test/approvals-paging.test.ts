import type { Insertable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval } from '@pave/core';
import { insertToken } from '../src/domain/tokens.ts';
import type { DeploymentsTable } from '../src/store/schema.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

/*
 * GET /approvals pages with cursors, newest first, and pages only through the apps whose deployments the
 * caller may read: a page is never short (or empty) because another app's requests filled it.
 */

/** How many requests of blog, newer than every one of shop, are seeded: more than the largest page. */
const BLOG_PENDING = 501;

describe.each(storeEngines)('GET /approvals pages with cursors on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};
  /** The ids of the deployments awaiting approval, newest first: every one, and shop's. */
  let pending: string[] = [];
  let shopPending: string[] = [];

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    const ok = async (method: 'POST' | 'PATCH', url: string, body: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
      return response.json() as { id: string };
    };
    await ok('PATCH', '/env-types/production', { requiresApproval: true });
    for (const app of ['shop', 'blog']) {
      await ok('POST', '/apps', { id: app });
      await ok('POST', `/apps/${app}/envs`, { id: 'prod', type: 'production' });
    }
    await ok('POST', '/apps/shop/envs', { id: 'staging', type: 'staging' });
    const bob = await ok('POST', '/users', { username: 'bob' });
    await ok('POST', '/roles', { role: 'viewer', user: 'bob', app: 'shop' });
    tokens.bob = (await insertToken(api.store.db, { id: bob.id, username: 'bob' }, 'all', null)).token;
    tokens.bobBlog = (
      await insertToken(api.store.db, { id: bob.id, username: 'bob' }, 'blog', null, 'app:blog:viewer')
    ).token;
    const admin = await api.store.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'admin')
      .executeTakeFirstOrThrow();
    tokens.adminShop = (
      await insertToken(api.store.db, { id: admin.id, username: 'admin' }, 'shop', null, 'app:shop:viewer')
    ).token;

    // Requests inserted as the store holds them (asking through the API would supersede all but the newest of
    // each environment): shop's, interleaved with deployments that await nothing, then many more of blog's.
    const deployment = (app: string, env: string, status: string): Insertable<DeploymentsTable> => ({
      app_id: app,
      env_id: env,
      kind: 'deploy',
      request: JSON.stringify({ upsert: [], remove: [], timeoutSeconds: 60, autoRollback: false }),
      set_id: null,
      previous_set_id: null,
      actor: 'admin',
      message: '',
      status,
      reason: null,
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
    });
    const insert = async (rows: Insertable<DeploymentsTable>[]) =>
      (await api.store.db.insertInto('deployments').values(rows).returning('id').execute()).map((row) =>
        String(row.id),
      );
    const shop = [];
    for (let n = 0; n < 7; n++) {
      shop.push(...(await insert([deployment('shop', n % 2 ? 'staging' : 'prod', 'awaiting-approval')])));
      await insert([deployment('shop', 'prod', n % 3 ? 'succeeded' : 'superseded')]);
    }
    const blog = [];
    for (let start = 0; start < BLOG_PENDING; start += 100) {
      const size = Math.min(100, BLOG_PENDING - start);
      blog.push(
        ...(await insert(
          Array.from({ length: size }, () => deployment('blog', 'prod', 'awaiting-approval')),
        )),
      );
    }
    shopPending = shop.reverse();
    pending = [...blog.reverse(), ...shopPending];
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  /** Every page of GET /approvals`query` as `token`, following nextCursor: the ids of each page. */
  async function pages(token: string, query: string): Promise<string[][]> {
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/approvals?${query}` + (cursor ? `&cursor=${cursor}` : '');
      const response = await api.callAs(token, 'GET', url);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { items: Approval[]; nextCursor: string | null };
      seen.push(page.items.map((approval) => approval.id));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 20);
    return seen;
  }

  it("shows a viewer their app's requests though hundreds of another app's are newer", async () => {
    const response = await api.callAs(tokens.bob!, 'GET', '/approvals');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ items: expect.any(Array), nextCursor: null });
    expect((response.json().items as Approval[]).map((approval) => approval.id)).toEqual(shopPending);
  });
  it('gives every request once, newest first, a page at a time, and says when there is no more', async () => {
    expect((await pages(api.token, 'limit=250')).flat()).toEqual(pending);
    expect((await pages(api.token, 'limit=250')).map((page) => page.length)).toEqual([250, 250, 8]);
    // A page that ends exactly at the oldest request says there is no more.
    expect(await pages(tokens.bob!, 'limit=7')).toEqual([shopPending]);
    expect(await pages(tokens.bob!, 'limit=3')).toEqual([
      shopPending.slice(0, 3),
      shopPending.slice(3, 6),
      shopPending.slice(6),
    ]);
  });

  it('answers 50 a page unless asked, with what each would change', async () => {
    const response = await api.call('GET', '/approvals');
    const page = response.json() as { items: Approval[]; nextCursor: string | null };
    expect(page.items.map((approval) => approval.id)).toEqual(pending.slice(0, 50));
    expect(page.nextCursor).toBe(pending[49]);
    expect(page.items[0]).toMatchObject({ envType: 'production', summary: 'no workload changes' });
  });

  it('pages through one app with ?app=, and only the apps a token may read', async () => {
    expect((await pages(api.token, 'app=shop&limit=4')).flat()).toEqual(shopPending);
    expect(await pages(tokens.adminShop!, 'limit=4')).toEqual([
      shopPending.slice(0, 4),
      shopPending.slice(4),
    ]);
    // bob's token is limited to an app bob has no role on: nothing, however far it pages.
    expect(await pages(tokens.bobBlog!, `limit=5&cursor=${pending[0]}`)).toEqual([[]]);
    expect((await api.callAs(tokens.bob!, 'GET', '/approvals?app=blog')).statusCode).toBe(404);
    expect((await api.callAs(tokens.adminShop!, 'GET', '/approvals?app=blog&limit=1')).statusCode).toBe(404);
  });

  it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
    for (const cursor of ['latest', '-1', '1234567890123456']) {
      const response = await api.call('GET', `/approvals?cursor=${cursor}`);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([
        expect.objectContaining({
          path: 'query.cursor',
          message: 'must be the nextCursor value of a previous page',
        }),
      ]);
    }
    for (const limit of ['0', '501', 'many']) {
      const response = await api.call('GET', `/approvals?limit=${limit}`);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([expect.objectContaining({ path: 'query.limit' })]);
    }
  });
});
