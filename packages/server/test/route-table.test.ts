import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../src/store/index.ts';
import Fastify from 'fastify';
import { RouteTable } from '../src/domain/resources/routes.ts';
import { proxyRoutes } from '../src/http/proxy.ts';
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

  // Found by a newcomer's review: a mistyped route host with two or three labels (`nope.localhost`) got the
  // portal's page with 200, as if the route served it.
  it('answers any *.localhost host no route serves with a 404 naming it; other hosts reach the API', async () => {
    const app = Fastify();
    await proxyRoutes(app, new RouteTable(store.db));
    app.get('/*', async () => 'the portal');
    try {
      for (const host of ['nope.localhost', 'api.shop.localhost', 'api.nowhere.shop.localhost']) {
        const answer = await app.inject({ method: 'GET', url: '/', headers: { host: `${host}:7300` } });
        expect(answer.statusCode, host).toBe(404);
        expect(answer.json().detail).toBe(`no route serves http://${host}/`);
      }
      for (const host of ['localhost:7300', '127.0.0.1:7300']) {
        const answer = await app.inject({ method: 'GET', url: '/', headers: { host } });
        expect(answer.body, host).toBe('the portal');
      }
    } finally {
      await app.close();
    }
  });
});
