import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by a review of bad input: a value that fits none of a union's forms (a policy's freeze, a container's
 * files or volumes) was answered with zod's "Invalid input" at the union, saying neither what nor how.
 */
describe.each(storeEngines)("a value that fits none of a field's forms, on %s", (engine) => {
  let api: FullApi;
  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('is reported inside the value, at what the form it came closest to misses', async () => {
    const policy = (freeze: object) => ({
      policies: [{ id: 'friday', severity: 'deny', message: 'no deploys on Friday', freeze }],
    });
    const recurring = await api.call('POST', '/policies/apply', policy({ schedule: '0 16 * * FRI' }));
    expect(recurring.statusCode).toBe(400);
    expect(recurring.json().errors).toEqual([
      { path: '/policies/0/freeze/duration', message: 'Invalid input: expected string, received undefined' },
    ]);
    const fixed = await api.call('POST', '/policies/apply', policy({ from: '2026-12-24T00:00:00Z' }));
    expect(fixed.json().errors).toEqual([
      { path: '/policies/0/freeze/to', message: 'Invalid input: expected string, received undefined' },
    ]);
  });

  it("points at a container file's content of the wrong type", async () => {
    const response = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [
        {
          dir: '/srv/app',
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: { main: { image: 'nginx', files: { '/etc/app.conf': { content: 5 } } } },
          },
        },
      ],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      {
        path: '/workloads/0/spec/containers/main/files/~1etc~1app.conf/content',
        message: expect.stringMatching(/expected string, received number/u),
      },
    ]);
  });
});
