import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

type Method = 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A value for each path parameter: objects that exist (shop/dev, vera, web) or ids that need not. */
const PARAMS: Record<string, string> = { app: 'shop', env: 'dev', username: 'vera', team: 'web', id: '1' };

/**
 * A route that changes something and takes no body (a deletion, `…/cancel`, `webhooks/{id}/test`) refuses one
 * with a 400 at `/` before it does anything: a client that sends `{"force": true}` to a deletion, or an event
 * type to a webhook test, must learn that nothing reads it. An empty object is accepted (some clients always
 * send one). The routes are those the OpenAPI document lists without a request body.
 */
describe.each(storeEngines)('write routes that take no body, on %s', (engine) => {
  let api: FullApi;
  let routes: Array<{ method: Method; url: string }> = [];

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    await api.createUser('vera');
    expect((await api.call('POST', '/teams', { id: 'web' })).statusCode).toBe(201);
    const document = (await api.call('GET', '/openapi.json')).json() as {
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(
          ([method, operation]) =>
            ['post', 'put', 'patch', 'delete'].includes(method) && !operation.requestBody,
        )
        .map(([method]) => ({
          method: method.toUpperCase() as Method,
          url: path.replace(/^\/api\/v1/, '').replace(/\{(\w+)\}/g, (_, name: string) => PARAMS[name]!),
        })),
    );
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('answers 400 at / to a body, and changes nothing', async () => {
    // Deletions of apps, environments, users, teams, webhooks, …, cancel, test, redeliver, key rotation.
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const { method, url } of routes) {
      const response = await api.call(method, url, { force: true });
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(400);
      expect(response.json()).toMatchObject({
        detail: `${method} /api/v1${url} takes no request body`,
        errors: [{ path: '/', message: 'send none: nothing would read it' }],
      });
    }
    const env = await api.call('GET', '/apps/shop/envs/dev');
    expect(env.statusCode, env.body).toBe(200);
    const users = (await api.call('GET', '/users')).json() as { items: Array<{ username: string }> };
    expect(users.items.map((user) => user.username)).toContain('vera');
    const teams = (await api.call('GET', '/teams')).json() as { items: Array<{ id: string }> };
    expect(teams.items.map((team) => team.id)).toContain('web');
  });

  it('takes an empty object as no body', async () => {
    const response = await api.call('DELETE', '/teams/web/members/vera', {});
    expect(response.statusCode, response.body).not.toBe(400);
    const deleted = await api.call('DELETE', '/teams/web', {});
    expect(deleted.statusCode, deleted.body).toBe(204);
  });
});
