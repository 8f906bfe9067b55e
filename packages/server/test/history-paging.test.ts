import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryCursor } from '@pave/core';
import { insertToken } from '../src/domain/tokens.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { storeEngines } from '../../../test/support/stores.ts';

/*
 * The lists that grow with history page with cursors, newest first: an app's build artifacts, an
 * environment's values versions and a webhook's deliveries.
 */

const score = (name: string) =>
  [
    'apiVersion: score.dev/v1b1',
    'metadata:',
    `  name: ${name}`,
    'containers:',
    '  main:',
    '    image: .',
    '',
  ].join('\n');

/** Deliveries of one webhook as seeded: several of the same instant, one without an event. */
const DELIVERIES = [
  { id: 'msg_d1', created_at: '2026-01-01T00:00:01.000Z', event_id: 1 },
  { id: 'msg_d2', created_at: '2026-01-01T00:00:02.000Z', event_id: 2 },
  { id: 'msg_d3a', created_at: '2026-01-01T00:00:03.000Z', event_id: 3 },
  { id: 'msg_d3b', created_at: '2026-01-01T00:00:03.000Z', event_id: 3 },
  { id: 'msg_d4', created_at: '2026-01-01T00:00:03.000Z', event_id: 4 },
  { id: 'msg_dx', created_at: '2026-01-01T00:00:03.000Z', event_id: null },
  { id: 'msg_d5', created_at: '2026-01-01T00:00:04.000Z', event_id: 5 },
];
/** Newest first: by time, then event (none last), then id. */
const DELIVERIES_NEWEST_FIRST = ['msg_d5', 'msg_d4', 'msg_d3b', 'msg_d3a', 'msg_dx', 'msg_d2', 'msg_d1'];

