import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const CHANGES = 12;

describe.each(storeEngines)('values changed at the same time on %s', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('each get their own version, none is lost, and none fails', async () => {
    const responses = await Promise.all(
      Array.from({ length: CHANGES }, (_, index) =>
        index % 3 === 0
          ? api.call('PATCH', '/apps/shop/values', { set: { [`APP_${index}`]: { value: 'x' } } })
          : api.call('PATCH', '/apps/shop/envs/dev/values', { set: { [`KEY_${index}`]: { value: 'y' } } }),
      ),
    );
    for (const response of responses) expect(response.statusCode, response.body).toBe(200);
    const history = (await api.call('GET', '/apps/shop/envs/dev/values/versions')).json().items as Array<{
      version: number;
    }>;
    expect(history.map((entry) => entry.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: CHANGES }, (_, index) => index + 1),
    );
    const listed = (await api.call('GET', '/apps/shop/envs/dev/values')).json();
    expect(listed.items).toHaveLength(CHANGES);
    expect(listed.version).toBe(CHANGES);
  });
});
