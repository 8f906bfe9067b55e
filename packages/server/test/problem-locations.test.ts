import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review: 404s and 409s named what they were about as `app`, `env` or `id`, where every other problem
 * says where the request holds it (docs/architecture.md): `path.NAME`, `query.NAME` or a JSON pointer.
 */
describe.each(storeEngines)('where a 404 or 409 says the request named the thing, on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/rules', { env: 'dev', branch: 'main' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const firstPath = async (
    method: Parameters<FullApi['call']>[0],
    url: string,
    body?: object,
    status = 404,
  ) => {
    const response = await api.call(method, url, body);
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status);
    return response.json().errors[0].path as string;
  };

  it('names a path parameter as path.NAME', async () => {
    expect(await firstPath('GET', '/apps/nope')).toBe('path.app');
    expect(await firstPath('GET', '/apps/shop/envs/nope')).toBe('path.env');
    expect(await firstPath('DELETE', '/apps/shop/rules/99')).toBe('path.id');
    expect(await firstPath('DELETE', '/tokens/999999')).toBe('path.id');
  });

  it('names a body field by its JSON pointer', async () => {
    expect(await firstPath('POST', '/apps/shop/rules', { env: 'nope', branch: 'main' })).toBe('/env');
    expect(await firstPath('POST', '/apps/shop/rules', { env: 'dev', branch: 'main' }, 409)).toBe('/branch');
    expect(await firstPath('POST', '/apps', { id: 'shop' }, 409)).toMatch(/^\/id$/);
  });

  it('names a query parameter as query.NAME', async () => {
    expect(await firstPath('GET', '/auth/can-i?action=app.read&as=nobody')).toBe('query.as');
  });

  it('keeps a name the request does not hold, and the permission a refusal names', async () => {
    // The environment a deployment copies from is not where the request names `env`.
    const fromMissing = await api.call('POST', '/apps/shop/envs/dev/deployments', { fromEnv: 'gone' });
    expect(fromMissing.statusCode, fromMissing.body).toBe(404);
    expect(fromMissing.json().errors[0].path).not.toBe('path.env');
  });
});
