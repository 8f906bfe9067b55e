import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

/** A workload written for an image: no `command`, which the process runtime needs. */
const imageOnly: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { main: { image: 'nginx:1.27' } },
};

/**
 * A workload the environment's runtime cannot run is refused when the deployment is planned or queued, with
 * the reason and the fix, before anything is provisioned or started (the process runtime and a container
 * without a command: once "cannot run workload" at start).
 */
describe.each(storeEngines)('deploying a workload the runtime cannot run on %s', (engine) => {
  let api: FullApi;
  const call = (method: string, url: string, payload?: object) =>
    api.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${api.token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    api = await openFullApi(engine);
    expect((await call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it.each([false, true])(
    'is refused (plan: %s) naming the container, the runtime and the fix',
    async (plan) => {
      const response = await call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [{ spec: imageOnly, dir: '/srv/web' }],
        ...(plan ? { plan: true } : {}),
      });
      expect(response.statusCode, response.body).toBe(409);
      const problem = response.json();
      expect(problem.detail ?? problem.title).toMatch(
        /process runtime shop\/dev deploys to cannot run this set/,
      );
      expect(problem.errors).toHaveLength(1);
      expect(problem.errors[0].path).toBe('workloads.web.containers.main.command');
      expect(problem.errors[0].message).toMatch(/command/);
      expect(problem.errors[0].message).toMatch(/docker or kubernetes/);
      const listed = await call('GET', '/apps/shop/envs/dev/deployments');
      expect(listed.json().items).toEqual([]);
    },
  );
});
