import type { DeploymentDetail } from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { eventually } from '../../../test/support/processes.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const body = (name: string) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name },
        containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
      },
      dir: '/srv/app',
    },
  ],
});

describe.each(storeEngines)('deleting an environment while it deploys, on %s', (engine) => {
  let api: DeployingApi;
  // The runtime holds every workload's start until the test opens the gate: the deployment stays running.
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const runtime: RuntimeDriver = {
    ...idleRuntime,
    name: 'gated',
    deploy: () => gate,
  };
  const detail = async (env: string, id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/${env}/deployments/${id}`)).json();

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, worker: true });
    for (const [url, payload] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, payload);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
  });
  afterAll(async () => {
    open();
    await api?.cleanup();
  });

  it('refuses while a deployment runs, naming it, keeps the environment, and deletes it once it has finished', async () => {
    gate = new Promise((resolve) => (open = resolve));
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', body('api'));
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    await eventually(
      async () => ((await detail('dev', id)).status === 'running' ? true : undefined),
      10_000,
      `deployment ${id} to run`,
    );

    const refused = await api.call('DELETE', '/apps/shop/envs/dev');
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({
      detail: `environment "dev" of app "shop" cannot be deleted now: deployment ${id} of it is running`,
      errors: [
        { path: 'path.env', message: expect.stringContaining('pave deployments list --app shop --env dev') },
      ],
    });
    const forced = await api.call('DELETE', '/apps/shop?force=true');
    expect(forced.statusCode, forced.body).toBe(409);
    expect((await api.call('GET', '/apps/shop/envs/dev')).statusCode).toBe(200);

    open();
    await eventually(
      async () => ((await detail('dev', id)).status === 'succeeded' ? true : undefined),
      10_000,
      `deployment ${id} to succeed`,
    );
    // At once: a deployment that has finished no longer holds the environment, whatever the worker does next.
    const deleted = await api.call('DELETE', '/apps/shop/envs/dev');
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await api.call('GET', '/apps/shop/envs/dev')).statusCode).toBe(404);
  });

  it('waits for a worker to give the lease back when none of the environment’s deployments runs', async () => {
    expect((await api.call('POST', '/apps/shop/envs', { id: 'qa', type: 'development' })).statusCode).toBe(
      201,
    );
    // A worker between deployments, or done and about to give the lease back: it holds the lease, nothing runs.
    const hold = (owner: string | null) =>
      api.store.db
        .updateTable('environments')
        .set({
          lease_owner: owner,
          lease_until: owner ? new Date(Date.now() + 60_000).toISOString() : null,
        })
        .where('app_id', '=', 'shop')
        .where('id', '=', 'qa')
        .execute();
    await hold('other-replica');
    const released = new Promise((resolve) => setTimeout(resolve, 300)).then(() => hold(null));
    const deleted = await api.call('DELETE', '/apps/shop/envs/qa');
    await released;
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await api.call('GET', '/apps/shop/envs/qa')).statusCode).toBe(404);
  });
});
