import type { ScoreWorkload } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSet } from '../src/domain/deployments/sets.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1' } },
};

/**
 * `pave render --target <id>`: rendering an environment for a target it does not run on previews a move there
 * (a process environment rendered as a kubernetes target would apply it). The target's settings show in the
 * manifests (its namespace), so that needs what reading the target needs; a target that does not exist is a
 * clear 404 naming the parameter.
 */
describe.each(storeEngines)('`pave render` for a named target on %s', (engine) => {
  let api: FullApi;
  let dave: string;

  beforeAll(async () => {
    api = await openFullApi(engine);
    const setup: Array<[string, string, object]> = [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['POST', '/apps/shop/envs', { id: 'stage', type: 'staging' }],
      [
        'POST',
        '/runtime-targets/apply',
        {
          targets: [
            {
              id: 'cluster',
              type: 'kubernetes',
              config: { namespacePattern: 'team-{app}-{env}' },
              criteria: [{ envType: 'staging' }],
            },
            {
              id: 'hidden-cluster',
              type: 'kubernetes',
              config: { namespacePattern: 'private-{app}-{env}' },
              criteria: [{ envType: 'production' }],
            },
          ],
        },
      ],
      ['PATCH', '/apps/shop/values', { set: { API_KEY: { value: 'render-s3cret', secret: true } } }],
    ];
    for (const [method, url, body] of setup) {
      const response = await api.call(method as 'POST', url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const setId = await saveSet(api.store.db, { api: { spec: workload, dir: '/tmp' } });
    await api.store.db
      .updateTable('environments')
      .set({ current_set_id: setId })
      .where('app_id', '=', 'shop')
      .execute();
    dave = await api.createUser('dave');
    const granted = await api.call('POST', '/roles', { role: 'developer', user: 'dave', app: 'shop' });
    expect(granted.statusCode, granted.body).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('answers 404 naming query.target for a target that does not exist', async () => {
    const response = await api.call('GET', '/apps/shop/envs/stage/render?target=nowhere');
    expect(response.statusCode, response.body).toBe(404);
    expect(response.json().errors).toEqual([
      { path: 'query.target', message: expect.stringContaining('`pave targets list`') },
    ]);
  });

  it('renders a process environment as a kubernetes target would apply it, for one who may read the target', async () => {
    const response = await api.call('GET', '/apps/shop/envs/dev/render?target=cluster');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({ format: 'kubernetes', target: 'cluster', type: 'kubernetes' });
    expect(response.json().manifests).toContain('team-shop-dev');
  });

  it("renders for the environment's own target, named or not, for a developer who may not read targets", async () => {
    for (const url of ['/apps/shop/envs/stage/render', '/apps/shop/envs/stage/render?target=cluster']) {
      const response = await api.callAs(dave, 'GET', url);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
      expect(response.json().target).toBe('cluster');
    }
  });

  it('refuses a developer who renders for another target, existing or not, naming target.read', async () => {
    for (const target of ['hidden-cluster', 'nowhere']) {
      const response = await api.callAs(dave, 'GET', `/apps/shop/envs/dev/render?target=${target}`);
      expect(response.statusCode, `${target}: ${response.body}`).toBe(403);
      expect(response.json().detail).toContain('target.read');
      expect(response.body).not.toContain('private-shop-dev');
      expect(response.body).not.toContain('render-s3cret');
    }
  });
});
