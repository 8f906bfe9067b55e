import type { DeploymentDetail, PaveEvent } from '@pave/core';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const SECRET = 'hunter2-correct-horse';

const body = (name: string) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name },
        containers: {
          main: {
            image: 'node:20',
            command: ['node', 'server.js'],
            variables: { DB_PASSWORD: '${resources.env.DB_PASSWORD}' },
          },
        },
        resources: { env: { type: 'environment' } },
      },
      dir: '/srv/app',
    },
  ],
});

/**
 * A runtime that quotes what it was given, as a container engine's or a cluster's validation errors and
 * warnings may: it warns with the workload's environment, and fails to start `broken` saying the same.
 */
let lastEnv = '';
let inspectFails = false;
const quotingRuntime: RuntimeDriver = {
  name: 'quoting',
  deploy: async (_target, workload, ctx) => {
    const env = JSON.stringify(workload.containers[0]?.env);
    lastEnv = env;
    ctx.logger.warn(`container env ${env} looks odd`);
    if (workload.name === 'broken') throw new Error(`invalid container spec: env ${env}`);
  },
  waitReady: async () => ({ ready: true }),
  remove: async () => undefined,
  // As an engine's inspect error may describe the container it found, environment included.
  status: async (): Promise<WorkloadStatus[]> => {
    if (inspectFails) throw new Error(`cannot inspect the container (env ${lastEnv})`);
    return [];
  },
  destroy: async () => undefined,
};

// The secrets a deployment gives its workloads must not reach its journal, its failure reason, the
// deployment.failed event (and so webhooks) through what a runtime says about them.
describe.each(storeEngines)('what a runtime says while it starts workloads, on %s', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: quotingRuntime, worker: true });
    for (const [method, url, payload] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['PATCH', '/apps/shop/envs/dev/values', { set: { DB_PASSWORD: { value: SECRET, secret: true } } }],
    ] as const) {
      const response = await api.call(method, url, payload);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('masks the secrets in a runtime error that quotes them', async () => {
    const failed: DeploymentDetail = await api.deploy('shop', 'dev', body('broken'));
    expect(failed.status).toBe('failed');
    expect(JSON.stringify(failed.journal)).toContain('invalid container spec');
    expect(JSON.stringify(failed)).not.toContain(SECRET);
    expect(failed.reason).toContain('***');
    const events = (await api.call('GET', '/events?app=shop&type=deployment.failed')).json()
      .items as PaveEvent[];
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it("masks the secrets in a runtime's warnings", async () => {
    const deployed: DeploymentDetail = await api.deploy('shop', 'dev', body('api'));
    expect(deployed.status, JSON.stringify(deployed.journal)).toBe('succeeded');
    const warning = deployed.journal.find((entry) => entry.message.includes('looks odd'));
    expect(warning?.message).toContain('"DB_PASSWORD":"***"');
    expect(JSON.stringify(deployed)).not.toContain(SECRET);
  });

  it('masks the secrets in any failed phase, such as the runtime failing to say what runs', async () => {
    inspectFails = true;
    try {
      const failed: DeploymentDetail = await api.deploy('shop', 'dev', body('api'));
      expect(failed.status).toBe('failed');
      expect(failed.reason).toContain('cannot inspect the container');
      expect(failed.reason).toContain('***');
      expect(JSON.stringify(failed)).not.toContain(SECRET);
    } finally {
      inspectFails = false;
    }
  });
});
