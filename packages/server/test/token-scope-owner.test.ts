import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review: an admin could create a token for a service account scoped to a role the account does not
 * hold (the README's `pave tokens create deploy --user ci-bot --scope app:shop:developer`, before ci-bot had
 * any role on shop). A scoped token may do only what both its user and its scope allow, so the token was
 * created as asked and could do nothing, with no word why. And a scoped token asking for a wider scope was
 * told "you do not hold admin on the organisation (via token scope org:admin)", which says nothing of the
 * token's own scope.
 */
describe.each(storeEngines)('a token scoped beyond its user, on %s', (engine) => {
  let api: FullApi;
  let alice: string;

  beforeAll(async () => {
    api = await openFullApi(engine);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const username of ['ci-bot', 'shop-owner', 'shop-viewer', 'ci-team-bot']) {
      const created = await api.call('POST', '/users', { username, kind: 'service' });
      expect(created.statusCode, created.body).toBe(201);
    }
    alice = await api.createUser('alice');
    await grant({ role: 'developer', user: 'alice', app: 'shop' });
    await grant({ role: 'owner', user: 'shop-owner', app: 'shop' });
    await grant({ role: 'viewer', user: 'shop-viewer', app: 'shop' });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  async function grant(body: object): Promise<void> {
    const granted = await api.call('POST', '/roles', body);
    expect(granted.statusCode, granted.body).toBe(201);
  }

  it('is refused for a user who holds no role that allows it, saying what to grant', async () => {
    const refused = await api.call('POST', '/tokens', {
      name: 'deploy',
      user: 'ci-bot',
      scope: 'app:shop:developer',
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({
      detail:
        'ci-bot holds no role on app shop that allows developer, so a token scoped app:shop:developer could ' +
        'do nothing',
      errors: [
        {
          path: '/scope',
          message: expect.stringContaining(
            'grant it first: `pave roles grant developer --user ci-bot --app shop`',
          ),
        },
      ],
    });
    // An org role alike: the grant needs no --app.
    const member = await api.call('POST', '/tokens', { name: 'apps', user: 'ci-bot', scope: 'org:member' });
    expect(member.statusCode, member.body).toBe(400);
    expect(member.json().errors[0]).toMatchObject({
      path: '/scope',
      message: expect.stringContaining('`pave roles grant member --user ci-bot`'),
    });

    // Once granted, the same request makes a token that works.
    await grant({ role: 'developer', user: 'ci-bot', app: 'shop' });
    const created = await api.call('POST', '/tokens', {
      name: 'deploy',
      user: 'ci-bot',
      scope: 'app:shop:developer',
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ username: 'ci-bot', scope: 'app:shop:developer' });
    const token = created.json().token as string;
    expect((await api.callAs(token, 'GET', '/apps/shop')).statusCode).toBe(200);
    const canI = await api.callAs(token, 'GET', '/auth/can-i?action=values.write&app=shop');
    expect(canI.json(), canI.body).toMatchObject({ allowed: true });
  });

  it('passes for a user holding a wider role (the scope narrows it), not a narrower one', async () => {
    const fromOwner = await api.call('POST', '/tokens', {
      name: 'deploy',
      user: 'shop-owner',
      scope: 'app:shop:developer',
    });
    expect(fromOwner.statusCode, fromOwner.body).toBe(201);

    const fromViewer = await api.call('POST', '/tokens', {
      name: 'deploy',
      user: 'shop-viewer',
      scope: 'app:shop:developer',
    });
    expect(fromViewer.statusCode, fromViewer.body).toBe(400);
    expect(fromViewer.json()).toMatchObject({
      detail:
        'shop-viewer holds no role on app shop that allows developer, so a token scoped app:shop:developer ' +
        'could do no more than viewer may there',
      errors: [
        {
          path: '/scope',
          message: expect.stringContaining('`pave roles grant developer --user shop-viewer --app shop`'),
        },
      ],
    });
    const viewerScope = await api.call('POST', '/tokens', {
      name: 'read',
      user: 'shop-viewer',
      scope: 'app:shop:viewer',
    });
    expect(viewerScope.statusCode, viewerScope.body).toBe(201);
  });

  it("counts the user's teams' roles", async () => {
    const team = await api.call('POST', '/teams', { id: 'ci' });
    expect(team.statusCode, team.body).toBe(201);
    const added = await api.call('PUT', '/teams/ci/members/ci-team-bot');
    expect(added.statusCode, added.body).toBe(200);
    await grant({ role: 'developer', team: 'ci', app: 'shop' });
    const created = await api.call('POST', '/tokens', {
      name: 'deploy',
      user: 'ci-team-bot',
      scope: 'app:shop:developer',
    });
    expect(created.statusCode, created.body).toBe(201);
  });

  it("says plainly that a scoped token's scope does not include a wider one", async () => {
    const scoped = await api.callAs(alice, 'POST', '/tokens', { name: 'ci', scope: 'app:shop:developer' });
    expect(scoped.statusCode, scoped.body).toBe(201);
    const wider = await api.callAs(scoped.json().token, 'POST', '/tokens', { name: 'x', scope: 'org:admin' });
    expect(wider.statusCode, wider.body).toBe(403);
    expect(wider.json().detail).toBe(
      "this token's scope (app:shop:developer) does not include org:admin, so no token it creates can have it",
    );
    expect(wider.json().errors).toEqual([
      { path: '/scope', message: 'ask for app:shop:developer or a narrower scope' },
    ]);
    expect(wider.body).not.toContain('via token scope');
    // Without a scope of its own, alice is told what she does not hold, with no "(via …)".
    const unscoped = await api.callAs(alice, 'POST', '/tokens', { name: 'x', scope: 'org:admin' });
    expect(unscoped.statusCode, unscoped.body).toBe(403);
    expect(unscoped.json().detail).toBe(
      'you do not hold admin on the organisation, so no token of yours can',
    );
  });
});
