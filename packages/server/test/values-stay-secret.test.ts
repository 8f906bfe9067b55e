import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by a review of the portal: setting a new value of a secret without saying `secret` (the portal's
 * form, `pave values set KEY=v` without --secret) stored it as plain text, shown to everyone who may read the
 * app's values. A secret stays a secret unless a request says `secret: false`.
 */
describe.each(storeEngines)('a new value of a secret key, on %s', (engine) => {
  let api: FullApi;
  let viewer: string;

  const listed = async (url: string, token?: string) => {
    const response = token ? await api.callAs(token, 'GET', url) : await api.call('GET', url);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items as Array<{ key: string; value: string; secret: boolean }>;
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/users', { username: 'vic', password: 'a long enough password' }],
      ['/roles', { role: 'viewer', user: 'vic', app: 'shop' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
    viewer = (
      await api.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'vic', password: 'a long enough password' },
      })
    ).json().token;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('stays secret when the request does not say, in its layer and over the app-level one', async () => {
    const set = (url: string, body: object) => api.call('PATCH', url, { set: body });
    expect(
      (await set('/apps/shop/envs/dev/values', { DB_PASSWORD: { value: 'first-EEE', secret: true } }))
        .statusCode,
    ).toBe(200);
    expect(
      (await set('/apps/shop/values', { API_KEY: { value: 'app-level-KKK', secret: true } })).statusCode,
    ).toBe(200);
    expect(
      (await set('/apps/shop/envs/dev/values', { DB_PASSWORD: { value: 'rotated-FFF' } })).statusCode,
    ).toBe(200);
    expect(
      (await set('/apps/shop/envs/dev/values', { API_KEY: { value: 'dev-override-GGG' } })).statusCode,
    ).toBe(200);
    const seen = await listed('/apps/shop/envs/dev/values', viewer);
    expect(seen.find((value) => value.key === 'DB_PASSWORD')).toMatchObject({ secret: true });
    expect(seen.find((value) => value.key === 'API_KEY')).toMatchObject({ secret: true });
    expect(JSON.stringify(seen)).not.toMatch(/rotated-FFF|dev-override-GGG/);
  });

  // Found by a review of RBAC and secrets: an import (`pave values import`, the copy workflow of `values
  // export --reveal`) without --secret turned every secret it set into plain text.
  it('stays secret when a dotenv import does not say, while a new key of it is plain', async () => {
    const response = await api.call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: 'DB_PASSWORD=imported-HHH\nLOG_LEVEL=debug\n',
    });
    expect(response.statusCode, response.body).toBe(200);
    const seen = await listed('/apps/shop/envs/dev/values', viewer);
    expect(seen.find((value) => value.key === 'DB_PASSWORD')).toMatchObject({ secret: true });
    expect(seen.find((value) => value.key === 'LOG_LEVEL')).toMatchObject({ secret: false, value: 'debug' });
    expect(JSON.stringify(seen)).not.toContain('imported-HHH');
  });

  it('becomes plain text only when the request says secret: false', async () => {
    const response = await api.call('PATCH', '/apps/shop/envs/dev/values', {
      set: { DB_PASSWORD: { value: 'now-public', secret: false } },
    });
    expect(response.statusCode, response.body).toBe(200);
    const seen = await listed('/apps/shop/envs/dev/values', viewer);
    expect(seen.find((value) => value.key === 'DB_PASSWORD')).toMatchObject({
      secret: false,
      value: 'now-public',
    });
    const imported = await api.call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: 'API_KEY=imported-public\n',
      secret: false,
    });
    expect(imported.statusCode, imported.body).toBe(200);
    const after = await listed('/apps/shop/envs/dev/values', viewer);
    expect(after.find((value) => value.key === 'API_KEY')).toMatchObject({
      secret: false,
      value: 'imported-public',
    });
  });

  // The portal's import preview showed such a key as plain, as the environment's values list it, while the
  // server made it a secret again because the app-level value of the key is one.
  it('keeps a key the environment made plain over an app-level secret plain, as its values show it', async () => {
    // From the test before: API_KEY is a secret at app level, and plain in dev, its own value.
    const imported = await api.call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: 'API_KEY=imported-again\n',
    });
    expect(imported.statusCode, imported.body).toBe(200);
    const seen = await listed('/apps/shop/envs/dev/values', viewer);
    expect(seen.find((value) => value.key === 'API_KEY')).toMatchObject({
      secret: false,
      value: 'imported-again',
    });
    // Where the environment does not override it, a new value of the key is a secret.
    const created = await api.call('POST', '/apps/shop/envs', { id: 'qa', type: 'development' });
    expect(created.statusCode, created.body).toBe(201);
    const set = await api.call('PATCH', '/apps/shop/envs/qa/values', {
      set: { API_KEY: { value: 'qa-LLL' } },
    });
    expect(set.statusCode, set.body).toBe(200);
    const qa = await listed('/apps/shop/envs/qa/values', viewer);
    expect(qa.find((value) => value.key === 'API_KEY')).toMatchObject({ secret: true });
    expect(JSON.stringify(qa)).not.toContain('qa-LLL');
  });

  // Found by a review of bad input: a one-letter secret masked that letter in every journal line and failure
  // reason of the environment (`th*** s***rvic***`), and the masked text is what was stored.
  it('refuses a secret shorter than 4 characters, set or imported, naming the key; changes nothing', async () => {
    const before = await listed('/apps/shop/envs/dev/values', viewer);
    const set = await api.call('PATCH', '/apps/shop/envs/dev/values', {
      set: { FLAG: { value: 'e', secret: true }, PIN: { value: '1234', secret: true } },
    });
    expect(set.statusCode, set.body).toBe(400);
    expect(set.json()).toMatchObject({
      detail: 'a secret value is shorter than 4 characters; nothing was changed',
      errors: [
        {
          path: '/set/FLAG/value',
          message: expect.stringMatching(
            /^FLAG: a secret needs at least 4 characters, .* set it without marking it secret$/u,
          ),
        },
      ],
    });
    // A key that is a secret already stays one: a short new value of it is refused too.
    const again = await api.call('PATCH', '/apps/shop/envs/qa/values', {
      set: { API_KEY: { value: 'pw' } },
    });
    expect(again.statusCode, again.body).toBe(400);
    expect(again.json().errors[0].message).toContain('unset it first');
    const imported = await api.call('POST', '/apps/shop/envs/dev/values/import', {
      dotenv: 'A=ab\n',
      secret: true,
    });
    expect(imported.statusCode, imported.body).toBe(400);
    expect(imported.json().errors).toEqual([
      { path: '/dotenv', message: expect.stringMatching(/^A: a secret needs/u) },
    ]);
    expect(await listed('/apps/shop/envs/dev/values', viewer)).toEqual(before);
    // An empty secret masks nothing, and plain values may be as short as they like.
    const fine = await api.call('PATCH', '/apps/shop/envs/dev/values', {
      set: { EMPTY: { value: '', secret: true }, ONE: { value: '1' } },
    });
    expect(fine.statusCode, fine.body).toBe(200);
  });
});
