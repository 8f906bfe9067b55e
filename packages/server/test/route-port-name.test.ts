import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * Found by a Score-conformance review: score-compose's route example names the workload's port (`port: web`),
 * and docs/resources.md says a route goes to "the workload's port named by the route"; the route driver
 * refused anything but a number. The server gives the driver the named port's number.
 */
const routed = (port: unknown): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
  service: { ports: { web: { port: 80, targetPort: 3000 }, admin: { port: 9000 } } },
  resources: { route: { type: 'route', params: { host: 'api.dev.shop.localhost', path: '/', port } } },
});

describe.each(storeEngines)("a route's port named by service.ports, on %s", (engine) => {
  let api: DeployingApi;
  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("is routed to that port, whose number the route's outputs hold", async () => {
    const deployed = await api.deploy('shop', 'dev', {
      workloads: [{ spec: routed('web'), dir: '/srv/api' }],
    });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    const web = await api.store.db
      .selectFrom('port_allocations')
      .select('host_port')
      .where('workload', '=', 'api')
      .where('port_name', '=', 'web')
      .executeTakeFirstOrThrow();
    const routes = await api.store.db.selectFrom('routes').select(['host', 'host_port']).execute();
    expect(routes.map((route) => ({ host: route.host, hostPort: Number(route.host_port) }))).toEqual([
      { host: 'api.dev.shop.localhost', hostPort: Number(web.host_port) },
    ]);
    const resources = (await api.call('GET', '/apps/shop/envs/dev/resources')).json().items as Array<{
      address: string;
      values: Record<string, string>;
    }>;
    expect(resources.find((item) => item.address === 'api.route')?.values).toMatchObject({ port: '80' });
  });

  it('is refused before anything is deployed when service.ports lacks the name', async () => {
    const refused = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: routed('wbe'), dir: '/srv/api' }],
      plan: true,
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors).toContainEqual({
      path: 'workloads.api.resources.route.params.port',
      message: expect.stringContaining('"wbe" is not a port of service.ports'),
    });
  });
});
