import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeDriver } from '@pave/plugin-api';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * A workload that is not ready had its last log lines copied into the deployment's reason, its journal and
 * its deployment.failed event (which webhooks send out of Pave) as it printed them: a workload that echoes
 * its environment as it crashes put its secrets there in plaintext.
 */
describe.each(storeEngines)('the last log lines of a workload that is not ready, on %s', (engine) => {
  let api: DeployingApi;
  const secret = `s3cret-${Math.random().toString(36).slice(2)}`;
  // Prints what a crashing workload would: its environment, secret value included.
  const runtime: RuntimeDriver = {
    ...idleRuntime,
    name: 'crashing',
    waitReady: async () => ({
      ready: false,
      reason: `container "main" exited with code 1 (DB_PASSWORD=${secret})`,
      lastLogs: [`connecting with DB_PASSWORD=${secret}`, 'connection refused', 'LOG_LEVEL=debug'],
    }),
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, worker: true });
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      [
        'PATCH',
        '/apps/shop/envs/dev/values',
        { set: { DB_PASSWORD: { value: secret, secret: true }, LOG_LEVEL: { value: 'debug' } } },
      ],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('are kept, with the secrets Pave gave the workload masked, in the reason, journal and event', async () => {
    const deployment = await api.deploy('shop', 'dev', {
      workloads: [
        {
          dir: '/srv/app',
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: {
              main: {
                image: 'node:20',
                command: ['node', 'server.js'],
                variables: {
                  DB_PASSWORD: '${resources.env.DB_PASSWORD}',
                  LOG_LEVEL: '${resources.env.LOG_LEVEL}',
                },
              },
            },
            resources: { env: { type: 'environment' } },
          },
        },
      ],
    });
    expect(deployment.status).toBe('failed');
    const shown = (await api.call('GET', `/apps/shop/envs/dev/deployments/${deployment.id}`)).body;
    const events = (await api.call('GET', '/events?app=shop&type=deployment.failed')).body;
    for (const text of [shown, events]) {
      expect(text).not.toContain(secret);
      expect(text).toContain('connecting with DB_PASSWORD=***');
      // Plain values stay readable.
      expect(text).toContain('LOG_LEVEL=debug');
    }
    expect(deployment.reason).toContain('exited with code 1 (DB_PASSWORD=***)');
  });
});
