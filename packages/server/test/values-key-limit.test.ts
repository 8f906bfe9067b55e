import { MAX_VALUE_KEYS } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** `count` keys named `<prefix>_<n>`, each set to a plain value, as a PATCH's `set`. */
function keys(prefix: string, count: number): Record<string, { value: string }> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, index) => [`${prefix}_${index}`, { value: 'x' }]),
  );
}

describe.each(storeEngines)('how many keys a scope of values holds on %s', (engine) => {
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

  for (const [scope, base] of [
    ['an environment', '/apps/shop/envs/dev/values'],
    ['an app', '/apps/shop/values'],
  ] as const) {
    it(`fills ${scope} up to the limit, then refuses a PATCH past it naming both counts, and writes nothing`, async () => {
      const filled = await api.call('PATCH', base, { set: keys('FILL', MAX_VALUE_KEYS) });
      expect(filled.statusCode, filled.body).toBe(200);
      const before = (await api.call('GET', base)).json();

      const over = await api.call('PATCH', base, { set: { ONE_MORE: { value: 'x' } } });
      expect(over.statusCode, over.body).toBe(400);
      expect(over.json().errors).toEqual([
        {
          path: '/set',
          message: expect.stringContaining(`${MAX_VALUE_KEYS + 1} keys`),
        },
      ]);
      expect(over.json().errors[0].message).toContain(`at most ${MAX_VALUE_KEYS}`);
      expect((await api.call('GET', base)).json()).toEqual(before);

      // Replacing one key by another keeps the count.
      const swapped = await api.call('PATCH', base, {
        set: { ONE_MORE: { value: 'x' } },
        unset: ['FILL_0'],
      });
      expect(swapped.statusCode, swapped.body).toBe(200);
      // Changing a key the scope holds adds none.
      const changed = await api.call('PATCH', base, { set: { FILL_1: { value: 'fill', secret: true } } });
      expect(changed.statusCode, changed.body).toBe(200);
    });

    it(`refuses an import into ${scope} that would pass the limit, and writes nothing`, async () => {
      const before = (await api.call('GET', base)).json();
      const dotenv = Array.from({ length: 3 }, (_, index) => `NEW_${index}=secret\n`).join('');
      const refused = await api.call('POST', `${base}/import`, { dotenv, secret: true });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().errors).toEqual([
        {
          path: '/dotenv',
          message: expect.stringContaining(`${MAX_VALUE_KEYS + 3} keys`),
        },
      ]);
      expect((await api.call('GET', base)).json()).toEqual(before);
    });
  }

  it('refuses a single PATCH that sets more keys than the limit, before encrypting any', async () => {
    const set = Object.fromEntries(
      Array.from({ length: MAX_VALUE_KEYS + 1 }, (_, index) => [
        `S_${index}`,
        { value: 'secret', secret: true },
      ]),
    );
    expect((await api.call('POST', '/apps/shop/envs', { id: 'fresh', type: 'development' })).statusCode).toBe(
      201,
    );
    const refused = await api.call('PATCH', '/apps/shop/envs/fresh/values', { set });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors[0].path).toBe('/set');
  });
});
