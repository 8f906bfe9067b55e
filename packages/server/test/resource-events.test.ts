import type { PaveEvent } from '@pave/core';
import { FakeResourceDriver } from '@pave/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** A workload that needs one redis, provisioned by the test's own driver through a definition. */
const workload = (resources: Record<string, { type: string }>) => ({
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'api' },
    containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
    resources,
  },
  dir: '/srv/app',
});

describe.each(storeEngines)('resource events on %s', (engine) => {
  let api: DeployingApi;
  const driver = new FakeResourceDriver('fake-redis');

  const events = async (query: string): Promise<PaveEvent[]> => {
    const response = await api.call('GET', `/events${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true, resourceDrivers: [driver] });
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      [
        'POST',
        '/resource-definitions/apply',
        { definitions: [{ id: 'test-redis', type: 'redis', driver: 'fake-redis', criteria: [{}] }] },
      ],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('records each resource a deployment provisions, naming the deployment, and each one it deletes', async () => {
    const deployed = await api.deploy('shop', 'dev', { workloads: [workload({ cache: { type: 'redis' } })] });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    const [provisioned] = await events('?app=shop&type=resource.provisioned');
    expect(provisioned).toMatchObject({
      app: 'shop',
      env: 'dev',
      actor: 'admin',
      data: {
        resource: 'api.cache',
        type: 'redis',
        class: 'default',
        definition: 'test-redis',
        driver: 'fake-redis',
        deploymentId: deployed.id,
        change: 'created',
      },
    });
    const started = (await events('?app=shop&type=deployment.started')).at(-1)!;
    const succeeded = (await events('?app=shop&type=deployment.succeeded')).at(-1)!;
    expect(Number(provisioned!.id)).toBeGreaterThan(Number(started.id));
    expect(Number(provisioned!.id)).toBeLessThan(Number(succeeded.id));

    const pruned = await api.deploy('shop', 'dev', {
      workloads: [workload({})],
      prune: true,
      allowDataLoss: true,
    });
    expect(pruned.status, pruned.reason ?? '').toBe('succeeded');
    const [deleted] = await events('?app=shop&type=resource.deleted');
    expect(deleted).toMatchObject({
      actor: 'admin',
      data: { resource: 'api.cache', driver: 'fake-redis', deploymentId: pruned.id },
    });
  });

  it('records a resource its driver could not create, with what the driver said', async () => {
    driver.fail('create', { message: 'out of memory on the cache host', times: 1 });
    const failed = await api.deploy('shop', 'dev', { workloads: [workload({ cache: { type: 'redis' } })] });
    expect(failed.status).toBe('failed');
    const [event] = await events('?app=shop&type=resource.failed');
    expect(event).toMatchObject({ data: { resource: 'api.cache', deploymentId: failed.id } });
    expect((event!.data as { reason: string }).reason).toContain('out of memory on the cache host');
  });

  it('records the resources an environment deletion deletes, as the person who deleted it', async () => {
    const deployed = await api.deploy('shop', 'dev', { workloads: [workload({ cache: { type: 'redis' } })] });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    const before = (await events('?app=shop')).at(-1)!.id;
    const deleted = await api.call('DELETE', '/apps/shop/envs/dev');
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    const after = await events(`?app=shop&after=${before}`);
    expect(after.map((e) => e.type)).toEqual(['resource.deleted', 'environment.deleted']);
    expect(after[0]).toMatchObject({ actor: 'admin', data: { resource: 'api.cache', deploymentId: null } });
  });
});