describe.each(storeEngines)('history lists page with cursors on %s', (engine) => {
  let api: FullApi;
  const tokens: Record<string, string> = {};
  let artifactIds: string[] = [];
  let webhookId = '';
  let otherWebhookId = '';

  const get = (url: string, token = api.token) =>
    api.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });

  /** Every page of `url` as `token`, following nextCursor: the ids (as `id` picks them) of each page. */
  async function pages(url: string, limit: number, id: (item: never) => string, token = api.token) {
    const seen: string[][] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
      const response = await get(`${url}${query}`, token);
      expect(response.statusCode, response.body).toBe(200);
      const page = response.json() as { items: never[]; nextCursor: string | null };
      seen.push(page.items.map(id));
      cursor = page.nextCursor;
    } while (cursor !== null && seen.length < 20);
    return seen;
  }

  beforeAll(async () => {
    api = await openFullApi(engine);
    const ok = async (method: 'POST' | 'PATCH', url: string, body: object) => {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
      return response.json() as { id: string; webhook: { id: string } };
    };
    await ok('POST', '/apps', { id: 'shop' });
    await ok('POST', '/apps', { id: 'blog' });
    await ok('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    for (const [username, role] of [
      ['olga', 'owner'],
      ['dev', 'developer'],
      ['vic', 'viewer'],
    ] as const) {
      const user = await ok('POST', '/users', { username });
      await ok('POST', '/roles', { role, user: username, app: 'shop' });
      tokens[username] = (await insertToken(api.store.db, { id: user.id, username }, 'all', null)).token;
    }
    const outsider = await ok('POST', '/users', { username: 'out' });
    await ok('POST', '/roles', { role: 'owner', user: 'out', app: 'blog' });
    tokens.out = (await insertToken(api.store.db, { id: outsider.id, username: 'out' }, 'all', null)).token;

    for (let n = 1; n <= 7; n++) {
      const pushed = await ok('POST', '/apps/shop/artifacts', {
        commit: `c0ffee${n}`,
        scoreFiles: [{ file: 'web.score.yaml', dir: '/srv/shop', content: score('web') }],
      });
      artifactIds.push(pushed.id);
    }
    artifactIds = artifactIds.reverse();
    for (let n = 1; n <= 7; n++) {
      await ok('PATCH', '/apps/shop/envs/dev/values', { set: { [`KEY_${n}`]: { value: String(n) } } });
    }

    const hook = (name: string) =>
      ok('POST', '/webhooks', { name, url: `https://hooks.example.com/${name}`, app: 'shop' });
    webhookId = (await hook('ci')).webhook.id;
    otherWebhookId = (await hook('other')).webhook.id;
    const delivery = (webhook: string, seed: (typeof DELIVERIES)[number]) => ({
      ...seed,
      id: `${seed.id}_${webhook}`,
      webhook_id: webhook,
      event_type: 'values.changed',
      payload: '{}',
      status: 'succeeded',
      attempts: 1,
      next_attempt_at: null,
      last_status_code: 204,
      last_error: null,
      attempt_log: '[]',
    });
    await api.store.db
      .insertInto('webhook_deliveries')
      .values([
        ...DELIVERIES.map((seed) => delivery(webhookId, seed)),
        // Another webhook's deliveries of the same instants are never on its pages.
        ...DELIVERIES.map((seed) => delivery(otherWebhookId, seed)),
      ])
      .execute();
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const byId = (item: never) => (item as { id: string }).id;
  const byVersion = (item: never) => String((item as { version: number }).version);

  describe('GET /apps/:app/artifacts', () => {
    it('gives every artifact once, newest first, a page at a time', async () => {
      const [a7, a6, a5, a4, a3, a2, a1] = artifactIds;
      expect(await pages('/apps/shop/artifacts', 3, byId)).toEqual([[a7, a6, a5], [a4, a3, a2], [a1]]);
      // A page that ends exactly at the oldest artifact says there is no more.
      expect(await pages('/apps/shop/artifacts', 7, byId)).toEqual([artifactIds]);
      const all = await get('/apps/shop/artifacts');
      expect(all.json()).toEqual({ items: expect.any(Array), nextCursor: null });
      expect(all.json().items).toHaveLength(7);
    });

    it('lets a viewer page through them, and hides them from someone without a role on the app', async () => {
      expect((await pages('/apps/shop/artifacts', 4, byId, tokens.vic)).flat()).toEqual(artifactIds);
      const cursor = artifactIds[2]!;
      expect((await get(`/apps/shop/artifacts?cursor=${cursor}`, tokens.out)).statusCode).toBe(404);
      expect((await get('/apps/nope/artifacts?limit=2')).statusCode).toBe(404);
    });
  });

  describe('GET /apps/:app/envs/:env/values/versions', () => {
    it('gives every version once, newest first, a page at a time', async () => {
      expect(await pages('/apps/shop/envs/dev/values/versions', 3, byVersion)).toEqual([
        ['7', '6', '5'],
        ['4', '3', '2'],
        ['1'],
      ]);
      expect(await pages('/apps/shop/envs/dev/values/versions', 7, byVersion)).toEqual([
        ['7', '6', '5', '4', '3', '2', '1'],
      ]);
      const all = await get('/apps/shop/envs/dev/values/versions');
      expect(all.json()).toEqual({ items: expect.any(Array), nextCursor: null });
      expect(all.json().items).toHaveLength(7);
    });

    it('lets a viewer page through them, and hides them from someone without a role on the app', async () => {
      expect((await pages('/apps/shop/envs/dev/values/versions', 5, byVersion, tokens.vic)).flat()).toEqual([
        '7',
        '6',
        '5',
        '4',
        '3',
        '2',
        '1',
      ]);
      const hidden = await get('/apps/shop/envs/dev/values/versions?limit=2&cursor=5', tokens.out);
      expect(hidden.statusCode).toBe(404);
    });
  });

  describe('GET /webhooks/:id/deliveries', () => {
    const own = (ids: string[][]) => ids.map((page) => page.map((id) => id.replace(`_${webhookId}`, '')));

    it('gives every delivery once, newest first, a page at a time, through deliveries of the same instant', async () => {
      const url = `/webhooks/${webhookId}/deliveries`;
      for (const limit of [1, 2, 3, 7]) {
        const seen = own(await pages(url, limit, byId));
        expect(seen.flat(), `limit ${limit}`).toEqual(DELIVERIES_NEWEST_FIRST);
        expect(seen.length, `limit ${limit}`).toBe(Math.ceil(DELIVERIES.length / limit));
      }
      const all = await get(url);
      expect(all.json()).toEqual({ items: expect.any(Array), nextCursor: null });
      expect(own([all.json().items.map((d: { id: string }) => d.id)])).toEqual([DELIVERIES_NEWEST_FIRST]);
    });

    it('lets the app’s owner page through them; a developer is refused, an outsider does not see the webhook', async () => {
      const url = `/webhooks/${webhookId}/deliveries`;
      expect(own(await pages(url, 4, byId, tokens.olga)).flat()).toEqual(DELIVERIES_NEWEST_FIRST);
      const cursor = deliveryCursor({ createdAt: '2026-01-01T00:00:03.000Z', eventId: '4', id: 'msg_d4' });
      expect((await get(`${url}?limit=2&cursor=${cursor}`, tokens.dev)).statusCode).toBe(403);
      expect((await get(`${url}?limit=2&cursor=${cursor}`, tokens.out)).statusCode).toBe(404);
    });
  });

  it('refuses a cursor that is no previous page’s nextCursor, or a limit out of range, naming the parameter', async () => {
    const urls = [
      '/apps/shop/artifacts',
      '/apps/shop/envs/dev/values/versions',
      `/webhooks/${webhookId}/deliveries`,
    ];
    const badCursors = [
      ['/apps/shop/artifacts', ['abc', '-1', '1.5', '12345678901234567890']],
      ['/apps/shop/envs/dev/values/versions', ['abc', '-1', '99999999999', '2147483648']],
      [
        `/webhooks/${webhookId}/deliveries`,
        ['msg_d4', 'not base64!', Buffer.from('[1,2,3]').toString('base64url')],
      ],
    ] as const;
    for (const [url, cursors] of badCursors) {
      for (const cursor of cursors) {
        const response = await get(`${url}?cursor=${encodeURIComponent(cursor)}`);
        expect(response.statusCode, `${url} ${cursor}: ${response.body}`).toBe(400);
        expect(JSON.stringify(response.json()), `${url} ${cursor}`).toContain('cursor');
        expect(JSON.stringify(response.json()), `${url} ${cursor}`).toContain(
          'must be the nextCursor value of a previous page',
        );
      }
    }
    for (const url of urls) {
      for (const limit of ['0', '501', 'ten', '2.5']) {
        const response = await get(`${url}?limit=${limit}`);
        expect(response.statusCode, `${url} ${limit}: ${response.body}`).toBe(400);
        expect(JSON.stringify(response.json()), `${url} ${limit}`).toContain('limit');
      }
    }
  });
});
