import type { Approval, Deployment } from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const SECRET_BEFORE = 'hunter2-before';
const SECRET_AFTER = 'hunter2-after';

const body = (image: string) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'api' },
        containers: {
          main: {
            image,
            command: ['node', 'server.js'],
            variables: { FOO: '${resources.env.FOO}' },
          },
        },
        resources: { env: { type: 'environment' } },
      },
      dir: '/srv/shop',
    },
  ],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The approver sees the configuration a deployment will run with against what runs now, and the deployment
// runs with exactly that configuration: its values version is pinned when it is asked for.
describe.each(storeEngines)('the values of a deployment awaiting approval, on %s', (engine) => {
  let api: DeployingApi;
  const tokens: Record<string, string> = {};
  /** FOO as each deployment of prod ran it. */
  const ran: string[] = [];
  const recording: RuntimeDriver = {
    ...idleRuntime,
    deploy: async (target, workload) => {
      if (target.env === 'prod') ran.push(workload.containers[0]!.env.FOO ?? '');
    },
  };

  const accepted = (response: LightMyRequestResponse) => {
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  };
  const settled = (env: string, id: string) => api.finished('shop', env, id);
  const setValues = async (
    env: string,
    set: Record<string, { value: string; secret?: boolean }>,
    unset?: string[],
  ) =>
    accepted(
      await api.callAs(tokens.alice!, 'PATCH', `/apps/shop/envs/${env}/values`, {
        set,
        ...(unset ? { unset } : {}),
      }),
    );
  const valuesVersion = async (env: string): Promise<number> =>
    (await api.call('GET', `/apps/shop/envs/${env}/values`)).json().version;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: recording, worker: true });
    for (const [method, url, payload] of [
      ['PATCH', '/env-types/production', { requiresApproval: true }],
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'staging', type: 'staging' }],
      ['POST', '/apps/shop/envs', { id: 'prod', type: 'production' }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const user of ['alice', 'bob']) tokens[user] = await api.createUser(user);
    for (const [user, role, scope] of [
      ['alice', 'developer', { app: 'shop' }],
      ['alice', 'deployer', { envType: 'production' }],
      ['bob', 'viewer', { app: 'shop' }],
      ['bob', 'approver', { envType: 'production' }],
    ] as const) {
      const granted = await api.call('POST', '/roles', { role, user, ...scope });
      expect(granted.statusCode, granted.body).toBe(201);
    }
    await sleep(1_100);
    await setValues('staging', { FOO: { value: 'staging' } });
    await setValues('prod', {
      FOO: { value: 'one' },
      GONE: { value: 'old' },
      TOKEN: { value: SECRET_BEFORE, secret: true },
    });
    const first = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', body('node:20')),
    ) as Deployment;
    accepted(await api.callAs(tokens.bob!, 'POST', `/approvals/${first.id}/approve`, {}));
    expect((await settled('prod', first.id)).status).toBe('succeeded');
    const staged = accepted(
      await api.call('POST', '/apps/shop/envs/staging/deployments', body('node:22')),
    ) as Deployment;
    expect((await settled('staging', staged.id)).status).toBe('succeeded');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('shows the value changes against what runs now, never a secret, and runs the values approved', async () => {
    expect(ran).toEqual(['one']);
    // Values set alone need no approval: they take effect with the next deployment.
    await setValues(
      'prod',
      { FOO: { value: 'two' }, BAR: { value: 'new' }, TOKEN: { value: SECRET_AFTER, secret: true } },
      ['GONE'],
    );
    const asked = await valuesVersion('prod');

    const promoted = accepted(
      await api.callAs(tokens.alice!, 'POST', '/apps/shop/envs/prod/deployments', { fromEnv: 'staging' }),
    ) as Deployment;
    expect(promoted.status).toBe('awaiting-approval');
    // Pinned when asked for.
    expect(promoted.valuesVersion).toBe(asked);

    const response = await api.callAs(tokens.bob!, 'GET', `/approvals/${promoted.id}`);
    const approval = accepted(response) as Approval;
    expect(response.body).not.toContain(SECRET_BEFORE);
    expect(response.body).not.toContain(SECRET_AFTER);
    expect(approval.deployment.valuesVersion).toBe(asked);
    expect(approval.diff.values).toEqual([
      { key: 'BAR', action: 'added', secret: false, to: 'new' },
      { key: 'FOO', action: 'changed', secret: false, from: 'one', to: 'two' },
      { key: 'GONE', action: 'removed', secret: false, from: 'old' },
      { key: 'TOKEN', action: 'changed', secret: true },
    ]);
    expect(approval.summary).toContain('4 value change(s)');
    expect(approval.diff.changes).toMatchObject([{ workload: 'api', action: 'update' }]);
    const listed = accepted(await api.callAs(tokens.bob!, 'GET', '/approvals?app=shop')).items as Approval[];
    expect(listed.find((item) => item.id === promoted.id)?.diff.values).toEqual(approval.diff.values);

    // Changed again after it was asked for: the deployment still runs what was approved.
    await setValues('prod', { FOO: { value: 'three' } });
    accepted(await api.callAs(tokens.bob!, 'POST', `/approvals/${promoted.id}/approve`, {}));
    const done = await settled('prod', promoted.id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    expect(done.valuesVersion).toBe(asked);
    expect(ran).toEqual(['one', 'two']);
  });
});
