import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi } from './support/full-api.ts';

const PASSWORD = 'a long enough password';
const SCORE = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { web: { image: 'nginx' } },
};

describe.each(storeEngines)('an environment of an app that does not exist, on %s', (engine) => {
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let admin: string;
  let dave: string;

  const call = (token: string, method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    ({ app, token: admin, cleanup } = await openFullApi(engine));
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps', { id: 'secret' }],
      ['POST', '/users', { username: 'dave', password: PASSWORD }],
      ['POST', '/roles', { role: 'developer', user: 'dave', app: 'shop' }],
    ] as const) {
      const response = await call(admin, method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'dave', password: PASSWORD },
    });
    dave = login.json().token;
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('says the app is not found, and suggests `pave apps list`, when deploying to an app that does not exist', async () => {
    const response = await call(admin, 'POST', '/apps/nosuch/envs/dev/deployments', {
      workloads: [{ spec: SCORE, dir: '/srv/shop' }],
    });
    expect(response.statusCode, response.body).toBe(404);
    expect(response.json().detail).toBe('app "nosuch" not found');
    expect(response.body).toContain('pave apps list');
    expect(response.body).not.toContain('pave envs list');
  });

  it('still says the environment is not found when only the environment is missing', async () => {
    const response = await call(admin, 'GET', '/apps/shop/envs/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toBe('environment "nope" of app "shop" not found');
    expect(response.body).toContain('pave envs list --app shop');
  });

  it('answers an app the caller has no role on exactly as an app that does not exist', async () => {
    const hidden = await call(dave, 'GET', '/apps/secret/envs/dev/deployments');
    const missing = await call(dave, 'GET', '/apps/nosuch/envs/dev/deployments');
    expect(hidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    const withoutId = (body: string) => ({ ...JSON.parse(body), requestId: '' }) as object;
    expect(withoutId(hidden.body.replaceAll('secret', 'X'))).toEqual(
      withoutId(missing.body.replaceAll('nosuch', 'X')),
    );
    expect(missing.json().detail).toBe('app "nosuch" not found');
  });
});
