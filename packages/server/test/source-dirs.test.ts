import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { pushedScoreFile } from './support/artifacts.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review: the directory of a pushed or deployed Score file is documented as absolute, yet any string
 * was taken: a relative one (which the process runtime would resolve against the server's own directory),
 * one with control characters, or one as long as the body allows.
 */
describe.each(storeEngines)('the directory a client names for its Score file, on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const refusals: Array<[string, string, RegExp]> = [
    ['relative', 'srv/shop', /must be an absolute directory/],
    ['the current one', '.', /must be an absolute directory/],
    ['with a control character', '/srv/sh\u0001op', /control character/],
    ['too long', `/${'a'.repeat(4096)}`, /at most 4096 characters/],
  ];

  it.each(refusals)(
    'refuses a pushed Score file whose directory is %s, at its pointer',
    async (_, dir, why) => {
      const response = await api.call('POST', '/apps/shop/artifacts', {
        commit: 'abc1234',
        scoreFiles: [{ ...pushedScoreFile('abc1234'), dir }],
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([
        { path: '/scoreFiles/0/dir', message: expect.stringMatching(why) },
      ]);
    },
  );

  it.each(refusals)(
    'refuses a deployed workload whose directory is %s, at its pointer',
    async (_, dir, why) => {
      const response = await api.call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [
          {
            spec: {
              apiVersion: 'score.dev/v1b1',
              metadata: { name: 'web' },
              containers: { web: { image: 'nginx' } },
            },
            dir,
          },
        ],
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([
        { path: '/workloads/0/dir', message: expect.stringMatching(why) },
      ]);
    },
  );

  it('takes POSIX and Windows absolute directories', async () => {
    for (const [index, dir] of ['/srv/shop', 'C:\\Users\\ann\\shop', '\\\\build\\share\\shop'].entries()) {
      const response = await api.call('POST', '/apps/shop/artifacts', {
        commit: `abc123${index}`,
        scoreFiles: [{ ...pushedScoreFile('x'), dir }],
      });
      expect(response.statusCode, response.body).toBe(201);
    }
  });
});
