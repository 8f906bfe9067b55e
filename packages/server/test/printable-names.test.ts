import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, bootstrapAdmin, type Store } from '../src/index.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

describe.each(storeEngines)('names and messages with control characters on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let token: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const file = await bootstrapAdmin(store, opened.location.dataDir);
    token = readFileSync(file ?? join(opened.location.dataDir, 'admin.token'), 'utf8').trim();
    app = await buildApi({ store });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  const post = (url: string, payload: object) =>
    app.inject({
      method: 'POST',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });

  it('refuses them with 400 naming the field, the character and its position, and stores nothing', async () => {
    const app1 = await post('/apps', { id: 'shop', name: 'Shop\u001b[2J\u001b[H' });
    expect(app1.statusCode).toBe(400);
    expect(app1.json()).toMatchObject({
      detail: 'the request body is invalid',
      errors: [
        {
          path: '/name',
          message:
            'contains a control character (U+001B) at character 5; remove it: names and messages must be printable text',
        },
      ],
    });
    const envType = await post('/env-types', { id: 'qa', description: 'nul\u0000inside' });
    expect(envType.statusCode).toBe(400);
    expect(envType.json().errors).toEqual([
      { path: '/description', message: expect.stringContaining('(U+0000) at character 4') },
    ]);
    // A lone surrogate, escaped in the JSON text as clients send it.
    const tokenName = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: '{"name":"ci\\ud800"}',
    });
    expect(tokenName.statusCode).toBe(400);
    expect(tokenName.json().errors).toEqual([
      { path: '/name', message: expect.stringContaining('a lone surrogate (U+D800) at character 3') },
    ]);

    expect(await store.db.selectFrom('apps').select('id').execute()).toEqual([]);
    expect(await store.db.selectFrom('env_types').select('id').where('id', '=', 'qa').execute()).toEqual([]);
  });

  it('still accepts printable names in any script', async () => {
    const created = await post('/apps', { id: 'cafe', name: 'Café 商店 🚀' });
    expect(created.statusCode).toBe(201);
    expect(created.json().name).toBe('Café 商店 🚀');
  });
});
