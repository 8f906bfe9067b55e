import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retireAppWebhooks } from '../src/domain/webhooks/records.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

const ENVS = ['e01', 'e02', 'e03', 'e04', 'e05', 'e06', 'e07'];
const HOOKS = ['w01', 'w02', 'w03', 'w04', 'w05'];
const ADDRESSES = ['api.r01', 'api.r02', 'api.r03', 'shared.r04', 'web.r05'];

/**
 * The lists of an app's environments, webhooks, rules and an environment's resources, a page at a time: each
 * in its order, without a gap or a repeat, only what the caller may see.
 */
describe.each(storeEngines)("an app's lists page with cursors on %s", (engine) => {
  let api: DeployingApi;
  let viewer: string;
  let outsider: string;
  const ruleIds: string[] = [];

  const ok = async (method: 'POST', url: string, body: object) => {
    const response = await api.call(method, url, body);
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json() as { id: string };
  };

  /** Puts a resource row in place as a deployment would leave it: the list reads only the store. */
  async function insertResource(app: string, env: string, address: string): Promise<void> {
    const at = new Date().toISOString();
    await api.store.db
      .insertInto('resources')
      .values({
        app_id: app,
        env_id: env,
        address,
        type: 'postgres',
        class: 'default',
        res_id: address,
        definition_id: 'pg',
        driver: 'postgres',
        driver_id: `${app}-${env}-${address}`,
        inputs_fp: 'fp',
        params: '{}',
        output_values: '{}',
        output_secrets: '{}',
        secret_names: '[]',
        created_at: at,
        updated_at: at,
      })
      .execute();
  }

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    for (const app of ['shop', 'other']) await ok('POST', '/apps', { id: app });
    // Created out of order: each list keeps its own order, not that of creation.
    for (const id of [...ENVS].reverse()) {
      await ok('POST', '/apps/shop/envs', { id, type: 'development' });
    }
    await ok('POST', '/apps/other/envs', { id: 'e03', type: 'development' });

    // Retired webhooks (of an app deleted and created again) are never listed, nor make a page short.
    for (const name of ['w02', 'w04']) {
      await ok('POST', '/webhooks', { name, url: 'https://hooks.example.com/old', app: 'shop' });
    }
    await api.store.transaction((tx) => retireAppWebhooks(tx, 'shop'));
    for (const name of [...HOOKS].reverse()) {
      await ok('POST', '/webhooks', { name, url: 'https://hooks.example.com/pave', app: 'shop' });
    }
    await ok('POST', '/webhooks', { name: 'w00', url: 'https://hooks.example.com/pave', app: 'other' });
    await ok('POST', '/webhooks', { name: 'org', url: 'https://hooks.example.com/pave' });

    for (const [env, branch] of [
      ['e02', 'main'],
      ['e01', 'main'],
      ['e03', 'main'],
      ['e01', 'release/*'],
      ['e05', 'main'],
    ]) {
      ruleIds.push((await ok('POST', '/apps/shop/rules', { env, branch })).id);
    }
    await ok('POST', '/apps/other/rules', { env: 'e03', branch: 'main' });

    for (const address of [...ADDRESSES].reverse()) await insertResource('shop', 'e01', address);
    await insertResource('shop', 'e02', 'api.r00');
    await insertResource('other', 'e03', 'api.r02');

    viewer = await api.createUser('vera');
    outsider = await api.createUser('otto');
    await ok('POST', '/roles', { role: 'viewer', user: 'vera', app: 'shop' });
    await ok('POST', '/roles', { role: 'owner', user: 'otto', app: 'other' });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  /** Every page of `path` as `token` (the admin's by default), following nextCursor: the keys of each page. */
  async function pages(
    path: string,
    limit: number,
    key: (item: Record<string, unknown>) => unknown,
    token = api.token,
  ): Promise<unknown[][]> {
    const seen: unknown[][] = [];
    let cursor: string | null = null;
    const joiner = path.includes('?') ? '&' : '?';
    do {
      const query: string =
        `${joiner}limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
      const response = await api.callAs(token, 'GET', `${path}${query}`);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { items: Record<string, unknown>[]; nextCursor: string | null };
      seen.push(page.items.map(key));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 20);
    return seen;
  }

  /** The list at `path` answers 400 naming the parameter for a limit or cursor that cannot be one. */
  async function refusesBadPaging(path: string, badCursor: string): Promise<void> {
    const joiner = path.includes('?') ? '&' : '?';
    const cursor = await api.call('GET', `${path}${joiner}cursor=${encodeURIComponent(badCursor)}`);
    expect(cursor.statusCode, cursor.body).toBe(400);
    expect(cursor.json().errors).toEqual([
      expect.objectContaining({
        path: 'query.cursor',
        message: 'must be the nextCursor value of a previous page',
      }),
    ]);
    for (const limit of ['0', '501', 'ten']) {
      const refused = await api.call('GET', `${path}${joiner}limit=${limit}`);
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().errors).toEqual([expect.objectContaining({ path: 'query.limit' })]);
    }
  }

  /** The list at `path` holds `count` items on one page when not asked for fewer. */
  async function answersOnePage(path: string, count: number): Promise<void> {
    const response = await api.call('GET', path);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ items: expect.any(Array), nextCursor: null });
    expect(response.json().items).toHaveLength(count);
  }

  describe('GET /apps/{app}/envs', () => {
    const id = (env: Record<string, unknown>) => env.id;

    it('gives every environment of the app once, by id, a page at a time', async () => {
      expect(await pages('/apps/shop/envs', 3, id)).toEqual([
        ['e01', 'e02', 'e03'],
        ['e04', 'e05', 'e06'],
        ['e07'],
      ]);
      // A page that ends exactly at the last environment says there is no more.
      expect(await pages('/apps/shop/envs', 7, id)).toEqual([ENVS]);
      expect(await pages('/apps/other/envs', 1, id)).toEqual([['e03']]);
      await answersOnePage('/apps/shop/envs', ENVS.length);
    });

    it('pages for a member, and refuses one without a role on the app', async () => {
      expect(await pages('/apps/shop/envs', 4, id, viewer)).toEqual([ENVS.slice(0, 4), ENVS.slice(4)]);
      const refused = await api.callAs(outsider, 'GET', '/apps/shop/envs?limit=2');
      expect(refused.statusCode).toBe(404);
    });

    it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
      await refusesBadPaging('/apps/shop/envs', 'E01');
    });

    it('answers 404 for an app that does not exist', async () => {
      expect((await api.call('GET', '/apps/nope/envs?limit=2')).statusCode).toBe(404);
    });
  });

  describe('GET /webhooks', () => {
    const name = (webhook: Record<string, unknown>) => webhook.name;

    it('gives every live webhook of the app once, by name, a page at a time', async () => {
      expect(await pages('/webhooks?app=shop', 2, name)).toEqual([['w01', 'w02'], ['w03', 'w04'], ['w05']]);
      expect(await pages('/webhooks?app=shop', 5, name)).toEqual([HOOKS]);
      await answersOnePage('/webhooks?app=shop', HOOKS.length);
    });

    it('pages through the org-wide webhooks without those of apps', async () => {
      expect(await pages('/webhooks', 1, name)).toEqual([['org']]);
    });

    it('pages only for those who may manage the webhooks of the app', async () => {
      expect(await pages('/webhooks?app=other', 1, name, outsider)).toEqual([['w00']]);
      for (const token of [viewer, outsider]) {
        const refused = await api.callAs(token, 'GET', '/webhooks?app=shop&limit=2');
        expect(refused.statusCode).toBeGreaterThanOrEqual(403);
        expect(refused.statusCode).toBeLessThanOrEqual(404);
      }
    });

    it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
      await refusesBadPaging('/webhooks?app=shop', 'not a name');
    });
  });

  describe('GET /apps/{app}/rules', () => {
    const ruleId = (rule: Record<string, unknown>) => rule.id;

    it('gives every rule of the app once, oldest first, a page at a time', async () => {
      expect(await pages('/apps/shop/rules', 2, ruleId)).toEqual([
        ruleIds.slice(0, 2),
        ruleIds.slice(2, 4),
        ruleIds.slice(4),
      ]);
      expect(await pages('/apps/shop/rules', 5, ruleId)).toEqual([ruleIds]);
      await answersOnePage('/apps/shop/rules', ruleIds.length);
      const other = await pages('/apps/other/rules', 5, (rule) => rule.app);
      expect(other).toEqual([['other']]);
    });

    it('pages for a member, and refuses one without a role on the app', async () => {
      expect(await pages('/apps/shop/rules', 3, ruleId, viewer)).toEqual([
        ruleIds.slice(0, 3),
        ruleIds.slice(3),
      ]);
      const refused = await api.callAs(outsider, 'GET', '/apps/shop/rules?limit=2');
      expect(refused.statusCode).toBe(404);
    });

    it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
      await refusesBadPaging('/apps/shop/rules', 'r1');
    });
  });

  describe('GET /apps/{app}/envs/{env}/resources', () => {
    const address = (resource: Record<string, unknown>) => resource.address;
    const path = '/apps/shop/envs/e01/resources';

    it('gives every resource of the environment once, by address, a page at a time', async () => {
      expect(await pages(path, 2, address)).toEqual([
        ['api.r01', 'api.r02'],
        ['api.r03', 'shared.r04'],
        ['web.r05'],
      ]);
      expect(await pages(path, 5, address)).toEqual([ADDRESSES]);
      await answersOnePage(path, ADDRESSES.length);
      expect(await pages('/apps/shop/envs/e02/resources', 5, address)).toEqual([['api.r00']]);
    });

    it('pages for a member, and refuses one without a role on the app', async () => {
      expect(await pages(path, 4, address, viewer)).toEqual([ADDRESSES.slice(0, 4), ADDRESSES.slice(4)]);
      const refused = await api.callAs(outsider, 'GET', `${path}?limit=2`);
      expect(refused.statusCode).toBe(404);
    });

    it('refuses a cursor or limit that cannot be one, naming the parameter', async () => {
      await refusesBadPaging(path, 'no-dot');
    });

    it('answers 404 for an environment that does not exist', async () => {
      expect((await api.call('GET', '/apps/shop/envs/nope/resources?limit=2')).statusCode).toBe(404);
    });
  });
});
