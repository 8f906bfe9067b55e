import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Defects an adversarial review of the REST API found: each test is the reproduction, and passes only once
 * the defect is fixed.
 */
describe.each(storeEngines)('the REST API under review on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
    const setup: Array<[string, object]> = [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['/apps/shop/envs', { id: 'staging', type: 'staging' }],
    ];
    for (const [url, body] of setup) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  /** A 4xx problem whose `errors` name `path`, and no more than a request id about what went wrong inside. */
  const expectProblemAt = (
    response: { statusCode: number; body: string; headers: Record<string, unknown>; json(): unknown },
    status: number,
    path: string,
  ) => {
    expect(response.statusCode, response.body).toBe(status);
    expect(String(response.headers['content-type'])).toContain('application/problem+json');
    const problem = response.json() as { errors: Array<{ path: string; message: string }> };
    expect(problem.errors.map((error) => error.path)).toContain(path);
  };

  it('refuses ids, cursors and versions too large for the store with 400 naming them, not 500', async () => {
    // Far beyond a 64-bit integer: PostgreSQL refuses to compare a bigint column with it.
    const huge = '99999999999999999999';
    // Beyond a 32-bit integer: PostgreSQL refuses to compare an integer column with it.
    const beyondInt = 2_147_483_648;
    const cases: Array<
      [method: 'GET' | 'POST' | 'DELETE', url: string, body: object | undefined, path: string]
    > = [
      ['GET', `/apps/shop/artifacts/${huge}`, undefined, 'path.id'],
      ['DELETE', `/apps/shop/rules/${huge}`, undefined, 'path.id'],
      ['GET', `/apps/shop/envs/dev/deployments/${huge}`, undefined, 'path.id'],
      ['POST', `/apps/shop/envs/dev/deployments/${huge}/cancel`, undefined, 'path.id'],
      ['GET', `/apps/shop/envs/dev/deployments?cursor=${huge}`, undefined, 'query.cursor'],
      ['GET', `/apps/shop/envs/dev/diff?from=1&to=${huge}`, undefined, 'query.to'],
      ['GET', `/audit?cursor=${huge}`, undefined, 'query.cursor'],
      ['POST', '/apps/shop/envs/dev/deployments', { artifact: huge }, '/artifact'],
      ['POST', '/apps/shop/envs/dev/deployments', { fromDeployment: huge }, '/fromDeployment'],
      ['POST', '/apps/shop/envs/dev/rollback', { deploymentId: huge }, '/deploymentId'],
      ['POST', '/apps/shop/envs/dev/values/rollback', { version: beyondInt }, '/version'],
      ['GET', `/templates/web-service?version=${beyondInt}`, undefined, 'query.version'],
    ];
    for (const [method, url, body, path] of cases) {
      const response = await api.call(method, url, body);
      expectProblemAt(response, 400, path);
    }
    // Approvals look the deployment up before the request is validated: no such deployment.
    for (const decision of ['approve', 'reject']) {
      const response = await api.call('POST', `/approvals/${huge}/${decision}`, { comment: 'no' });
      expectProblemAt(response, 404, 'path.id');
    }
  });

  it('refuses deployment ids given with toEnv in a diff instead of ignoring them', async () => {
    const both = await api.call('GET', '/apps/shop/envs/dev/diff?toEnv=staging&from=1&to=2');
    expectProblemAt(both, 400, 'query.from');
    expect(both.json().errors.map((error: { path: string }) => error.path)).toEqual([
      'query.from',
      'query.to',
    ]);
    expectProblemAt(await api.call('GET', '/apps/shop/envs/dev/diff?toEnv=staging&to=2'), 400, 'query.to');
    const environments = await api.call('GET', '/apps/shop/envs/dev/diff?toEnv=staging');
    expect(environments.statusCode, environments.body).toBe(200);
    expect(environments.json().to.label).toBe('shop/staging');
  });

  it('looks up the deployment a diff names as from where nothing is deployed yet, not answering nothing vs nothing', async () => {
    const missing = await api.call('GET', '/apps/shop/envs/dev/diff?from=41');
    expectProblemAt(missing, 404, 'query.from');
    expect(missing.json().detail).toBe('deployment 41 of shop/dev not found');
    const nothing = await api.call('GET', '/apps/shop/envs/dev/diff');
    expect(nothing.statusCode, nothing.body).toBe(200);
    expect(nothing.json()).toMatchObject({ from: { label: 'nothing' }, to: { label: 'nothing' } });
  });
});
