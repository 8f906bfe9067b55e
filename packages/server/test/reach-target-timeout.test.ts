import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeDriver } from '@pave/plugin-api';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * A runtime target that never answers (a cluster API behind a firewall that drops packets): the reach-target
 * phase gives up at the deployment's timeout, saying so, before anything is provisioned. The runtime honours
 * its context's signal, as every driver must.
 */
describe.each(storeEngines)('a runtime target that does not answer, on %s', (engine) => {
  let api: DeployingApi;
  let asked = 0;
  const silent: RuntimeDriver = {
    ...idleRuntime,
    status: (_target, ctx) => {
      asked++;
      return new Promise((_resolve, reject) =>
        ctx.signal.addEventListener('abort', () => reject(new Error('This operation was aborted')), {
          once: true,
        }),
      );
    },
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: silent, worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it("fails in reach target at the deployment's timeout, naming it, with nothing started", async () => {
    const failed = await api.deploy('shop', 'dev', {
      workloads: [
        {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'node:20', command: ['node', 'api.js'] } },
          },
          dir: '/srv/shop',
        },
      ],
      timeoutSeconds: 1,
    });
    expect(failed.status).toBe('failed');
    expect(asked).toBe(1);
    expect(failed.reason).toBe(
      "reach target failed (idle): the runtime target did not answer within 1 s, the deployment's timeout " +
        '(--timeout); check that the control plane can reach it',
    );
    expect(failed.journal.map((entry) => entry.step)).not.toContain('start');
  });
});
