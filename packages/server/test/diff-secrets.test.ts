import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Comparing two environments (`GET …/diff?toEnv=`) compared their secrets by fingerprint, so whoever could
 * set a secret in one environment and read the other's values learnt whether a guess equalled the other's
 * secret: a developer without `deployer` on production could test guesses of a production password.
 */
describe.each(storeEngines)('comparing two environments’ secrets on %s', (engine) => {
  let api: FullApi;
  let developer: string;

  const callAs: FullApi['callAs'] = (...args) => api.callAs(...args);
  const setSecret = async (token: string, env: string, value: string) => {
    const response = await callAs(token, 'PATCH', `/apps/shop/envs/${env}/values`, {
      set: { DB_PASSWORD: { value, secret: true } },
    });
    expect(response.statusCode, response.body).toBe(200);
  };
  const secretChange = async (token: string, env: string, toEnv: string) => {
    const response = await callAs(token, 'GET', `/apps/shop/envs/${env}/diff?toEnv=${toEnv}`);
    expect(response.statusCode, response.body).toBe(200);
    const values = response.json().values as Array<{ key: string; action: string; secret: boolean }>;
    return values.find((change) => change.key === 'DB_PASSWORD') ?? null;
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    developer = await api.createUser('dave');
    const setup: Array<[string, object]> = [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['/roles', { role: 'developer', user: 'dave', app: 'shop' }],
    ];
    for (const [url, body] of setup) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
    await setSecret(api.token, 'prod', 'hunter2');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('does not tell a developer without deployer on production whether a guess equals its secret', async () => {
    // The developer may set dev's secrets and read production's values (masked), but not reveal them.
    expect((await callAs(developer, 'GET', '/apps/shop/envs/prod/values?reveal=true')).statusCode).toBe(403);
    await setSecret(developer, 'dev', 'wrong guess');
    const wrong = await secretChange(developer, 'dev', 'prod');
    const wrongBack = await secretChange(developer, 'prod', 'dev');
    await setSecret(developer, 'dev', 'hunter2');
    const right = await secretChange(developer, 'dev', 'prod');
    const rightBack = await secretChange(developer, 'prod', 'dev');
    const notCompared = { key: 'DB_PASSWORD', action: 'not-compared', secret: true };
    expect([wrong, wrongBack, right, rightBack]).toEqual([
      notCompared,
      notCompared,
      notCompared,
      notCompared,
    ]);
  });

  it('compares them for a caller who may reveal both environments’ secrets', async () => {
    await setSecret(api.token, 'dev', 'hunter2');
    expect(await secretChange(api.token, 'dev', 'prod')).toBeNull();
    await setSecret(api.token, 'dev', 'something else');
    expect(await secretChange(api.token, 'dev', 'prod')).toEqual({
      key: 'DB_PASSWORD',
      action: 'changed',
      secret: true,
    });
  });

  it('still shows a secret only one side holds, and plain values, to the developer', async () => {
    const response = await callAs(developer, 'PATCH', '/apps/shop/envs/dev/values', {
      set: { ONLY_DEV: { value: 'only-dev', secret: true }, LOG_LEVEL: { value: 'debug' } },
    });
    expect(response.statusCode, response.body).toBe(200);
    const diff = await callAs(developer, 'GET', '/apps/shop/envs/dev/diff?toEnv=prod');
    expect(diff.json().values).toEqual([
      { key: 'DB_PASSWORD', action: 'not-compared', secret: true },
      { key: 'LOG_LEVEL', action: 'removed', secret: false, from: 'debug' },
      { key: 'ONLY_DEV', action: 'removed', secret: true },
    ]);
  });
});
