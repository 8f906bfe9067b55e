import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by a review of bad input: a route that declares no query parameters ignored any it was given, so
 * `POST …/deployments?plan=true` queued a real deployment and `POST /resource-definitions/apply?dryRun=true`
 * applied (both take `plan` and `dryRun` in the body); the templates' routes ignored `?dryrun=true`.
 */
describe.each(storeEngines)('query parameters a route does not take, on %s', (engine) => {
  let api: FullApi;
  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const workload = {
    dir: '/srv/app',
    spec: {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'api' },
      containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
    },
  };

  it.each([
    ['POST', '/apps/shop/envs/dev/deployments?plan=true', { workloads: [workload] }, 'plan'],
    [
      'POST',
      '/resource-definitions/apply?dryRun=true',
      { definitions: [{ id: 'typo-def', type: 'thing', driver: 'static', driverInputs: { values: {} } }] },
      'dryRun',
    ],
    [
      'POST',
      '/policies/apply?dryRun=true',
      { policies: [{ id: 'typo-policy', severity: 'warn', message: 'm', rule: 'true' }] },
      'dryRun',
    ],
    ['POST', '/templates/static-site/instantiate?dryrun=true', { answers: { name: 'typo-app' } }, 'dryrun'],
    ['GET', '/apps/shop?verbose=1', undefined, 'verbose'],
  ] as const)(
    '%s %s is refused, naming the parameter, and changes nothing',
    async (method, url, body, name) => {
      const before = (await api.call('GET', '/audit?limit=500')).json().items.length as number;
      const response = await api.call(method, url, body);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().errors).toEqual([
        { path: `query.${name}`, message: 'is not a known field; remove it (see /api/v1/openapi.json)' },
      ]);
      expect((await api.call('GET', '/audit?limit=500')).json().items.length).toBe(before);
    },
  );

  it('still takes the parameters a route declares', async () => {
    const planned = await api.call('POST', '/resource-definitions/apply', {
      dryRun: true,
      definitions: [{ id: 'typo-def', type: 'thing', driver: 'static', driverInputs: { values: {} } }],
    });
    expect(planned.statusCode, planned.body).toBe(200);
    expect((await api.call('GET', '/apps?limit=1')).statusCode).toBe(200);
  });
});
