import type { ScoreWorkload } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1' } },
};

/**
 * Runtimes name what they make for an environment after its app and id joined by a dash (the docker network
 * `pave-<app>-<env>`, the kubernetes namespace `pave-{app}-{env}`), so environment `prod-eu` of app `shop` and
 * environment `eu` of app `shop-prod` would share them: whoever owns the second could overwrite or delete the
 * first's workloads. Creating an environment whose joined name another app's environment already has is
 * refused (409, at `/id`), by every path that creates one: plain, ephemeral, clone. The other app's name is
 * said only to a caller who may see that app.
 */
describe.each(storeEngines)('environments whose runtime names would collide on %s', (engine) => {
  let api: DeployingApi;
  /** Owner of shop-prod only: cannot see shop. */
  let mallory: string;

  const create = (as: string, app: string, body: object) => api.callAs(as, 'POST', `/apps/${app}/envs`, body);
  const exists = async (app: string, env: string) =>
    (await api.call('GET', `/apps/${app}/envs/${env}`)).statusCode === 200;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps', { id: 'shop-prod' }],
      ['/apps/shop/envs', { id: 'prod-eu', type: 'production' }],
      ['/apps/shop-prod/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(201);
    }
    mallory = await api.createUser('mallory');
    for (const grant of [
      { role: 'member', user: 'mallory' },
      { role: 'owner', user: 'mallory', app: 'shop-prod' },
    ]) {
      const granted = await api.call('POST', '/roles', grant);
      expect(granted.statusCode, granted.body).toBe(201);
    }
    const deployed = await api.deploy('shop-prod', 'dev', {
      workloads: [{ spec: workload, dir: '/srv/app' }],
    });
    expect(deployed.status, JSON.stringify(deployed)).toBe('succeeded');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("refuses a caller who cannot see the other app without naming it, and keeps the other app's environment", async () => {
    const refused = await create(mallory, 'shop-prod', { id: 'eu', type: 'development' });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().errors).toEqual([
      { path: '/id', message: expect.stringContaining('choose another id') },
    ]);
    expect(refused.json().detail).toContain('"shop-prod-eu"');
    expect(refused.json().detail).toContain('another app');
    const said = `${refused.json().detail} ${refused.json().errors[0].message}`;
    expect(said).not.toContain('app "shop"');
    expect(said).not.toContain('"prod-eu"');
    expect(await exists('shop-prod', 'eu')).toBe(false);
    expect(await exists('shop', 'prod-eu')).toBe(true);
  });

  it('names the other app and environment to a caller who can see it', async () => {
    const refused = await create(api.token, 'shop-prod', { id: 'eu', type: 'development' });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().detail).toBe(
      'environment "eu" of app "shop-prod" would share the runtime name "shop-prod-eu" with environment ' +
        '"prod-eu" of app "shop" (runtimes name namespaces, networks and containers after it)',
    );
    expect(refused.json().errors).toEqual([
      { path: '/id', message: expect.stringContaining('choose another id') },
    ]);
  });

  it('refuses an ephemeral environment and a clone the same way', async () => {
    const ephemeral = await create(mallory, 'shop-prod', { id: 'eu', type: 'development', ttlSeconds: 3600 });
    expect(ephemeral.statusCode, ephemeral.body).toBe(409);
    expect(ephemeral.json().errors[0].path).toBe('/id');
    const clone = await create(mallory, 'shop-prod', { id: 'eu', type: 'development', from: 'dev' });
    expect(clone.statusCode, clone.body).toBe(409);
    expect(clone.json().detail).toContain('"shop-prod-eu"');
    expect(await exists('shop-prod', 'eu')).toBe(false);
    // Nothing was queued for the refused clone.
    const deployments = await api.store.db
      .selectFrom('deployments')
      .select('id')
      .where('app_id', '=', 'shop-prod')
      .where('env_id', '=', 'eu')
      .execute();
    expect(deployments).toEqual([]);
  });

  it('refuses the other way round and at every dash, and lets names that do not collide through', async () => {
    // shop-prod/dev exists: shop's "prod-dev" would be named like it.
    const reverse = await create(api.token, 'shop', { id: 'prod-dev', type: 'development' });
    expect(reverse.statusCode, reverse.body).toBe(409);
    expect(reverse.json().detail).toContain('environment "dev" of app "shop-prod"');
    for (const [url, body] of [
      ['/apps', { id: 'a-b' }],
      ['/apps', { id: 'a' }],
      ['/apps', { id: 'a-b-c' }],
      ['/apps/a-b/envs', { id: 'c-d', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(201);
    }
    for (const [app, env] of [
      ['a', 'b-c-d'],
      ['a-b-c', 'd'],
    ]) {
      const refused = await create(api.token, app!, { id: env, type: 'development' });
      expect(refused.statusCode, `${app}/${env}: ${refused.body}`).toBe(409);
      expect(refused.json().detail).toContain('environment "c-d" of app "a-b"');
    }
    for (const [app, env] of [
      ['a', 'b-c'],
      ['a-b-c', 'e'],
      ['shop', 'prod'],
      ['shop-prod', 'eu-2'],
    ]) {
      const created = await create(api.token, app!, { id: env, type: 'development' });
      expect(created.statusCode, `${app}/${env}: ${created.body}`).toBe(201);
    }
    // An id taken in the same app is still the plain conflict.
    const again = await create(api.token, 'shop', { id: 'prod-eu', type: 'production' });
    expect(again.statusCode).toBe(409);
    expect(again.json().detail).toBe('app "shop" already has an environment "prod-eu"');
  });

  it('lets one of two colliding environments created at the same moment through', async () => {
    for (const id of ['x', 'x-y']) {
      expect((await api.call('POST', '/apps', { id })).statusCode).toBe(201);
    }
    const answers = await Promise.all([
      create(api.token, 'x', { id: 'y-z', type: 'development' }),
      create(api.token, 'x-y', { id: 'z', type: 'development' }),
    ]);
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 409]);
    expect(Number(await exists('x', 'y-z')) + Number(await exists('x-y', 'z'))).toBe(1);
  });
});
