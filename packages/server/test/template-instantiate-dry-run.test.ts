import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Instantiating a template with `?dryRun=true` runs every check the real instantiation runs (the answers,
 * the secret values, that the app id is free, app.create, deployer on each restricted type of the template's
 * environments) and creates nothing, so `pave init` can ask before it writes and commits a file. Before, a
 * member without deployer on production learnt only from the real call, after the files were committed, and
 * was told she held "owner on app orders", an app that did not exist.
 */

/** A template whose setup creates dev (development) and prod (production, restricted). */
const SVC = {
  id: 'svc',
  title: 'Service',
  parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  files: [{ path: 'README.md', content: '# {{ name }}\n' }],
  setup: {
    environments: [
      { id: 'dev', type: 'development' },
      { id: 'prod', type: 'production' },
      { id: 'preview', type: 'development', from: 'dev' },
    ],
    values: [{ key: 'API_KEY', secret: true }],
    deploy: 'dev',
  },
};

const DRY_RUN = '/templates/svc/instantiate?version=1&dryRun=true';
const ANSWERS = { answers: { name: 'orders' }, secrets: { API_KEY: 'key-1' } };

describe.each(storeEngines)('instantiating a template as a dry run on %s', (engine) => {
  let api: FullApi;
  let erin: string;
  let fred: string;
  let visitor: string;

  /** Whether the app exists, and how many audit entries there are: a dry run changes neither. */
  const state = async (app: string) => ({
    app: (await api.call('GET', `/apps/${app}`)).statusCode,
    audit: (await api.call('GET', '/audit?limit=500')).json().items.length as number,
  });

  beforeAll(async () => {
    api = await openFullApi(engine);
    erin = await api.createUser('erin');
    fred = await api.createUser('fred');
    visitor = await api.createUser('vic');
    const setup: Array<[string, object]> = [
      ['/roles', { role: 'member', user: 'erin' }],
      ['/roles', { role: 'member', user: 'fred' }],
      ['/roles', { role: 'deployer', user: 'fred', envType: 'production' }],
    ];
    for (const [url, body] of setup) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
    const applied = await api.call('PUT', '/templates/svc', SVC);
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a member without deployer on production with 403 naming the type, and creates nothing', async () => {
    const before = await state('orders');
    const refused = await api.callAs(erin, 'POST', DRY_RUN, ANSWERS);
    expect(refused.statusCode, refused.body).toBe(403);
    const reason =
      'env.create on a production environment needs deployer on environment type production besides owner ' +
      'on app orders, which you would hold as its creator';
    expect(refused.json().detail).toBe(`you may not do this: ${reason}`);
    expect(refused.json().errors).toEqual([
      {
        path: '/setup/environments/1/type',
        message:
          'the template creates prod of type production: ask an admin for deployer on environment type ' +
          'production (`pave roles grant deployer --user erin --env-type production`)',
      },
    ]);
    expect(await state('orders')).toEqual({ ...before, app: 404 });

    // The real instantiation is refused the same way, before it creates anything.
    const real = await api.callAs(erin, 'POST', '/templates/svc/instantiate', ANSWERS);
    expect(real.statusCode, real.body).toBe(403);
    expect(real.json().detail).toBe(`you may not do this: ${reason}`);
    expect((await api.call('GET', '/apps/orders')).statusCode).toBe(404);
  });

  it('allows a member with deployer on production: 200 with what would be created, and creates nothing', async () => {
    const before = await state('orders');
    const allowed = await api.callAs(fred, 'POST', DRY_RUN, ANSWERS);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json()).toEqual({
      template: { id: 'svc', version: 1 },
      app: 'orders',
      environments: [
        { id: 'dev', type: 'development' },
        { id: 'prod', type: 'production' },
      ],
      pendingEnvironments: [{ id: 'preview', type: 'development', from: 'dev' }],
      values: [{ key: 'API_KEY', secret: true }],
      setup: expect.objectContaining({ app: 'orders', deploy: 'dev' }),
      files: ['README.md'],
    });
    expect(await state('orders')).toEqual({ ...before, app: 404 });

    // What the dry run allowed, the real instantiation does.
    const created = await api.callAs(fred, 'POST', '/templates/svc/instantiate', ANSWERS);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().environments.map((env: { id: string }) => env.id)).toEqual(['dev', 'prod']);
  });

  it('runs the real checks: the answers, the secret values, a free app id, and app.create', async () => {
    const before = await state('shop');
    const badAnswers = await api.callAs(fred, 'POST', DRY_RUN, { secrets: { API_KEY: 'key-1' } });
    expect(badAnswers.statusCode).toBe(400);
    expect(badAnswers.json().errors).toEqual([
      { path: '/answers/name', message: expect.stringMatching(/^name: is required/) },
    ]);
    const noSecret = await api.callAs(fred, 'POST', DRY_RUN, { answers: { name: 'shop' } });
    expect(noSecret.statusCode).toBe(400);
    expect(noSecret.json().errors).toEqual([
      { path: '/secrets/API_KEY', message: 'API_KEY: is required (a secret value of the template)' },
    ]);
    const shortSecret = await api.callAs(fred, 'POST', DRY_RUN, {
      answers: { name: 'shop' },
      secrets: { API_KEY: 'k1' },
    });
    expect(shortSecret.statusCode).toBe(400);
    expect(shortSecret.json().errors).toEqual([
      {
        path: '/secrets/API_KEY',
        message: expect.stringMatching(
          /^API_KEY: a secret needs at least 4 characters, .*; give a longer one$/u,
        ),
      },
    ]);
    // orders exists since the test before.
    const taken = await api.callAs(fred, 'POST', DRY_RUN, ANSWERS);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().detail).toBe('app "orders" already exists');
    const noAppCreate = await api.callAs(visitor, 'POST', DRY_RUN, {
      answers: { name: 'shop' },
      secrets: { API_KEY: 'key-1' },
    });
    expect(noAppCreate.statusCode).toBe(403);
    expect(noAppCreate.json().detail).toContain('app.create');
    expect(await state('shop')).toEqual({ ...before, app: 404 });
  });

  it('shows the dryRun flag and both answers in the OpenAPI document', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json();
    const instantiate = doc.paths['/api/v1/templates/{id}/instantiate'].post;
    expect(instantiate.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`)).toEqual(
      expect.arrayContaining(['query:version', 'query:dryRun']),
    );
    expect(Object.keys(instantiate.responses)).toEqual(expect.arrayContaining(['200', '201']));
  });
});
