import type { AddressInfo } from 'node:net';
import { APPLESS_EVENT_TYPES, type EventPage, type PaveEvent } from '@pave/core';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.ts';
import { systemContext } from '../src/domain/context.ts';
import { EnvironmentJanitor } from '../src/domain/janitor.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const PASSWORD = 'a long enough password';

/** A runtime that runs nothing: every workload is ready, except one named `broken`. */
const runtime: RuntimeDriver = {
  name: 'idle',
  deploy: async () => undefined,
  waitReady: async (_target, workload) =>
    workload === 'broken'
      ? { ready: false, reason: 'container "main" exited with code 3', lastLogs: [] }
      : { ready: true },
  remove: async () => undefined,
  status: async (): Promise<WorkloadStatus[]> => [],
  destroy: async () => undefined,
};

const workload = (name: string) => ({
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name },
    containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
  },
  dir: '/srv/app',
});

/** The org-wide event types every signed-in caller may read: the platform team's lists are everyone's to see. */
const READ_BY_EVERYONE = new Set([
  'policy.changed',
  'profile.changed',
  'template.changed',
  'env-type.changed',
]);

/** Whether an event is about an app, not org-wide. */
const aboutApps = (event: PaveEvent) => event.app !== null;

describe.each(storeEngines)('the event stream on %s', (engine) => {
  let api: DeployingApi;
  let viewer: string;
  const canary = `canary-${Math.random().toString(36).slice(2)}`;

  const as = (token: string, url: string, headers: Record<string, string> = {}) =>
    api.app.inject({
      method: 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const events = async (query = '', token = api.token): Promise<PaveEvent[]> => {
    const response = await as(token, `/events${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, worker: true });
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps', { id: 'blog' }],
      ['POST', '/apps/shop/envs', { id: 'dev', type: 'development' }],
      ['POST', '/apps/blog/envs', { id: 'dev', type: 'development' }],
      ['POST', '/users', { username: 'vera', password: PASSWORD }],
      ['POST', '/roles', { role: 'viewer', user: 'vera', app: 'blog' }],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const login = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'vera', password: PASSWORD },
    });
    viewer = login.json().token;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('records environment creation, values and a deployment as typed events, in order', async () => {
    const before = (await events()).at(-1)?.id;
    const values = await api.call('PATCH', '/apps/shop/envs/dev/values', {
      set: { API_TOKEN: { value: canary, secret: true }, MODE: { value: 'fast' } },
    });
    expect(values.statusCode, values.body).toBe(200);
    expect((await api.deploy('shop', 'dev', { workloads: [workload('api')] })).status).toBe('succeeded');

    const after = await events(`?app=shop&after=${before}`);
    expect(after.map((e) => e.type)).toEqual([
      'values.changed',
      'deployment.queued',
      'deployment.started',
      'deployment.succeeded',
    ]);
    expect(after[0]).toMatchObject({
      app: 'shop',
      env: 'dev',
      actor: 'admin',
      data: { scope: 'env', version: 1, set: ['API_TOKEN', 'MODE'], unset: [] },
    });
    const id = after[1]!.data as { deploymentId: string };
    expect(after.slice(1).map((e) => (e.data as { deploymentId: string }).deploymentId)).toEqual([
      id.deploymentId,
      id.deploymentId,
      id.deploymentId,
    ]);
    expect(after[3]).toMatchObject({ data: { kind: 'deploy', status: 'succeeded' } });
    const ids = after.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const created = await events('?type=environment.created');
    expect(created.map((e) => `${e.app}/${e.env}`)).toEqual(['shop/dev', 'blog/dev']);
    expect(created[0]).toMatchObject({ data: { type: 'development', ttlSeconds: null } });
  });

  it("never lets a secret's value into the events table or the API", async () => {
    const rows = await api.store.db.selectFrom('events').selectAll().execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain(canary);
    expect((await as(api.token, '/events?limit=1000')).body).not.toContain(canary);
  });

  it('records a failed deployment with its reason', async () => {
    const failed = await api.deploy('shop', 'dev', { workloads: [workload('broken')] });
    expect(failed.status).toBe('failed');
    const last = (await events('?app=shop&type=deployment.failed')).at(-1)!;
    expect(last).toMatchObject({
      data: { deploymentId: failed.id, status: 'failed', rolledBack: true },
    });
    expect((last.data as { reason: string }).reason).toContain('exited with code 3');
    const rolledBack = await events('?app=shop&type=deployment.rolled-back');
    expect(rolledBack.map((e) => (e.data as { deploymentId: string }).deploymentId)).toEqual([failed.id]);
  });

  it('writes no event for a change that fails and rolls back', async () => {
    const before = await api.store.db.selectFrom('events').select('id').execute();
    const clash = await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    expect(clash.statusCode).toBe(409);
    await expect(
      api.store.transaction(async (tx) => {
        await recordEvent(tx, systemContext('test', 'test'), {
          type: 'environment.deleted',
          app: 'shop',
          env: 'dev',
          data: { type: 'development' },
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await api.store.db.selectFrom('events').select('id').execute()).toEqual(before);
    // The id the rolled-back event took is handed out again: the cursor has no holes to wait for.
    const next = await api.call('POST', '/apps/shop/envs', { id: 'tmp', type: 'development' });
    expect(next.statusCode, next.body).toBe(201);
    const created = (await events('?type=environment.created')).at(-1)!;
    expect(Number(created.id)).toBe(Math.max(...before.map((row) => Number(row.id))) + 1);
    const deleted = await api.call('DELETE', '/apps/shop/envs/tmp');
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect((await events('?app=shop&env=tmp')).map((e) => e.type)).toEqual([
      'environment.created',
      'environment.deleted',
    ]);
    const gone = await api.call('POST', '/apps', { id: 'gone' });
    expect(gone.statusCode, gone.body).toBe(201);
    await api.call('POST', '/apps/gone/envs', { id: 'qa', type: 'development' });
    expect((await api.call('DELETE', '/apps/gone?force=true')).statusCode).toBeLessThan(300);
    expect((await events('?app=gone')).map((e) => `${e.type} ${e.env}`)).toEqual([
      'environment.created qa',
      'environment.deleted qa',
    ]);
  });

  it('records an expired environment, and the janitor deletes events past their retention', async () => {
    const created = await api.call('POST', '/apps/shop/envs', {
      id: 'pr-1',
      type: 'development',
      ttlSeconds: 3600,
    });
    expect(created.statusCode, created.body).toBe(201);
    const past = new Date(Date.now() - 1000).toISOString();
    await api.store.db
      .updateTable('environments')
      .set({ expires_at: past })
      .where('id', '=', 'pr-1')
      .execute();
    const oldest = (await events('?limit=1'))[0]!;
    const old = new Date(Date.now() - 31 * 86_400_000).toISOString();
    await api.store.db.updateTable('events').set({ time: old }).where('id', '=', Number(oldest.id)).execute();

    const janitor = new EnvironmentJanitor({
      store: api.store,
      teardown: { workloads: async () => undefined, resources: async () => undefined },
      logger: pino({ level: 'silent' }),
      replicaId: 'test',
      eventRetentionMs: 30 * 86_400_000,
    });
    await janitor.sweep();

    expect((await events('?app=shop&env=pr-1')).map((e) => [e.type, e.actor])).toEqual([
      ['environment.created', 'admin'],
      ['environment.expired', 'pave-janitor'],
    ]);
    const remaining = await events('?limit=1000');
    expect(remaining.map((e) => e.id)).not.toContain(oldest.id);
    expect(remaining.length).toBeGreaterThan(0);
  });

  it('records role, target and definition changes; org-wide ones only for those who may read them', async () => {
    const before = (await events('?limit=1000')).at(-1)!.id;
    const changes: Array<[string, string, object]> = [
      ['POST', '/roles', { role: 'developer', user: 'vera', app: 'shop' }],
      ['POST', '/roles/revoke', { role: 'developer', user: 'vera', app: 'shop' }],
      ['POST', '/roles', { role: 'platform', user: 'vera' }],
      ['POST', '/roles/revoke', { role: 'platform', user: 'vera' }],
      [
        'POST',
        '/runtime-targets/apply',
        { targets: [{ id: 'cluster', type: 'kubernetes', config: {}, criteria: [{ envType: 'staging' }] }] },
      ],
      ['DELETE', '/runtime-targets/cluster', {}],
      [
        'POST',
        '/resource-definitions/apply',
        {
          definitions: [
            {
              id: 'dns-exec',
              type: 'dns',
              driver: 'exec',
              driverInputs: { values: { command: ['/bin/true'] }, secrets: { token: canary } },
              criteria: [{ appId: 'shop' }],
            },
          ],
        },
      ],
    ];
    for (const [method, url, body] of changes) {
      const response = await api.call(method as 'POST', url, method === 'DELETE' ? undefined : body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const recorded = await events(`?after=${before}`);
    expect(recorded.map((e) => [e.type, e.app, e.data])).toEqual([
      ['role.granted', 'shop', { role: 'developer', subject: 'user:vera', scope: 'app:shop' }],
      ['role.revoked', 'shop', { role: 'developer', subject: 'user:vera', scope: 'app:shop' }],
      ['role.granted', null, { role: 'platform', subject: 'user:vera', scope: 'org' }],
      ['role.revoked', null, { role: 'platform', subject: 'user:vera', scope: 'org' }],
      ['target.changed', null, { target: 'cluster', change: 'created' }],
      ['target.changed', null, { target: 'cluster', change: 'deleted' }],
      ['definition.changed', null, { definition: 'dns-exec', change: 'created' }],
    ]);
    expect(JSON.stringify(await api.store.db.selectFrom('events').selectAll().execute())).not.toContain(
      canary,
    );
    // vera views blog only: none of these is hers to read.
    expect(await events(`?after=${before}`, viewer)).toEqual([]);
  });

  it("records the platform team's policy, profile, template and environment type changes, for everyone to read", async () => {
    const before = (await events('?limit=1000')).at(-1)!.id;
    const policy = {
      id: 'pinned-images',
      severity: 'warn',
      message: 'pin images',
      each: 'container',
      rule: 'container.image != ""',
    };
    const profile = {
      id: 'two-replicas',
      criteria: [{ envType: 'production' }],
      patches: [{ target: { kind: 'Deployment' }, ops: [{ op: 'add', path: '/spec/replicas', value: 2 }] }],
    };
    const template = {
      id: 'tiny',
      title: 'Tiny',
      parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      files: [{ path: 'README.md', content: '# {{ name }}\n' }],
    };
    const changes: Array<[string, string, object | undefined]> = [
      ['POST', '/policies/apply', { policies: [policy] }],
      ['POST', '/policies/apply', { policies: [{ ...policy, message: 'pin your images' }] }],
      ['POST', '/policies/apply', { policies: [{ ...policy, message: 'pin your images' }] }],
      ['DELETE', '/policies/pinned-images', undefined],
      ['POST', '/profiles/apply', { profiles: [profile] }],
      ['DELETE', '/profiles/two-replicas', undefined],
      ['POST', '/templates', template],
      ['POST', '/templates', { ...template, title: 'Tiny, again' }],
      ['DELETE', '/templates/tiny', undefined],
      ['POST', '/env-types', { id: 'soak', description: 'long tests' }],
      ['PATCH', '/env-types/soak', { minReadySeconds: 120 }],
      ['PATCH', '/env-types/soak', { minReadySeconds: 120 }],
    ];
    for (const [method, url, body] of changes) {
      const response = await api.call(method as 'POST', url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    const expected = [
      ['policy.changed', null, { policy: 'pinned-images', change: 'created' }],
      ['policy.changed', null, { policy: 'pinned-images', change: 'updated' }],
      ['policy.changed', null, { policy: 'pinned-images', change: 'deleted' }],
      ['profile.changed', null, { profile: 'two-replicas', version: 1, change: 'created' }],
      ['profile.changed', null, { profile: 'two-replicas', version: 1, change: 'deleted' }],
      ['template.changed', null, { template: 'tiny', version: 1, change: 'created' }],
      ['template.changed', null, { template: 'tiny', version: 2, change: 'updated' }],
      ['template.changed', null, { template: 'tiny', version: 2, change: 'deleted' }],
      [
        'env-type.changed',
        null,
        {
          type: 'soak',
          change: 'created',
          fields: ['description', 'restricted', 'requiresApproval', 'minReadySeconds'],
        },
      ],
      ['env-type.changed', null, { type: 'soak', change: 'updated', fields: ['minReadySeconds'] }],
    ];
    const recorded = await events(`?after=${before}`);
    expect(recorded.map((e) => [e.type, e.app, e.data])).toEqual(expected);
    // vera views blog only, and reads what everyone may: these too.
    const hers = await events(`?after=${before}`, viewer);
    expect(hers.map((e) => [e.type, e.app, e.data])).toEqual(expected);
  });

  // An app's webhook refuses the event types core says are about no app (APPLESS_EVENT_TYPES): the server must
  // record those, and no others but grants of org roles, without an app.
  it('records about no app exactly the types an app’s webhook refuses, besides grants of org roles', async () => {
    const aboutNoApp = new Set((await events('?limit=1000')).filter((e) => !aboutApps(e)).map((e) => e.type));
    expect([...aboutNoApp].sort()).toEqual([...APPLESS_EVENT_TYPES, 'role.granted', 'role.revoked'].sort());
  });

  it('pages with after and limit, oldest first', async () => {
    const all = await events('?limit=1000');
    const first = await as(api.token, '/events?limit=2');
    expect(first.json().items.map((e: PaveEvent) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    expect(first.json().nextAfter).toBe(all[1]!.id);
    const second = await events(`?limit=2&after=${first.json().nextAfter}`);
    expect(second.map((e) => e.id)).toEqual(all.slice(2, 4).map((e) => e.id));
    const end = await as(api.token, `/events?after=${all.at(-1)!.id}`);
    expect(end.json()).toEqual({ items: [], nextAfter: all.at(-1)!.id });
  });

  it('pages newest first with newest=true and before, for everyone and for a reader of one app', async () => {
    for (const token of [api.token, viewer]) {
      const all = await events('?limit=1000', token);
      const pages: PaveEvent[][] = [];
      let page = (await as(token, '/events?newest=true&limit=3')).json() as EventPage;
      expect(page.nextAfter).toBe(all.at(-1)!.id);
      pages.push(page.items);
      while (page.nextBefore) {
        page = (await as(token, `/events?newest=true&limit=3&before=${page.nextBefore}`)).json() as EventPage;
        pages.push(page.items);
      }
      expect(pages.flat().map((e) => e.id)).toEqual(all.map((e) => e.id).reverse());
      expect(pages.slice(0, -1).every((items) => items.length === 3)).toBe(true);
      // The last page is never empty: a page exactly full of the oldest events says none are older.
      expect(pages.at(-1)!.length).toBeGreaterThan(0);
      const exact = (await as(token, `/events?newest=true&limit=${all.length}`)).json() as EventPage;
      expect([exact.items.length, exact.nextBefore]).toEqual([all.length, null]);
    }
    // The filters apply as they do oldest first.
    const created = await events('?type=environment.created&limit=1000');
    const newest = (await as(api.token, '/events?newest=true&type=environment.created&limit=1')).json();
    expect(newest.items.map((e: PaveEvent) => e.id)).toEqual([created.at(-1)!.id]);
  });

  it('shows a reader only the events of apps it may read', async () => {
    const seen = await events('?limit=1000', viewer);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen.filter(aboutApps).map((e) => e.app))).toEqual(new Set(['blog']));
    expect(seen.filter((e) => !aboutApps(e)).map((e) => e.type)).toEqual(
      seen.filter((e) => READ_BY_EVERYONE.has(e.type)).map((e) => e.type),
    );
    expect((await as(viewer, '/events?app=shop')).statusCode).toBe(404);
  });

  it("shows a recreated app's readers only the events of the app as it is now, not of the one deleted", async () => {
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'temp' }],
      ['POST', '/apps/temp/envs', { id: 'old', type: 'development' }],
      ['DELETE', '/apps/temp?force=true', undefined],
      ['POST', '/apps', { id: 'temp' }],
      ['POST', '/roles', { role: 'viewer', user: 'vera', app: 'temp' }],
      ['POST', '/apps/temp/envs', { id: 'new', type: 'development' }],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    // A token of vera's own made now: the grant is in it (a token's grants are cached for a second).
    const login = await api.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'vera', password: PASSWORD },
    });
    const seen = await events('?app=temp', login.json().token);
    expect(seen.map((e) => `${e.type} ${e.env}`)).toEqual(['role.granted null', 'environment.created new']);
    // An org admin reads the whole history, the deleted app's included.
    const all = await events('?app=temp&type=environment.created');
    expect(all.map((e) => e.env)).toEqual(['old', 'new']);
  });

  it('answers bad parameters with a 400 naming the parameter', async () => {
    for (const [query, path] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=many', 'limit'],
      ['after=-1', 'after'],
      ['newest=true&after=3', 'after'],
      ['before=3', 'before'],
      ['newest=true&before=x', 'before'],
      ['type=deployment.exploded', 'type'],
      ['app=Not_An_App', 'app'],
      ['colour=blue', ''],
    ]) {
      const response = await as(api.token, `/events?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(JSON.stringify(response.json().errors), query).toContain(path);
    }
    const stream = await as(api.token, '/events/stream', { 'last-event-id': 'yesterday' });
    expect(stream.statusCode).toBe(400);
    expect(stream.json().errors[0].path).toBe('header.last-event-id');
  });

  it('streams live events as Server-Sent Events and resumes from Last-Event-ID without gaps or repeats', async () => {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}/api/v1`;
    const start = (await events('?limit=1000')).at(-1)!.id;

    const first = await openStream(`${base}/events/stream?app=shop`, api.token, start);
    const created = await api.call('POST', '/apps/shop/envs', { id: 'live', type: 'development' });
    expect(created.statusCode, created.body).toBe(201);
    const live = await first.next();
    expect(live).toMatchObject({ event: 'environment.created', data: { app: 'shop', env: 'live' } });
    expect(live.id).toBe(live.data.id);
    first.close();

    // While nobody listens, more happens; the resumed stream sends exactly what was missed.
    await api.call('PATCH', '/apps/shop/envs/live/values', { set: { A: { value: '1' } } });
    await api.call('DELETE', '/apps/shop/envs/live');
    const resumed = await openStream(`${base}/events/stream?app=shop`, api.token, live.id);
    const missed = [await resumed.next(), await resumed.next()];
    resumed.close();
    expect(missed.map((m) => m.event)).toEqual(['values.changed', 'environment.deleted']);
    expect(Number(missed[0]!.id)).toBe(Number(live.id) + 1);
    const stored = await events(`?app=shop&after=${start}`);
    expect(stored.map((e) => e.id)).toEqual([live.id, ...missed.map((m) => m.id)]);
  });

  it('ends a stream whose token is revoked while it is open', async () => {
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}/api/v1`;
    const created = await api.call('POST', '/tokens', { name: 'sse' });
    expect(created.statusCode, created.body).toBe(201);
    const { id, token } = created.json() as { id: string; token: string };
    const start = (await events('?limit=1000')).at(-1)!.id;
    const stream = await openStream(`${base}/events/stream`, token, start);
    await api.call('POST', '/apps/shop/envs', { id: 'revoked', type: 'development' });
    expect((await stream.next()).event).toBe('environment.created');
    expect((await api.call('DELETE', `/tokens/${id}`)).statusCode).toBe(204);
    await api.call('DELETE', '/apps/shop/envs/revoked');
    const last = await stream.next();
    stream.close();
    expect(last.event).toBe('error');
    expect(JSON.stringify(last.data)).toContain('revoked');
  });

  it("shows an org admin's token scoped to one app the events of that app, though the admin holds no role on it", async () => {
    const mia = await api.createUser('mia');
    expect((await api.call('POST', '/roles', { role: 'member', user: 'mia' })).statusCode).toBe(201);
    // mia's token caches her grants for a second: wait, so that she holds the member role she was just given.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await api.callAs(mia, 'POST', '/apps', { id: 'mine' })).statusCode).toBe(201);
    const env = await api.call('POST', '/apps/mine/envs', { id: 'dev', type: 'development' });
    expect(env.statusCode, env.body).toBe(201);
    const created = await api.call('POST', '/tokens', { name: 'mine-only', scope: 'app:mine:viewer' });
    expect(created.statusCode, created.body).toBe(201);
    const scoped = (created.json() as { token: string }).token;

    expect((await as(scoped, '/apps/mine')).statusCode).toBe(200);
    expect((await events('?app=mine', scoped)).map((e) => `${e.type} ${e.app}/${e.env}`)).toEqual([
      'environment.created mine/dev',
    ]);
    expect(new Set((await events('?limit=1000', scoped)).filter(aboutApps).map((e) => e.app))).toEqual(
      new Set(['mine']),
    );
    expect((await as(scoped, '/events?app=shop')).statusCode).toBe(404);
  });
});

interface StreamedEvent {
  id: string;
  event: string;
  data: PaveEvent;
}

/** Opens the SSE stream over real HTTP; `next()` resolves with the next event (comments skipped). */
async function openStream(url: string, token: string, lastEventId: string) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, 'last-event-id': lastEventId },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/event-stream');
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    async next(): Promise<StreamedEvent> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]),
          );
          if (fields.event === undefined || fields.data === undefined) continue;
          return { id: fields.id ?? '', event: fields.event, data: JSON.parse(fields.data) };
        }
        if (Date.now() > deadline) throw new Error('no event within 10 s');
        const chunk = await reader.read();
        if (chunk.done) throw new Error('the stream ended');
        buffer += chunk.value;
      }
    },
    close: () => controller.abort(),
  };
}
