import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushedArtifact } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { pushedScoreFile } from './support/artifacts.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review: a rule could be created twice as it was, and two rules whose branches both matched a push
 * (`main` and `*`) each queued the artifact to the same environment, so one push deployed it there twice.
 */
describe.each(storeEngines)('rules that would deploy one push twice on %s', (engine) => {
  let api: FullApi;

  const deploymentsOf = async (env: string): Promise<Array<{ id: string; commit: string | null }>> =>
    (await api.call('GET', `/apps/shop/envs/${env}/deployments`)).json().items;
  const push = async (commit: string, branch: string): Promise<PushedArtifact> => {
    const response = await api.call('POST', '/apps/shop/artifacts', {
      commit,
      branch,
      scoreFiles: [pushedScoreFile(commit)],
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'qa', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a rule that is already there, naming it, and keeps the first', async () => {
    const first = await api.call('POST', '/apps/shop/rules', { env: 'dev', branch: 'main' });
    expect(first.statusCode, first.body).toBe(201);
    const again = await api.call('POST', '/apps/shop/rules', { env: 'dev', branch: 'main' });
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().detail).toContain(`rule ${first.json().id} already deploys branch main`);
    expect(again.json().errors).toEqual([
      { path: '/branch', message: expect.stringContaining(`pave rules delete ${first.json().id}`) },
    ]);
    // The same branch for one workload, or to another environment, is another rule.
    const forApi = await api.call('POST', '/apps/shop/rules', {
      env: 'dev',
      branch: 'main',
      workload: 'api',
    });
    expect(forApi.statusCode, forApi.body).toBe(201);
    const sameForApi = await api.call('POST', '/apps/shop/rules', {
      env: 'dev',
      branch: 'main',
      workload: 'api',
    });
    expect(sameForApi.statusCode, sameForApi.body).toBe(409);
    const toQa = await api.call('POST', '/apps/shop/rules', { env: 'qa', branch: 'main' });
    expect(toQa.statusCode, toQa.body).toBe(201);
    const rules = (await api.call('GET', '/apps/shop/rules')).json().items;
    expect(rules.map((rule: { env: string; workload: string | null }) => [rule.env, rule.workload])).toEqual([
      ['dev', null],
      ['dev', 'api'],
      ['qa', null],
    ]);
  });

  it('queues one deployment per environment when several rules match a push, and says which rule did', async () => {
    const wildcard = await api.call('POST', '/apps/shop/rules', { env: 'dev', branch: '*' });
    expect(wildcard.statusCode, wildcard.body).toBe(201);
    const pushed = await push('d0b1e01', 'main');
    const toDev = pushed.triggered.filter((outcome) => outcome.env === 'dev');
    expect(toDev).toHaveLength(3);
    const [deployed, ...others] = toDev;
    expect(deployed).toMatchObject({ deploymentId: expect.any(String), refused: null });
    for (const other of others) {
      expect(other.deploymentId).toBeNull();
      expect(other.refused).toBe(
        `rule ${deployed!.ruleId} already deploys artifact ${pushed.id} to shop/dev (deployment ${deployed!.deploymentId})`,
      );
    }
    expect(pushed.triggered.find((outcome) => outcome.env === 'qa')).toMatchObject({
      deploymentId: expect.any(String),
      refused: null,
    });
    expect((await deploymentsOf('dev')).filter((d) => d.commit === 'd0b1e01')).toHaveLength(1);
    expect((await deploymentsOf('qa')).filter((d) => d.commit === 'd0b1e01')).toHaveLength(1);
  });
});
