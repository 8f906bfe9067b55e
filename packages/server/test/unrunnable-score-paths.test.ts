import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

/** A workload the process runtime refuses for a volume path and a probe host: before anything is provisioned. */
const refused: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: {
    main: {
      image: 'node:20',
      command: ['node', 'server.js'],
      volumes: { '/data': { source: '${resources.data}', path: 'sub' } },
      readinessProbe: { httpGet: { host: 'db.internal', path: '/', port: 8080 } },
    },
  },
  service: { ports: { http: { port: 8080 } } },
  resources: { data: { type: 'volume' } },
};

describe.each(storeEngines)('a set the process runtime cannot run on %s', (engine) => {
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

  it.each([false, true])('is refused (plan: %s) at the Score paths, nothing queued', async (plan) => {
    const response = await call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: refused, dir: '/srv/web' }],
      ...(plan ? { plan: true } : {}),
    });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json().errors.map((error: { path: string }) => error.path)).toEqual([
      'workloads.web.containers.main.volumes["/data"].path',
      'workloads.web.containers.main.readinessProbe.httpGet.host',
    ]);
    expect((await call('GET', '/apps/shop/envs/dev/deployments')).json().items).toEqual([]);
  });
});
