import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { DEFAULT_MIN_READY_SECONDS, minReadySecondsOf } from '../src/domain/env-types.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

describe.each(storeEngines)('environment types on %s', (engine) => {
  let store: Store;
  let app: FastifyInstance;
  let token: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    token = readFileSync((await bootstrapAdmin(store, opened.location.dataDir))!, 'utf8').trim();
    app = await buildApi({ store });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const envTypeRows = () => store.db.selectFrom('env_types').selectAll().orderBy('id').execute();
  const auditCount = async () =>
    Number(
      (
        await store.db
          .selectFrom('audit_entries')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('leaves the seeded types on the default window', async () => {
    const list = await call('GET', '/env-types');
    expect(list.statusCode).toBe(200);
    expect(
      list.json().items.map((t: { id: string; minReadySeconds: unknown }) => [t.id, t.minReadySeconds]),
    ).toEqual([
      ['development', null],
      ['production', null],
      ['staging', null],
    ]);
    expect(DEFAULT_MIN_READY_SECONDS).toBe(5);
    expect(await minReadySecondsOf(store.db, 'production')).toBe(5);
  });

  it('keeps the window set at creation, and gets it back with the type', async () => {
    const created = await call('POST', '/env-types', { id: 'soak', minReadySeconds: 30 });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'soak', minReadySeconds: 30 });
    const got = await call('GET', '/env-types/soak');
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(created.json());
    expect(await minReadySecondsOf(store.db, 'soak')).toBe(30);
    const list = await call('GET', '/env-types');
    expect(list.json().items).toContainEqual(created.json());
  });

  it('changes the window with PATCH, 0 turning it off and null going back to the default, auditing each change', async () => {
    expect((await call('POST', '/env-types', { id: 'canary', description: 'Canaries' })).statusCode).toBe(
      201,
    );
    expect(await minReadySecondsOf(store.db, 'canary')).toBe(DEFAULT_MIN_READY_SECONDS);

    const set = await call('PATCH', '/env-types/canary', { minReadySeconds: 120 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ id: 'canary', description: 'Canaries', minReadySeconds: 120 });
    expect(await minReadySecondsOf(store.db, 'canary')).toBe(120);

    const off = await call('PATCH', '/env-types/canary', { minReadySeconds: 0 });
    expect(off.json().minReadySeconds).toBe(0);
    expect(await minReadySecondsOf(store.db, 'canary')).toBe(0);

    const described = await call('PATCH', '/env-types/canary', { description: 'Canary releases' });
    expect(described.json()).toMatchObject({ description: 'Canary releases', minReadySeconds: 0 });

    const reset = await call('PATCH', '/env-types/canary', { minReadySeconds: null });
    expect(reset.statusCode).toBe(200);
    expect(reset.json().minReadySeconds).toBeNull();
    expect((await call('GET', '/env-types/canary')).json().minReadySeconds).toBeNull();
    expect(await minReadySecondsOf(store.db, 'canary')).toBe(DEFAULT_MIN_READY_SECONDS);

    const audit = await call('GET', '/audit?limit=20');
    const updates = (
      audit.json().items as Array<{ action: string; target: string; actor: string; summary: unknown }>
    )
      .filter((entry) => entry.action === 'env-type.update')
      .reverse();
    expect(updates.map((entry) => [entry.target, entry.actor, entry.summary])).toEqual([
      ['env-types/canary', 'admin', { id: 'canary', changes: { minReadySeconds: { from: null, to: 120 } } }],
      ['env-types/canary', 'admin', { id: 'canary', changes: { minReadySeconds: { from: 120, to: 0 } } }],
      [
        'env-types/canary',
        'admin',
        { id: 'canary', changes: { description: { from: 'Canaries', to: 'Canary releases' } } },
      ],
      ['env-types/canary', 'admin', { id: 'canary', changes: { minReadySeconds: { from: 0, to: null } } }],
    ]);
  });

  it.each([
    ['POST', '/env-types', { id: 'slow', minReadySeconds: 3601 }, '/minReadySeconds'],
    ['POST', '/env-types', { id: 'slow', minReadySeconds: -1 }, '/minReadySeconds'],
    ['PATCH', '/env-types/staging', { minReadySeconds: 3601 }, '/minReadySeconds'],
    ['PATCH', '/env-types/staging', { minReadySeconds: -1 }, '/minReadySeconds'],
    ['PATCH', '/env-types/staging', { minReadySeconds: 2.5 }, '/minReadySeconds'],
    ['PATCH', '/env-types/staging', { minReadySeconds: '30s' }, '/minReadySeconds'],
    ['PATCH', '/env-types/staging', {}, '/'],
  ] as const)(
    'refuses %s %s %j with a 400 naming %s, and writes nothing',
    async (method, url, body, path) => {
      const before = { rows: await envTypeRows(), audit: await auditCount() };
      const refused = await call(method, url, body);
      expect(refused.statusCode).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().errors).toEqual([{ path, message: expect.any(String) }]);
      expect({ rows: await envTypeRows(), audit: await auditCount() }).toEqual(before);
    },
  );

  it('describes the stability window in the OpenAPI document', async () => {
    const document = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const field = document.components.schemas.EnvType.properties.minReadySeconds;
    expect(JSON.stringify(field)).toMatch(/"minimum":0.*"maximum":3600/);
    expect(field.description).toContain('null: the default, 5 seconds');
    const patch = document.paths['/api/v1/env-types/{type}'].patch;
    expect(Object.keys(patch.requestBody.content['application/json'].schema.properties)).toEqual([
      'description',
      'minReadySeconds',
      'requiresApproval',
    ]);
  });

  it('answers 404 naming how to list the types for a type that does not exist', async () => {
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { minReadySeconds: 10 }],
    ] as const) {
      const missing = await call(method, '/env-types/nope', payload);
      expect(missing.statusCode).toBe(404);
      expect(missing.json().errors[0].message).toContain('pave env-types list');
    }
  });
});
