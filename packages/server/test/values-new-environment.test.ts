import { MAX_VALUE_LENGTH } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

describe.each(storeEngines)("an environment's values on %s", (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("lists the app's values, as its first version, when created after they were set", async () => {
    const set = await api.call('PATCH', '/apps/shop/values', {
      set: { GREETING: { value: 'hello' }, TOKEN: { value: 's3cret', secret: true } },
    });
    expect(set.statusCode, set.body).toBe(200);
    const created = await api.call('POST', '/apps/shop/envs', { id: 'late', type: 'development' });
    expect(created.statusCode, created.body).toBe(201);

    const listed = (await api.call('GET', '/apps/shop/envs/late/values?reveal=true')).json();
    expect(listed.version).toBe(1);
    expect(listed.items.map((item: { key: string; value: string; source: string }) => item)).toMatchObject([
      { key: 'GREETING', value: 'hello', source: 'app' },
      { key: 'TOKEN', value: 's3cret', source: 'app' },
    ]);
    const history = (await api.call('GET', '/apps/shop/envs/late/values/versions')).json();
    expect(history.items).toMatchObject([{ version: 1, reason: 'inherited from the app' }]);
    const diff = (await api.call('GET', '/apps/shop/envs/late/values/diff')).json();
    expect(diff).toMatchObject({ from: 0, to: 1 });
    expect(diff.keys.map((key: { key: string; change: string }) => [key.key, key.change])).toEqual([
      ['GREETING', 'added'],
      ['TOKEN', 'added'],
    ]);
  });

  it('refuses an import whose value is longer than a PATCH may set, naming the line, and writes nothing', async () => {
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    const before = (await api.call('GET', '/apps/shop/envs/dev/values')).json();
    const response = await api.call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: `SMALL=1\nBIG=${'x'.repeat(MAX_VALUE_LENGTH + 1)}\n`,
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().errors).toEqual([
      {
        path: 'line 2',
        message: `the value of BIG is ${MAX_VALUE_LENGTH + 1} characters long; a value may have at most ${MAX_VALUE_LENGTH}`,
      },
    ]);
    expect((await api.call('GET', '/apps/shop/envs/dev/values')).json()).toEqual(before);
  });
});
