import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRuntime } from '@pave/plugin-api/testing';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

/**
 * Whether an environment's logs can be streamed is its target's runtime's answer: the server's runtime (the
 * router) serves every target, so its own `logs` says nothing about one target's. A runtime without `logs`
 * gets the documented 204, which the portal shows as "this runtime keeps no logs".
 */
describe.each(storeEngines)('the log stream of an environment on %s', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    // Like the server: a router over the runtimes Pave ships. Process targets at isolation `none` run on a
    // runtime that streams logs, the others (the built-in `local` target) on one that cannot.
    const streaming = new FakeRuntime({ serveHttp: false });
    api = await openDeployingApi(engine, {
      processRuntime: () => ({ isolated: (level) => (level === 'none' ? streaming : idleRuntime) }),
    });
    const ok = async (method: 'POST', url: string, body: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    };
    await ok('POST', '/apps', { id: 'shop' });
    await ok('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    await ok('POST', '/apps/shop/envs', { id: 'live', type: 'development' });
    await ok('POST', '/runtime-targets/apply', {
      targets: [
        { id: 'streaming', type: 'process', config: { isolation: 'none' }, criteria: [{ envId: 'live' }] },
      ],
    });
    // `live` runs on the streaming target (as after its first deployment); `dev` on `local`.
    await api.store.db
      .updateTable('environments')
      .set({ runtime_target: 'streaming' })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'live')
      .execute();
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("answers 204 with no body when the environment's runtime cannot stream logs", async () => {
    const response = await api.call('GET', '/apps/shop/envs/dev/logs');
    expect(response.statusCode, response.body).toBe(204);
    expect(response.body).toBe('');
    // Naming a workload changes nothing: the runtime has no logs of any.
    expect((await api.call('GET', '/apps/shop/envs/dev/logs?workload=api')).statusCode).toBe(204);
  });

  it('streams the logs of an environment whose runtime can', async () => {
    const response = await api.call('GET', '/apps/shop/envs/live/logs');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/u);
    expect(response.body).toContain('event: end');
    expect(response.body).not.toContain('event: error');
  });
});
