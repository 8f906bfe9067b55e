import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const PASSWORD = 'a long enough password';

describe.each(storeEngines)('roles, teams and scoped tokens through the API on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let adminToken: string;
  const tokens: Record<string, string> = {};

  const call = (token: string, method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const canI = async (token: string, query: string) =>
    (await call(token, 'GET', `/auth/can-i?${query}`)).json() as { allowed: boolean; reason: string };
  // Roles are cached with a token for up to a second: new grants need a fresh look.
  const fresh = () => new Promise((resolve) => setTimeout(resolve, 1_050));

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    adminToken = readFileSync((await bootstrapAdmin(store, opened.location.dataDir))!, 'utf8').trim();
    const keyring = keyringSource(opened.location.dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    app = await buildApi({ store, secrets: { box } });
    await call(adminToken, 'POST', '/apps', { id: 'shop' });
    await call(adminToken, 'POST', '/apps', { id: 'blog' });
    await call(adminToken, 'POST', '/apps/shop/envs', { id: 'prod', type: 'production' });
    await call(adminToken, 'PATCH', '/apps/shop/values', {
      set: { TOKEN: { value: 's3cret-value', secret: true } },
    });
    for (const username of ['olivia', 'dave', 'vera', 'member']) {
      expect((await call(adminToken, 'POST', '/users', { username, password: PASSWORD })).statusCode).toBe(
        201,
      );
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
    await call(adminToken, 'POST', '/roles', { role: 'owner', user: 'olivia', app: 'shop' });
    await call(adminToken, 'POST', '/roles', { role: 'member', user: 'member' });
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('lets an app owner grant app roles on their app, but not org roles or roles on other apps', async () => {
    const grant = await call(tokens.olivia!, 'POST', '/roles', { role: 'viewer', user: 'vera', app: 'shop' });
    expect(grant.statusCode, grant.body).toBe(201);
    const orgRole = await call(tokens.olivia!, 'POST', '/roles', { role: 'admin', user: 'vera' });
    expect(orgRole.statusCode).toBe(403);
    // The refusal names what she asked for and who may grant it, not a permission she never asked to use.
    expect(orgRole.json().detail).toBe(
      'you may not do this: granting admin on the organisation needs admin on the organisation ' +
        '(app owners grant app roles, with an app)',
    );
    const typeRole = await call(tokens.olivia!, 'POST', '/roles', {
      role: 'deployer',
      user: 'vera',
      envType: 'production',
    });
    expect(typeRole.statusCode).toBe(403);
    expect(typeRole.json().detail).toBe(
      'you may not do this: granting deployer on an environment type needs admin on the organisation ' +
        '(app owners grant app roles, with an app)',
    );
    expect(
      (await call(tokens.olivia!, 'POST', '/roles', { role: 'viewer', user: 'vera', app: 'blog' }))
        .statusCode,
    ).toBe(404);
    const roles = await call(tokens.olivia!, 'GET', '/roles?app=shop');
    expect(
      roles
        .json()
        .items.map((g: { role: string; subject: { name: string } }) => `${g.role}:${g.subject.name}`),
    ).toEqual(['owner:admin', 'owner:olivia', 'viewer:vera']); // whoever creates an app owns it
  });

  it('tells an admin whose token is scoped to an app that the token, not her role, refuses an org grant', async () => {
    const created = await call(adminToken, 'POST', '/tokens', { name: 'shop-only', scope: 'app:shop:owner' });
    expect(created.statusCode, created.body).toBe(201);
    const refused = await call(created.json().token, 'POST', '/roles', { role: 'member', user: 'vera' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toMatch(/^you may not do this: .*token/);
    expect(refused.json().detail).not.toContain('needs admin on the organisation (app owners');
  });

  it('gives team members the team’s roles', async () => {
    expect((await call(adminToken, 'POST', '/teams', { id: 'web' })).statusCode).toBe(201);
    expect((await call(adminToken, 'PUT', '/teams/web/members/dave')).statusCode).toBeLessThan(300);
    expect(
      (await call(adminToken, 'POST', '/roles', { role: 'developer', team: 'web', app: 'shop' })).statusCode,
    ).toBe(201);
    await fresh();
    const answer = await canI(tokens.dave!, 'action=deployment.create&app=shop');
    expect(answer).toMatchObject({ allowed: true });
    expect(answer.reason).toContain('via team:web');
    const whoami = (await call(tokens.dave!, 'GET', '/whoami')).json();
    expect(whoami.grants).toContainEqual({
      role: 'developer',
      scope: { kind: 'app', id: 'shop' },
      via: 'team:web',
    });
  });

  it('keeps secrets from viewers: listing masks them and revealing is refused', async () => {
    const list = await call(tokens.vera!, 'GET', '/apps/shop/values');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain('s3cret-value');
    const reveal = await call(tokens.vera!, 'GET', '/apps/shop/values?reveal=true');
    expect(reveal.statusCode).toBe(403);
    expect(reveal.body).not.toContain('s3cret-value');
    expect(reveal.json().detail).toContain('values.reveal');
  });

  it('answers can-i for app-level actions as the server decides them: they reach every restricted environment', async () => {
    // shop has a production environment: app-level values are its defaults, deleting shop deletes it.
    await fresh();
    for (const [token, query, denied] of [
      [tokens.dave!, 'action=values.reveal&app=shop', 'GET /apps/shop/values?reveal=true'],
      [tokens.dave!, 'action=values.write&app=shop', 'PATCH /apps/shop/values'],
      [tokens.olivia!, 'action=app.delete&app=shop', 'DELETE /apps/shop'],
    ] as const) {
      const answer = await canI(token, query);
      expect(answer, query).toMatchObject({ allowed: false });
      expect(answer.reason, query).toContain('deployer on environment type production');
      const [method, url] = denied.split(' ') as [string, string];
      const refused = await call(token, method, url, method === 'PATCH' ? { set: { A: 'b' } } : undefined);
      expect(refused.statusCode, denied).toBe(403);
    }
    // What needs no restricted type stays allowed.
    expect(await canI(tokens.dave!, 'action=values.read&app=shop')).toMatchObject({ allowed: true });
  });

  it('answers can-i for a rule into an environment as creating it is decided: a rule deploys there', async () => {
    await fresh();
    const answer = await canI(tokens.dave!, 'action=rule.write&app=shop&env=prod');
    expect(answer).toMatchObject({ allowed: false });
    expect(answer.reason).toContain('deployer on environment type production');
    const refused = await call(tokens.dave!, 'POST', '/apps/shop/rules', { env: 'prod', branch: 'main' });
    expect(refused.statusCode).toBe(403);
    // The rules of the app, with no environment named, are the developer's to write.
    expect(await canI(tokens.dave!, 'action=rule.write&app=shop')).toMatchObject({ allowed: true });
  });

  it('answers can-i for another user only to admins, and says what is missing', async () => {
    const forVera = await canI(adminToken, 'action=deployment.create&app=shop&env=prod&as=vera');
    expect(forVera.allowed).toBe(false);
    expect(forVera.reason).toContain('needs owner or developer');
    // Said of vera, whose roles they are, not of the admin asking.
    expect(forVera.reason).toMatch(/; vera has (viewer on app shop|no role on it)$/);
    expect((await call(tokens.dave!, 'GET', '/auth/can-i?action=app.read&app=shop&as=vera')).statusCode).toBe(
      403,
    );
    const prod = await canI(tokens.dave!, 'action=deployment.create&app=shop&env=prod');
    expect(prod).toMatchObject({ allowed: false });
    expect(prod.reason).toContain('deployer on environment type production');
  });

  it('answers can-i about an app or environment that is not there, or an app the asker cannot see, with 404', async () => {
    // A misspelt environment answered "yes — allowed by developer on app shop".
    const typo = await call(
      adminToken,
      'GET',
      '/auth/can-i?action=deployment.create&app=shop&env=prdo&as=dave',
    );
    expect(typo.statusCode, typo.body).toBe(404);
    expect(typo.json().errors).toEqual([
      { path: 'query.env', message: 'no such environment; `pave envs list --app shop` shows them' },
    ]);
    const noApp = await call(adminToken, 'GET', '/auth/can-i?action=app.read&app=nosuch');
    expect(noApp.statusCode, noApp.body).toBe(404);
    expect(noApp.json().errors[0].path).toBe('query.app');
    // dave has no role on blog: the same answer as for an app that does not exist, not a "no" that says it does.
    const unseen = await call(tokens.dave!, 'GET', '/auth/can-i?action=app.read&app=blog');
    expect(unseen.statusCode, unseen.body).toBe(404);
    expect(unseen.json().detail).toBe('app "blog" not found');
  });

  it('answers a roles list filtered by an app or user that is not there with 404, naming the filter', async () => {
    const noUser = await call(adminToken, 'GET', '/roles?user=nosuch');
    expect(noUser.statusCode, noUser.body).toBe(404);
    expect(noUser.json().errors).toEqual([
      { path: 'query.user', message: '`pave users list` shows the users' },
    ]);
    const noApp = await call(adminToken, 'GET', '/roles?app=nosuch');
    expect(noApp.statusCode, noApp.body).toBe(404);
    expect(noApp.json().errors[0].path).toBe('query.app');
    expect((await call(adminToken, 'GET', '/roles?user=dave')).statusCode).toBe(200);
  });

  it('narrows a token to its scope: an admin token scoped to viewer on shop cannot change shop and cannot see blog', async () => {
    const created = await call(adminToken, 'POST', '/tokens', { name: 'narrow', scope: 'app:shop:viewer' });
    expect(created.statusCode, created.body).toBe(201);
    const narrow = created.json().token as string;
    expect((await call(narrow, 'GET', '/apps/shop')).statusCode).toBe(200);
    expect((await call(narrow, 'DELETE', '/apps/shop')).statusCode).toBe(403);
    expect((await call(narrow, 'GET', '/apps/blog')).statusCode).toBe(404);
    expect((await call(narrow, 'GET', '/apps')).json().items.map((a: { id: string }) => a.id)).toEqual([
      'shop',
    ]);
    const bad = await call(adminToken, 'POST', '/tokens', { name: 'bad', scope: 'app:shop:admin' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/scope');
  });

  it("keeps a scoped token to its scope's tokens: it neither lists nor revokes its user's wider tokens", async () => {
    const create = async (token: string, body: object) => {
      const created = await call(token, 'POST', '/tokens', body);
      expect(created.statusCode, created.body).toBe(201);
      return created.json() as { id: string; token: string };
    };
    const wide = await create(tokens.olivia!, { name: 'laptop' });
    const ci = await create(tokens.olivia!, { name: 'ci', scope: 'app:shop:developer' });
    const narrower = await create(ci.token, { name: 'ci-read', scope: 'app:shop:viewer' });

    const listed = await call(ci.token, 'GET', '/tokens');
    expect(listed.statusCode).toBe(200);
    expect(
      listed
        .json()
        .items.map((t: { name: string }) => t.name)
        .sort(),
    ).toEqual(['ci', 'ci-read']);

    const revokeWide = await call(ci.token, 'DELETE', `/tokens/${wide.id}`);
    expect(revokeWide.statusCode).toBe(403);
    expect(revokeWide.json().detail).toContain('app:shop:developer');
    expect((await call(wide.token, 'GET', '/whoami')).statusCode).toBe(200);
    // From the narrower token, the wider one is out of reach too.
    expect((await call(narrower.token, 'DELETE', `/tokens/${ci.id}`)).statusCode).toBe(403);

    expect((await call(ci.token, 'DELETE', `/tokens/${narrower.id}`)).statusCode).toBe(204);
    expect((await call(narrower.token, 'GET', '/whoami')).statusCode).toBe(401);
    expect((await call(ci.token, 'DELETE', `/tokens/${ci.id}`)).statusCode).toBe(204);
    expect((await call(ci.token, 'GET', '/whoami')).statusCode).toBe(401);
    // The unscoped token still sees and manages them all.
    expect((await call(wide.token, 'GET', '/tokens')).json().items.length).toBeGreaterThanOrEqual(4);
  });

  it('lets a member create apps, owning them, and see only those', async () => {
    expect((await call(tokens.member!, 'POST', '/apps', { id: 'mine' })).statusCode).toBe(201);
    await fresh();
    expect(
      (await call(tokens.member!, 'GET', '/apps')).json().items.map((a: { id: string }) => a.id),
    ).toEqual(['mine']);
    expect((await call(tokens.member!, 'DELETE', '/apps/mine')).statusCode).toBe(204);
  });

  it('creates tokens for service accounts only for admins', async () => {
    await call(adminToken, 'POST', '/users', { username: 'ci-bot', kind: 'service' });
    const byAdmin = await call(adminToken, 'POST', '/tokens', { name: 'deploy', user: 'ci-bot' });
    expect(byAdmin.statusCode, byAdmin.body).toBe(201);
    expect(byAdmin.json().username).toBe('ci-bot');
    expect((await call(tokens.olivia!, 'POST', '/tokens', { name: 'x', user: 'ci-bot' })).statusCode).toBe(
      403,
    );
  });

  it('refuses to revoke the last org admin, and audits grants and revokes', async () => {
    const admins = await call(adminToken, 'GET', '/roles?user=admin');
    expect(admins.json().items.map((g: { role: string }) => g.role)).toContain('admin');
    const last = await call(adminToken, 'POST', '/roles/revoke', { role: 'admin', user: 'admin' });
    expect(last.statusCode).toBe(409);
    const revoked = await call(tokens.olivia!, 'POST', '/roles/revoke', {
      role: 'viewer',
      user: 'vera',
      app: 'shop',
    });
    expect(revoked.statusCode).toBe(204);
    const audit = (await call(adminToken, 'GET', '/audit?app=shop')).json().items as Array<{
      action: string;
    }>;
    expect(audit.map((e) => e.action)).toEqual(expect.arrayContaining(['role.grant', 'role.revoke']));
  });
});
