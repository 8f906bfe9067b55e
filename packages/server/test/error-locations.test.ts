import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/* Found by a review of bad input: refusals that named the wrong place, or said too little of what to send. */
describe.each(storeEngines)('where a refusal points, on %s', (engine) => {
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

  it('names the path parameter of a runtime target that is not there', async () => {
    const response = await api.call('GET', '/runtime-targets/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json().errors).toEqual([
      { path: 'path.id', message: '`pave targets list` shows the targets' },
    ]);
  });

  it('says it is the app that is missing, not its artifact', async () => {
    const response = await api.call('GET', '/apps/nope/artifacts/1');
    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toBe('app "nope" not found');
    const artifact = await api.call('GET', '/apps/shop/artifacts/1');
    expect(artifact.json().detail).toBe('artifact 1 of shop not found');
  });

  it('shows what a time looks like where one is needed', async () => {
    const logs = await api.call('GET', '/apps/shop/envs/dev/logs?since=1h');
    expect(logs.statusCode).toBe(400);
    expect(logs.json().errors).toEqual([
      {
        path: 'query.since',
        message: 'must be an RFC 3339 time such as 2026-12-07T10:00:00Z (the CLI turns --since 1h into one)',
      },
    ]);
    const token = await api.call('POST', '/tokens', { name: 'ci', expiresAt: 'tomorrow' });
    expect(token.json().errors).toEqual([
      { path: '/expiresAt', message: 'must be an RFC 3339 time such as 2027-01-31T00:00:00Z' },
    ]);
  });

  it('names the query parameter of an environment to compare with that is not there', async () => {
    const response = await api.call('GET', '/apps/shop/envs/dev/diff?toEnv=garbage');
    expect(response.statusCode).toBe(404);
    expect(response.json().errors.map((error: { path: string }) => error.path)).toEqual(['query.toEnv']);
  });

  it('names the query parameter of a template version that is not there', async () => {
    const applied = await api.call('PUT', '/templates/readme', {
      id: 'readme',
      title: 'A README',
      parameters: { type: 'object', properties: { name: { type: 'string' } } },
      files: [{ path: 'README.md', content: '# {{ name }}\n' }],
    });
    expect(applied.statusCode, applied.body).toBeLessThan(300);
    const response = await api.call('GET', '/templates/readme?version=99999');
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({
      detail: 'template "readme" has no version 99999',
      errors: [{ path: 'query.version', message: '`pave templates get readme` shows its latest version' }],
    });
  });
});
