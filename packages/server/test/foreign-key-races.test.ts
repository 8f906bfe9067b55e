import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review on PostgreSQL: a request that checked an environment (or app) before its transaction, and
 * then wrote rows referring to it after a deletion committed, broke a foreign key and answered 500. Nothing
 * is wrong with such a request: what it refers to was deleted meanwhile.
 */
describe.each(storeEngines)('writes racing a deletion of what they refer to, on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('never answers 500 for values or deployments of an environment deleted at the same moment', async () => {
    const statuses = new Set<number>();
    for (let round = 0; round < 12; round++) {
      const env = `v${round}`;
      expect((await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' })).statusCode).toBe(
        201,
      );
      const answers = await Promise.all([
        api.call('DELETE', `/apps/shop/envs/${env}`),
        api.call('PATCH', `/apps/shop/envs/${env}/values`, {
          set: { GREETING: { value: `hello ${round}` } },
        }),
        api.call('POST', `/apps/shop/envs/${env}/deployments`, {
          workloads: [
            {
              spec: {
                apiVersion: 'score.dev/v1b1',
                metadata: { name: 'web' },
                containers: { web: { image: 'nginx' } },
              },
              dir: '/srv/shop',
            },
          ],
        }),
      ]);
      for (const answer of answers) {
        statuses.add(answer.statusCode);
        expect(answer.statusCode, answer.body).toBeLessThan(500);
      }
    }
    expect(statuses.has(204)).toBe(true);
  });
});
