import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { deleteApp } from '../src/domain/apps.ts';
import { systemContext } from '../src/domain/context.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/*
 * Found by review on PostgreSQL, where transactions run side by side: something added under an app, a team or
 * an environment while it was deleted (a role grant, an environment, a webhook, a rule, a team member)
 * outlived it, and came to belong to a new one of the same id: a grant of `owner` on a deleted app made its
 * holder owner of the next app of that name; a grant of org `admin` to a deleted team made admins of the next
 * team's members. Concurrent deletions of one thing each answered 204 and each wrote an audit entry.
 */
describe.each(storeEngines)('additions racing the deletion of what they hang from, on %s', (engine) => {
  let api: FullApi;
  const ROUNDS = 8;

  const created = async (url: string, body: object) => {
    const response = await api.call('POST', url, body);
    expect(response.statusCode, `POST ${url}: ${response.body}`).toBe(201);
    return response;
  };

  const membersOf = async (team: string): Promise<string[] | undefined> => {
    const teams = (await api.call('GET', '/teams?limit=500')).json().items as Array<{
      id: string;
      members: string[];
    }>;
    return teams.find((found) => found.id === team)?.members;
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    await created('/users', { username: 'mallory', kind: 'service' });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('leaves no role grant on an app deleted at the same moment for the next app of its name', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const app = `granted${round}`;
      await created('/apps', { id: app });
      const [deletion, grant] = await Promise.all([
        api.call('DELETE', `/apps/${app}`),
        api.call('POST', '/roles', { user: 'mallory', role: 'owner', app }),
      ]);
      expect(deletion.statusCode, deletion.body).toBe(204);
      expect([201, 404], grant.body).toContain(grant.statusCode);
      await created('/apps', { id: app });
      const roles = (await api.call('GET', `/roles?app=${app}`)).json().items as Array<{
        subject: { name: string };
      }>;
      expect(roles.map((role) => role.subject.name)).not.toContain('mallory');
    }
  });

  it('leaves no grant or member on a team deleted at the same moment for the next team of its name', async () => {
    await created('/users', { username: 'mia', kind: 'service' });
    for (let round = 0; round < ROUNDS; round++) {
      const team = `crew${round}`;
      await created('/teams', { id: team });
      const [deletion, grant, member] = await Promise.all([
        api.call('DELETE', `/teams/${team}`),
        api.call('POST', '/roles', { team, role: 'admin' }),
        api.call('PUT', `/teams/${team}/members/mia`),
      ]);
      expect(deletion.statusCode, deletion.body).toBe(204);
      expect([201, 404], grant.body).toContain(grant.statusCode);
      expect([200, 404], member.body).toContain(member.statusCode);
      await created('/teams', { id: team });
      const roles = (await api.call('GET', '/roles')).json().items as Array<{ subject: { name: string } }>;
      expect(roles.map((role) => role.subject.name)).not.toContain(team);
      expect(await membersOf(team)).toEqual([]);
    }
  });

  it('adds a member twice at once as once', async () => {
    await created('/teams', { id: 'twice' });
    const answers = await Promise.all([1, 2, 3, 4].map(() => api.call('PUT', '/teams/twice/members/mia')));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(await membersOf('twice')).toEqual(['mia']);
  });

  it('neither keeps nor loses silently an environment created while its app is deleted', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const app = `raced${round}`;
      await created('/apps', { id: app });
      const [deletion, environment, webhook] = await Promise.all([
        api.call('DELETE', `/apps/${app}`),
        api.call('POST', `/apps/${app}/envs`, { id: 'dev', type: 'development' }),
        api.call('POST', '/webhooks', { name: 'ci', url: 'https://hooks.example.com/pave', app }),
      ]);
      expect([204, 409], deletion.body).toContain(deletion.statusCode);
      expect([201, 404], environment.body).toContain(environment.statusCode);
      expect([201, 404], webhook.body).toContain(webhook.statusCode);
      const app404 = (await api.call('GET', `/apps/${app}`)).statusCode === 404;
      // Created and answered 201: it exists, or the app's deletion was refused for it.
      if (environment.statusCode === 201) expect(deletion.statusCode, deletion.body).toBe(409);
      if (deletion.statusCode === 204) {
        expect(app404).toBe(true);
        await created('/apps', { id: app });
        expect((await api.call('GET', `/webhooks?app=${app}`)).json().items).toEqual([]);
      }
    }
  });

  it('leaves no rule of an environment deleted at the same moment', async () => {
    await created('/apps', { id: 'ruled' });
    for (let round = 0; round < ROUNDS; round++) {
      const env = `e${round}`;
      await created('/apps/ruled/envs', { id: env, type: 'development' });
      const [deletion, rule] = await Promise.all([
        api.call('DELETE', `/apps/ruled/envs/${env}`),
        api.call('POST', '/apps/ruled/rules', { env, branch: 'main' }),
      ]);
      expect(deletion.statusCode, deletion.body).toBe(204);
      expect([201, 404], rule.body).toContain(rule.statusCode);
    }
    expect((await api.call('GET', '/apps/ruled/rules')).json().items).toEqual([]);
  });

  it('refuses to finish a forced app deletion over an environment created after it deleted the others', async () => {
    // DELETE /apps/{app}?force=true deletes each environment (workloads, resources) and then the app; one
    // created in between had its rows deleted with the app and its database left running, deleted by nobody.
    await created('/apps', { id: 'late' });
    await created('/apps/late/envs', { id: 'dev2', type: 'development' });
    const context = systemContext('admin', 'test-request');
    await expect(
      deleteApp(api.store, context, 'late', { force: true, deletedEnvironments: true }),
    ).rejects.toMatchObject({
      name: 'ConflictError',
      message: 'app "late" got environments while it was being deleted: dev2',
    });
    expect((await api.call('GET', '/apps/late/envs/dev2')).statusCode).toBe(200);
    // Asked again, the route deletes it first.
    expect((await api.call('DELETE', '/apps/late?force=true')).statusCode).toBe(204);
  });

  it('deletes a thing once when asked to several times at once: one 204, one audit entry', async () => {
    await created('/apps', { id: 'once' });
    await created('/teams', { id: 'once' });
    await created('/users', { username: 'once', kind: 'service' });
    const webhook = await created('/webhooks', { name: 'once', url: 'https://hooks.example.com/pave' });
    for (const [url, action] of [
      ['/apps/once', 'app.delete'],
      ['/teams/once', 'team.delete'],
      ['/users/once', 'user.delete'],
      [`/webhooks/${webhook.json().webhook.id}`, 'webhook.delete'],
    ] as const) {
      const answers = await Promise.all([1, 2, 3, 4].map(() => api.call('DELETE', url)));
      expect(answers.map((answer) => answer.statusCode).sort(), url).toEqual([204, 404, 404, 404]);
      const audit = (await api.call('GET', '/audit?limit=500')).json().items as Array<{
        action: string;
        target: string;
      }>;
      const entries = audit.filter(
        (entry) => entry.action === action && url.endsWith(entry.target.split('/')[1]!),
      );
      expect(entries, url).toHaveLength(1);
    }
  });
});
