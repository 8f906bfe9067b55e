import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushedArtifact } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { pushedScoreFile } from './support/artifacts.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * A rule checked only its creator's roles, while whoever pushed the artifact chose what it deploys: a
 * developer without deployer on production could not deploy there, nor make a rule that does, yet could push
 * any Score files on the rule's branch and have a deployer's rule deploy them to production.
 */
describe.each(storeEngines)('what a rule deploys for the person who pushed it on %s', (engine) => {
  let api: FullApi;
  const tokens: Record<string, string> = {};

  const as: FullApi['callAs'] = (...args) => api.callAs(...args);
  const push = async (token: string, commit: string): Promise<PushedArtifact> => {
    const response = await as(token, 'POST', '/apps/shop/artifacts', {
      commit,
      branch: 'main',
      scoreFiles: [pushedScoreFile(commit)],
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };
  const deploymentsOf = async (env: string): Promise<Array<{ id: string; commit: string | null }>> =>
    (await api.call('GET', `/apps/shop/envs/${env}/deployments`)).json().items;

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const username of ['dave', 'dora']) tokens[username] = await api.createUser(username);
    const setup: Array<[string, object]> = [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'prod', type: 'production' }],
      ['/roles', { role: 'developer', user: 'dave', app: 'shop' }],
      ['/roles', { role: 'developer', user: 'dora', app: 'shop' }],
      ['/roles', { role: 'deployer', user: 'dora', envType: 'production' }],
    ];
    for (const [url, body] of setup) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
    for (const env of ['dev', 'prod']) {
      const rule = await as(tokens.dora!, 'POST', '/apps/shop/rules', { env, branch: 'main' });
      expect(rule.statusCode, rule.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('does not deploy to production what a developer without deployer pushed, and says why', async () => {
    const pushed = await push(tokens.dave!, 'd4ve001');
    const [dev, prod] = pushed.triggered;
    expect(dev).toMatchObject({ env: 'dev', deploymentId: expect.any(String), refused: null });
    expect(prod).toMatchObject({ env: 'prod', deploymentId: null });
    expect(prod!.refused).toContain('dave, who pushed the artifact, may not deploy to shop/prod');
    expect(prod!.refused).toContain('deployer on environment type production');
    expect((await deploymentsOf('prod')).map((d) => d.commit)).not.toContain('d4ve001');
    const events = (await api.call('GET', '/events?app=shop&env=prod&type=rule.triggered')).json().items;
    expect(events.at(-1).data).toMatchObject({ artifactId: pushed.id, deploymentId: null });
  });

  it('deploys to production what a deployer pushed', async () => {
    const pushed = await push(tokens.dora!, 'd0ra001');
    expect(pushed.triggered.map((t) => [t.env, t.refused])).toEqual([
      ['dev', null],
      ['prod', null],
    ]);
    expect((await deploymentsOf('prod')).map((d) => d.commit)).toContain('d0ra001');
  });
});
