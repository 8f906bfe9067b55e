import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/**
 * docs/events.md: "Asking for `?app=` of an app the caller cannot see answers 404, as every other route does"
 * (GET /webhooks?app= and /apps/{app}/insights do). An org admin sees every app, so for an admin that is an app
 * that does not exist: the lists filtered by app answer 404 for one, naming `query.app`, rather than an empty
 * page that reads as "nothing happened there". The history of an app that was deleted stays readable by those
 * who may read it (docs/events.md: org admins see "the whole history"; docs/rbac.md: the whole audit log with
 * `--all-incarnations`).
 */
describe.each(storeEngines)('lists filtered by an app that does not exist, on %s', (engine) => {
  let api: FullApi;
  let viewer: string;

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [method, url] of [
      ['POST', '/apps'],
      ['POST', '/apps/gone/envs'],
      ['DELETE', '/apps/gone?force=true'],
    ] as const) {
      const body = url === '/apps' ? { id: 'gone' } : { id: 'qa', type: 'development' };
      const response = await api.call(method, url, method === 'POST' ? body : undefined);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    viewer = await api.createUser('vera');
    expect((await api.call('POST', '/roles', { role: 'viewer', user: 'vera', app: 'shop' })).statusCode).toBe(
      201,
    );
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const LISTS = ['/events', '/events/stream', '/approvals', '/audit'];

  it('answers 404 naming query.app, for an admin as for anyone else', async () => {
    for (const list of LISTS) {
      for (const [who, call] of [
        ['the admin', (url: string) => api.call('GET', url)],
        ['a viewer of another app', (url: string) => api.callAs(viewer, 'GET', url)],
      ] as const) {
        const response = await call(`${list}?app=nope`);
        expect(response.statusCode, `${list} as ${who}: ${response.body}`).toBe(404);
        expect(response.json()).toMatchObject({
          detail: 'app "nope" not found',
          errors: [{ path: 'query.app', message: expect.stringContaining('pave apps list') }],
        });
      }
    }
  });

  it('still lists what there is of an app that exists', async () => {
    for (const list of ['/events', '/approvals', '/audit']) {
      const response = await api.call('GET', `${list}?app=shop`);
      expect(response.statusCode, `${list}: ${response.body}`).toBe(200);
    }
    const audit = (await api.call('GET', '/audit?app=shop')).json().items as Array<{ action: string }>;
    expect(audit.map((entry) => entry.action)).toContain('app.create');
  });

  it('keeps the history of a deleted app readable by an admin', async () => {
    const events = await api.call('GET', '/events?app=gone');
    expect(events.statusCode, events.body).toBe(200);
    expect(events.json().items.map((e: { type: string }) => e.type)).toEqual([
      'environment.created',
      'environment.deleted',
    ]);
    const audit = await api.call('GET', '/audit?app=gone&incarnation=all');
    expect(audit.statusCode, audit.body).toBe(200);
    expect(audit.json().items.map((entry: { action: string }) => entry.action)).toContain('app.delete');
  });
});
