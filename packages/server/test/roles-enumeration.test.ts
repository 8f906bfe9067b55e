import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/** What a caller learns from a refusal: its status and what it says (not the request id or URL). */
function answer(response: LightMyRequestResponse) {
  const body = response.json() as { detail: string; errors: unknown[] };
  return { status: response.statusCode, detail: body.detail, errors: body.errors };
}

describe.each(storeEngines)(
  'role grants do not tell who exists to those who may not grant on %s',
  (engine) => {
    let api: FullApi;
    let owner: string;
    let member: string;

    beforeAll(async () => {
      api = await openFullApi(engine);
      owner = await api.createUser('olivia');
      member = await api.createUser('mia');
      await api.createUser('vera');
      expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
      expect((await api.call('POST', '/teams', { id: 'web' })).statusCode).toBe(201);
      for (const grant of [
        { role: 'owner', user: 'olivia', app: 'shop' },
        { role: 'member', user: 'mia' },
        { role: 'viewer', user: 'vera', app: 'shop' },
        { role: 'deployer', user: 'vera', envType: 'production' },
        { role: 'member', team: 'web' },
      ]) {
        const granted = await api.call('POST', '/roles', grant);
        expect(granted.statusCode, granted.body).toBe(201);
      }
      // Roles reach a token within a second (the actor cache).
      await new Promise((resolve) => setTimeout(resolve, 1_050));
    });
    afterAll(async () => {
      await api?.cleanup();
    });

    // Each pair differs only in whether the user or team named exists; the grant is one the caller may not make.
    const refusedPairs: Array<[string, object, object]> = [
      ['an org role', { role: 'admin', user: 'vera' }, { role: 'admin', user: 'nobody' }],
      ['an org role to a team', { role: 'admin', team: 'web' }, { role: 'admin', team: 'no-team' }],
      [
        'an environment-type role',
        { role: 'deployer', user: 'vera', envType: 'staging' },
        { role: 'deployer', user: 'nobody', envType: 'staging' },
      ],
      [
        'an environment-type role on a type that does not exist',
        { role: 'deployer', user: 'vera', envType: 'production' },
        { role: 'deployer', user: 'vera', envType: 'no-type' },
      ],
    ];

    it.each(refusedPairs)(
      'refuses granting %s alike whether or not the subject exists',
      async (_, known, unknown) => {
        const a = await api.callAs(owner, 'POST', '/roles', known);
        const b = await api.callAs(owner, 'POST', '/roles', unknown);
        expect(a.statusCode, a.body).toBe(403);
        expect(answer(b)).toEqual(answer(a));
      },
    );

    it.each(refusedPairs)(
      'refuses revoking %s alike whether or not the subject exists',
      async (_, known, unknown) => {
        const a = await api.callAs(owner, 'POST', '/roles/revoke', known);
        const b = await api.callAs(owner, 'POST', '/roles/revoke', unknown);
        expect(a.statusCode, a.body).toBe(403);
        expect(answer(b)).toEqual(answer(a));
      },
    );

    it('refuses an app role on an app the caller cannot grant on alike whether or not the user exists', async () => {
      for (const path of ['/roles', '/roles/revoke']) {
        const a = await api.callAs(member, 'POST', path, { role: 'viewer', user: 'vera', app: 'shop' });
        const b = await api.callAs(member, 'POST', path, { role: 'viewer', user: 'nobody', app: 'shop' });
        expect([403, 404], a.body).toContain(a.statusCode);
        expect(answer(b)).toEqual(answer(a));
      }
    });

    it('refuses team membership, token and password changes alike whether or not the user exists', async () => {
      const pairs: Array<['PUT' | 'DELETE' | 'POST', string, string, object?]> = [
        ['PUT', '/teams/web/members/vera', '/teams/web/members/nobody'],
        ['DELETE', '/teams/web/members/vera', '/teams/web/members/nobody'],
        ['PUT', '/teams/no-team/members/vera', '/teams/web/members/vera'],
        ['DELETE', '/users/vera', '/users/nobody'],
        ['DELETE', '/users/vera/login-failures', '/users/nobody/login-failures'],
        ['PUT', '/users/vera/password', '/users/nobody/password', { password: 'another long password' }],
      ];
      for (const [method, known, unknown, payload] of pairs) {
        const a = await api.callAs(member, method, known, payload);
        const b = await api.callAs(member, method, unknown, payload);
        expect(a.statusCode, `${method} ${known}: ${a.body}`).toBe(403);
        expect(answer(b), `${method} ${unknown}`).toEqual(answer(a));
      }
      const tokenFor = (user: string) => api.callAs(member, 'POST', '/tokens', { name: 'ci', user });
      const [a, b] = [await tokenFor('vera'), await tokenFor('nobody')];
      expect(a.statusCode, a.body).toBe(403);
      expect(answer(b)).toEqual(answer(a));
    });

    it('tells a caller who may grant which user or team is missing', async () => {
      const app = await api.callAs(owner, 'POST', '/roles', { role: 'viewer', user: 'nobody', app: 'shop' });
      expect(app.statusCode, app.body).toBe(404);
      expect(app.json().detail).toContain('"nobody"');
      const org = await api.call('POST', '/roles', { role: 'admin', user: 'nobody' });
      expect(org.statusCode, org.body).toBe(404);
      expect(org.json().detail).toContain('"nobody"');
      const team = await api.call('POST', '/roles/revoke', { role: 'admin', team: 'no-team' });
      expect(team.statusCode, team.body).toBe(404);
      expect(team.json().detail).toContain('"no-team"');
      const type = await api.call('POST', '/roles', { role: 'deployer', user: 'vera', envType: 'no-type' });
      expect(type.statusCode, type.body).toBe(404);
      expect(type.json().detail).toContain('"no-type"');
    });

    it('still refuses a malformed grant with what to fix, before asking who the caller is', async () => {
      const bad = await api.callAs(member, 'POST', '/roles', { role: 'admin', user: 'nobody', app: 'shop' });
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json().errors).toEqual([
        { path: '/role', message: 'admin is an org role: leave out app and envType' },
      ]);
    });
  },
);
