import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../src/store/index.ts';
import { RouteTable } from '../src/domain/resources/routes.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

describe.each(storeEngines)('the route table of the reverse proxy on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore(engine));
  });
  afterAll(async () => {
    await cleanup?.();
  });

  const addRoute = async (host: string, env: string) => {
    const at = new Date().toISOString();
    await store.db
      .insertInto('route_hosts')
      .values({ host, app_id: 'shop', env_id: env, claimed_at: at })
      .execute();
    await store.db
      .insertInto('routes')
      .values({ host, path: '/', app_id: 'shop', env_id: env, workload: 'api', host_port: 4100 })
      .execute();
  };

  it('serves a new host as soon as its route is stored, though its table is cached for a second', async () => {
    const table = new RouteTable(store.db);
    await addRoute('api.dev.shop.localhost', 'dev');
    expect(await table.lookup('api.dev.shop.localhost', '/')).toMatchObject({ env: 'dev', hostPort: 4100 });
    // A deployment to prod succeeds right after: its route must not wait for the cache to expire.
    await addRoute('api.prod.shop.localhost', 'prod');
    await sleep(150);
    expect(await table.knowsHost('api.prod.shop.localhost')).toBe(true);
    expect(await table.lookup('api.prod.shop.localhost', '/rows')).toMatchObject({ env: 'prod' });
    expect(await table.lookup('api.nowhere.shop.localhost', '/')).toBeUndefined();
  });
});
