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
        { path: 'env', message: expect.stringContaining('pave deployments list --app shop --env dev') },
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
    await eventually(
      async () => ((await api.call('DELETE', '/apps/shop/envs/dev')).statusCode === 204 ? true : undefined),
      10_000,
      'the environment to be deleted',
    );
    expect((await api.call('GET', '/apps/shop/envs/dev')).statusCode).toBe(404);
  });
});
