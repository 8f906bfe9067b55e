import type { DeploymentDetail, PaveEvent } from '@pave/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const PASSWORD = 'a long enough password';

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

describe.each(storeEngines)('cancelling a deployment on %s', (engine) => {
  // No worker: deployments stay queued until the test runs one.
  let api: DeployingApi;
  let viewer: string;

  const queue = async (name: string) => {
    const response = await api.call('POST', '/apps/shop/envs/dev/deployments', body(name));
    expect(response.statusCode, response.body).toBe(202);
    return response.json().id as string;
  };
  const detail = async (id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    for (const [method, url, payload] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['POST', '/users', { username: 'vera', password: PASSWORD }],
      ['POST', '/roles', { role: 'viewer', user: 'vera', app: 'shop' }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const login = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'vera', password: PASSWORD },
    });
    viewer = login.json().token;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('cancels a queued deployment: it never runs, the next one does, and the change is audited and an event', async () => {
    const first = await queue('api');
    const second = await queue('web');
    const refused = await api.app.inject({
      method: 'POST',
      url: `/api/v1/apps/shop/envs/dev/deployments/${first}/cancel`,
      headers: { authorization: `Bearer ${viewer}` },
    });
    expect(refused.statusCode).toBe(403);

    const cancelled = await api.call('POST', `/apps/shop/envs/dev/deployments/${first}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: first, status: 'cancelled' });
    expect(cancelled.json().reason).toBe('cancelled by admin before it started');

    const worker = new DeploymentWorker({
      store: api.store,
      runtime: idleRuntime,
      box: api.box,
      resourceDrivers: undefined as never,
      logger: pino({ level: 'silent' }),
    });
    worker.start();
    try {
      for (let i = 0; i < 200 && (await detail(second)).status !== 'succeeded'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await worker.stop();
    }
    expect((await detail(second)).status).toBe('succeeded');
    const never = await detail(first);
    expect(never.status).toBe('cancelled');
    expect(never.startedAt).toBeNull();
    expect(never.journal.map((entry) => entry.step)).toEqual(['cancel']);

    const events: PaveEvent[] = (await api.call('GET', '/events?app=shop&type=deployment.cancelled')).json()
      .items;
    expect(events).toMatchObject([
      { actor: 'admin', env: 'dev', data: { deploymentId: first, status: 'cancelled', kind: 'deploy' } },
    ]);
    const audit = (await api.call('GET', '/audit?app=shop')).json().items as Array<{
      action: string;
      target: string;
    }>;
    expect(audit.filter((entry) => entry.action === 'deployment.cancel')).toMatchObject([
      { target: `apps/shop/envs/dev/deployments/${first}` },
    ]);
  });

  it('refuses to cancel a deployment that has started or finished, saying why', async () => {
    const done = (await api.call('GET', '/apps/shop/envs/dev/deployments')).json().items[0].id as string;
    const finished = await api.call('POST', `/apps/shop/envs/dev/deployments/${done}/cancel`);
    expect(finished.statusCode).toBe(409);
    expect(finished.json().detail).toContain('it has already succeeded');

    const running = await queue('api');
    await api.store.db
      .updateTable('deployments')
      .set({ status: 'running' })
      .where('id', '=', Number(running))
      .execute();
    const response = await api.call('POST', `/apps/shop/envs/dev/deployments/${running}/cancel`);
    expect(response.statusCode).toBe(409);
    expect(response.json().detail).toContain('it is running');
    expect((await detail(running)).status).toBe('running');

    const missing = await api.call('POST', '/apps/shop/envs/dev/deployments/999/cancel');
    expect(missing.statusCode).toBe(404);
  });
});
