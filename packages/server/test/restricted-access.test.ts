import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi } from './support/full-api.ts';

const PASSWORD = 'a long enough password';
const PROD_SECRET = 'prod-only-s3cret';
const APP_SECRET = 'app-wide-s3cret';

/*
 * The holes an adversarial review found around restricted (production) environments and token scopes:
 * each test is the reproduction, and passes only once the hole is closed.
 */
describe.each(storeEngines)('restricted environments and token scopes on %s', (engine) => {
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let admin: string;
  const tokens: Record<string, string> = {};

  const call = (token: string, method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const expectRefusedForDeployer = (response: {
    statusCode: number;
    body: string;
    json(): { detail: string };
  }) => {
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().detail).toContain('deployer on environment type production');
  };

  beforeAll(async () => {
    const api = await openFullApi(engine);
    ({ app, token: admin, cleanup } = api);
    const setup: Array<[string, string, object]> = [
      ['POST', '/apps', { id: 'alpha' }],
      ['POST', '/apps', { id: 'beta' }],
      ['POST', '/apps/alpha/envs', { id: 'dev', type: 'development' }],
      ['POST', '/apps/alpha/envs', { id: 'prod', type: 'production' }],
      ['POST', '/apps/beta/envs', { id: 'dev', type: 'development' }],
      ['PATCH', '/apps/alpha/values', { set: { SHARED: { value: APP_SECRET, secret: true } } }],
      [
        'PATCH',
        '/apps/alpha/envs/prod/values',
        { set: { DB_PASSWORD: { value: PROD_SECRET, secret: true } } },
      ],
      ['PATCH', '/apps/alpha/envs/dev/values', { set: { DB_PASSWORD: { value: 'dev-pw', secret: true } } }],
    ];
    for (const [method, url, body] of setup) {
      const response = await call(admin, method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const username of ['dave', 'dora', 'olivia', 'mia']) {
      await call(admin, 'POST', '/users', { username, password: PASSWORD });
    }
    const grants = [
      { role: 'developer', user: 'dave', app: 'alpha' },
      { role: 'developer', user: 'dave', app: 'beta' },
      { role: 'developer', user: 'dora', app: 'alpha' },
      { role: 'deployer', user: 'dora', envType: 'production' },
      { role: 'owner', user: 'olivia', app: 'alpha' },
      { role: 'member', user: 'mia' },
    ];
    for (const grant of grants) {
      const response = await call(admin, 'POST', '/roles', grant);
      expect(response.statusCode, response.body).toBe(201);
    }
    for (const username of ['dave', 'dora', 'olivia', 'mia']) {
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('refuses a developer who changes the time to live of a production environment (the janitor would delete it)', async () => {
    expectRefusedForDeployer(
      await call(tokens.dave!, 'POST', '/apps/alpha/envs/prod/extend', { ttlSeconds: 1 }),
    );
    expect((await call(admin, 'GET', '/apps/alpha/envs/prod')).json().expiresAt).toBeNull();
    expect(
      (await call(tokens.dave!, 'POST', '/apps/alpha/envs/dev/extend', { ttlSeconds: 3600 })).statusCode,
    ).toBe(200);
    const byDeployer = await call(tokens.dora!, 'POST', '/apps/alpha/envs/prod/extend', {
      ttlSeconds: 86_400 * 365,
    });
    expect(byDeployer.statusCode, byDeployer.body).toBe(200);
  });

  it('refuses a developer who creates an environment of a restricted type, or clones a restricted one', async () => {
    expectRefusedForDeployer(
      await call(tokens.dave!, 'POST', '/apps/alpha/envs', { id: 'prod2', type: 'production' }),
    );
    expectRefusedForDeployer(
      await call(tokens.dave!, 'POST', '/apps/alpha/envs', {
        id: 'copy',
        type: 'development',
        from: 'prod',
        withData: true,
      }),
    );
    expect(
      (await call(admin, 'GET', '/apps/alpha/envs')).json().items.map((e: { id: string }) => e.id),
    ).toEqual(['dev', 'prod']);
    // Cloning an unrestricted environment is theirs to do (refused here only because dev has no deployment).
    const fromDev = await call(tokens.dave!, 'POST', '/apps/alpha/envs', {
      id: 'copy',
      type: 'development',
      from: 'dev',
    });
    expect(fromDev.statusCode, fromDev.body).toBe(409);
    const byDeployer = await call(tokens.dora!, 'POST', '/apps/alpha/envs', {
      id: 'prod2',
      type: 'production',
    });
    expect(byDeployer.statusCode, byDeployer.body).toBe(201);
    expect((await call(admin, 'DELETE', '/apps/alpha/envs/prod2')).statusCode).toBe(204);
  });

  it('refuses a developer who changes app-level values of an app with a production environment', async () => {
    const before = (await call(admin, 'GET', '/apps/alpha/values')).json();
    expectRefusedForDeployer(
      await call(tokens.dave!, 'PATCH', '/apps/alpha/values', { set: { GREETING: { value: 'hi' } } }),
    );
    expectRefusedForDeployer(
      await call(tokens.dave!, 'POST', '/apps/alpha/values/import', { dotenv: 'GREETING=hi\n' }),
    );
    expect((await call(admin, 'GET', '/apps/alpha/values')).json()).toEqual(before);
    // An app without restricted environments is the developer's own.
    const beta = await call(tokens.dave!, 'PATCH', '/apps/beta/values', {
      set: { GREETING: { value: 'hi' } },
    });
    expect(beta.statusCode, beta.body).toBe(200);
    const byDeployer = await call(tokens.dora!, 'PATCH', '/apps/alpha/values', {
      set: { GREETING: { value: 'hi' } },
    });
    expect(byDeployer.statusCode, byDeployer.body).toBe(200);
  });

  it('refuses a developer who reveals production secrets, at environment and at app level', async () => {
    const prod = await call(tokens.dave!, 'GET', '/apps/alpha/envs/prod/values?reveal=true');
    expectRefusedForDeployer(prod);
    expect(prod.body).not.toContain(PROD_SECRET);
    const appLevel = await call(tokens.dave!, 'GET', '/apps/alpha/values?reveal=true');
    expectRefusedForDeployer(appLevel);
    expect(appLevel.body).not.toContain(APP_SECRET);
    const dev = await call(tokens.dave!, 'GET', '/apps/alpha/envs/dev/values?reveal=true');
    expect(dev.statusCode, dev.body).toBe(200);
    expect(dev.body).toContain('dev-pw');
    const byDeployer = await call(tokens.dora!, 'GET', '/apps/alpha/envs/prod/values?reveal=true');
    expect(byDeployer.body).toContain(PROD_SECRET);
  });

  it('refuses a developer who moves production resources', async () => {
    expectRefusedForDeployer(
      await call(tokens.dave!, 'POST', '/apps/alpha/envs/prod/resources/move', {
        from: 'api.db',
        to: 'api.main',
      }),
    );
    // The deployer gets as far as the resource lookup.
    const byDeployer = await call(tokens.dora!, 'POST', '/apps/alpha/envs/prod/resources/move', {
      from: 'api.db',
      to: 'api.main',
    });
    expect(byDeployer.statusCode, byDeployer.body).toBe(404);
  });

  it('refuses an app owner without deployer who deletes an app that has a production environment', async () => {
    expectRefusedForDeployer(await call(tokens.olivia!, 'DELETE', '/apps/alpha?force=true'));
    expect((await call(admin, 'GET', '/apps/alpha/envs/prod')).statusCode).toBe(200);
  });

  it("keeps a scoped token's new tokens within its scope: a viewer token cannot mint one that reveals secrets", async () => {
    const viewer = await call(tokens.dave!, 'POST', '/tokens', {
      name: 'read-only',
      scope: 'app:alpha:viewer',
    });
    expect(viewer.statusCode, viewer.body).toBe(201);
    const minted = await call(viewer.json().token, 'POST', '/tokens', { name: 'escape' });
    expect(minted.statusCode, minted.body).toBe(201);
    expect(minted.json().scope).toBe('app:alpha:viewer');
    const reveal = await call(minted.json().token, 'GET', '/apps/alpha/envs/dev/values?reveal=true');
    expect(reveal.statusCode).toBe(403);
    expect(reveal.body).not.toContain('dev-pw');
    const wider = await call(viewer.json().token, 'POST', '/tokens', {
      name: 'w',
      scope: 'app:alpha:developer',
    });
    expect(wider.statusCode, wider.body).toBe(403);
    expect(wider.json().errors[0].path).toBe('/scope');
    expect(
      (await call(viewer.json().token, 'POST', '/tokens', { name: 'w', scope: 'org:admin' })).statusCode,
    ).toBe(403);
    const narrower = await call(tokens.dora!, 'POST', '/tokens', { name: 'n', scope: 'app:alpha:developer' });
    const viewerFromDeveloper = await call(narrower.json().token, 'POST', '/tokens', {
      name: 'v',
      scope: 'app:alpha:viewer',
    });
    expect(viewerFromDeveloper.statusCode, viewerFromDeveloper.body).toBe(201);
  });

  it('refuses scopes the creator does not hold instead of accepting them', async () => {
    const orgAdmin = await call(tokens.mia!, 'POST', '/tokens', { name: 'x', scope: 'org:admin' });
    expect(orgAdmin.statusCode, orgAdmin.body).toBe(403);
    expect(orgAdmin.json().errors[0].path).toBe('/scope');
    const wildcard = await call(tokens.mia!, 'POST', '/tokens', { name: 'x', scope: 'app:*:owner' });
    expect(wildcard.statusCode, wildcard.body).toBe(400);
    expect(
      (await call(tokens.mia!, 'POST', '/tokens', { name: 'x', scope: 'app:alpha:owner' })).statusCode,
    ).toBe(403);
    expect(
      (await call(tokens.dave!, 'POST', '/tokens', { name: 'x', scope: 'app:alpha:owner' })).statusCode,
    ).toBe(403);
    // An environment-type role scopes no token at all (it reaches no app alone): 400, whoever asks.
    expect(
      (await call(tokens.dave!, 'POST', '/tokens', { name: 'x', scope: 'env-type:production:deployer' }))
        .statusCode,
    ).toBe(400);
    expect((await call(tokens.mia!, 'POST', '/tokens', { name: 'x', scope: 'org:member' })).statusCode).toBe(
      201,
    );
  });

  it('never lets a token outlive the token that creates it', async () => {
    const shortLived = await call(tokens.dave!, 'POST', '/tokens', {
      name: 'short',
      expiresAt: new Date(Date.now() + 3_000).toISOString(),
    });
    expect(shortLived.statusCode, shortLived.body).toBe(201);
    const parentExpiry = Date.parse(shortLived.json().expiresAt);
    const child = await call(shortLived.json().token, 'POST', '/tokens', { name: 'forever' });
    expect(child.statusCode, child.body).toBe(201);
    expect(child.json().expiresAt).not.toBeNull();
    expect(Date.parse(child.json().expiresAt)).toBeLessThanOrEqual(parentExpiry);
    const later = await call(shortLived.json().token, 'POST', '/tokens', {
      name: 'later',
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(later.statusCode, later.body).toBe(403);
    expect(later.json().errors[0].path).toBe('/expiresAt');
  });
});
