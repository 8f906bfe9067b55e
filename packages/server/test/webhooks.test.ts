import type { CreatedWebhook, PaveEvent, Webhook as WebhookView, WebhookDelivery } from '@pave/core';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.ts';
import { systemContext } from '../src/domain/context.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../src/domain/webhooks/dispatcher.ts';
import { WebhookAllowList } from '../src/domain/webhooks/ssrf.ts';
import { removeRetiredWebhooks, retireAppWebhooks } from '../src/domain/webhooks/records.ts';
import { EnvironmentJanitor } from '../src/domain/janitor.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { eventually, signatureHeaders, startReceiver, type Receiver } from './support/webhook-receiver.ts';

const PASSWORD = 'a long enough password';

describe.each(storeEngines)('webhooks on %s', (engine) => {
  let api: FullApi;
  const receivers: Receiver[] = [];
  const dispatchers: WebhookDispatcher[] = [];
  const tokens: Record<string, string> = {};

  const as = (who: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    api.app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${tokens[who] ?? api.token}` },
      ...(payload ? { payload } : {}),
    });
  const create = async (body: object, who = 'admin'): Promise<CreatedWebhook> => {
    const response = await as(who, 'POST', '/webhooks', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };
  const receiver = async (answer?: Receiver['answer'], options?: { delayMs?: number }) => {
    const started = await startReceiver(answer, options);
    receivers.push(started);
    return started;
  };
  const dispatcher = (options: Partial<WebhookDispatcherOptions> = {}) => {
    const started = new WebhookDispatcher({
      store: api.store,
      box: api.box,
      allow: new WebhookAllowList(['127.0.0.1/32']),
      logger: pino({ level: 'silent' }),
      pollMs: 50,
      ...options,
    });
    dispatchers.push(started);
    started.start();
    return started;
  };
  const record = async (count: number, app: string | null = 'shop') => {
    for (let index = 0; index < count; index++) {
      await recordEvent(api.store.db, systemContext('tester', 'test'), {
        type: 'values.changed',
        app,
        env: null,
        data: { scope: 'app', version: null, set: [`KEY_${index}`], unset: [] },
      });
    }
  };
  const deliveries = async (id: string): Promise<WebhookDelivery[]> => {
    const response = await as('admin', 'GET', `/webhooks/${id}/deliveries`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [method, url, body] of [
      ['POST', '/apps', { id: 'shop' }],
      ['POST', '/apps', { id: 'blog' }],
      ['POST', '/users', { username: 'olga', password: PASSWORD }],
      ['POST', '/users', { username: 'dev', password: PASSWORD }],
      ['POST', '/users', { username: 'pat', password: PASSWORD }],
      ['POST', '/roles', { role: 'owner', user: 'olga', app: 'shop' }],
      ['POST', '/roles', { role: 'developer', user: 'dev', app: 'shop' }],
      ['POST', '/roles', { role: 'platform', user: 'pat' }],
    ] as const) {
      const response = await api.call(method, url, body);
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    }
    for (const username of ['olga', 'dev', 'pat']) {
      const login = await api.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
  });
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((started) => started.stop()));
    await Promise.all(receivers.splice(0).map((started) => started.close()));
    // Each test starts with no webhook: one left behind would fail (its receiver closed) in the next.
    for (const { id } of await api.store.db.selectFrom('webhooks').select('id').execute()) {
      await api.call('DELETE', `/webhooks/${id}`);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('creates a webhook whose secret is shown once: never in GET, the audit log or the store in plaintext', async () => {
    const created = await create({
      name: 'ci',
      url: 'https://hooks.example.com/pave?token=abc',
      app: 'shop',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{42}[A-Za-z0-9+/=]{2}$/);
    expect(created.webhook).toMatchObject({
      name: 'ci',
      app: 'shop',
      events: null,
      enabled: true,
      consecutiveFailures: 0,
      createdBy: 'admin',
    });
    const shown = await as('admin', 'GET', `/webhooks/${created.webhook.id}`);
    expect(shown.json()).toEqual(created.webhook);
    const listed = await as('admin', 'GET', '/webhooks?app=shop');
    expect(listed.json().items).toEqual([created.webhook]);
    const audit = await as('admin', 'GET', '/audit?app=shop');
    expect(audit.body).toContain('webhook.create');
    const secretBody = created.secret.slice('whsec_'.length);
    for (const text of [shown.body, listed.body, audit.body]) expect(text).not.toContain(secretBody);
    // The URL's query may hold a credential of the receiver: the audit log keeps it out.
    expect(audit.body).not.toContain('token=abc');
    const rows = await api.store.db.selectFrom('webhooks').selectAll().execute();
    const audits = await api.store.db.selectFrom('audit_entries').selectAll().execute();
    expect(JSON.stringify([rows, audits])).not.toContain(secretBody);
    const duplicate = await as('admin', 'POST', '/webhooks', {
      name: 'ci',
      url: 'https://x.example.com',
      app: 'shop',
    });
    expect(duplicate.statusCode).toBe(409);
    expect((await as('admin', 'DELETE', `/webhooks/${created.webhook.id}`)).statusCode).toBe(204);
    const gone = await as('admin', 'GET', `/webhooks/${created.webhook.id}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().detail).toContain(`webhook "${created.webhook.id}" not found`);
  });

  it('changes a webhook’s name, URL and event types, checking them as creation does', async () => {
    const created = await create({
      name: 'changing',
      url: 'https://hooks.example.com/pave',
      app: 'shop',
      events: ['values.changed'],
    });
    const path = `/webhooks/${created.webhook.id}`;
    const patch = (body: object, who = 'admin') => as(who, 'PATCH', path, body);

    const renamed = await patch({ name: 'renamed' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toEqual({ ...created.webhook, name: 'renamed' });
    const moved = await patch({
      url: 'https://pave:hunter2@new.example.com/services/T1/B2/XYZZY?token=tok3n',
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({
      name: 'renamed',
      url: 'https://pave:***@new.example.com/services/…?token=[redacted]',
      events: ['values.changed'],
    });
    const narrowed = await patch({ events: ['deployment.failed', 'deployment.failed', 'values.changed'] });
    expect(narrowed.json().events).toEqual(['deployment.failed', 'values.changed']);
    // null and left out mean "unchanged" for name and url; events: null is every type again.
    const everything = await patch({ name: null, url: null, events: null });
    expect(everything.statusCode, everything.body).toBe(200);
    expect(everything.json()).toMatchObject({ name: 'renamed', events: null, url: moved.json().url });
    const shown = await as('admin', 'GET', path);
    expect(shown.json()).toEqual(everything.json());
    expect(shown.json()).toMatchObject({ id: created.webhook.id, createdAt: created.webhook.createdAt });
    // The same name as now is no change and no conflict.
    expect((await patch({ name: 'renamed' })).statusCode).toBe(200);

    // The whole URL is stored only sealed, as at creation.
    const row = await api.store.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', created.webhook.id)
      .executeTakeFirstOrThrow();
    expect(row.url).toBe(moved.json().url);
    expect(JSON.stringify(row)).not.toMatch(/hunter2|XYZZY|tok3n/);
    expect(await api.box.decrypt(row.sealed_url!)).toBe(
      'https://pave:hunter2@new.example.com/services/T1/B2/XYZZY?token=tok3n',
    );
  });

  it('answers a change it cannot make with a 400 naming the field, or a 409 for a name taken', async () => {
    const created = await create({ name: 'first', url: 'https://hooks.example.com/a', app: 'shop' });
    await create({ name: 'second', url: 'https://hooks.example.com/b', app: 'shop' });
    await create({ name: 'first', url: 'https://hooks.example.com/c', app: 'blog' });
    const path = `/webhooks/${created.webhook.id}`;
    const patch = (body: object) => as('admin', 'PATCH', path, body);

    const nothing = await patch({});
    expect(nothing.statusCode).toBe(400);
    expect(nothing.json().detail).toBe(
      'nothing to change: give at least one of name, url and events (null: every event type)',
    );
    const ftp = await patch({ url: 'ftp://example.com/' });
    expect(ftp.statusCode).toBe(400);
    expect(ftp.json().errors).toEqual([
      { path: '/url', message: expect.stringContaining('must be an http:// or https:// URL') },
    ]);
    // Found by a review of bad input: the port was the problem, and the answer did not say so.
    const port = await patch({ url: 'https://hooks.example.com:99999/in' });
    expect(port.json().errors).toEqual([
      { path: '/url', message: 'has port 99999; a port is a number from 1 to 65535' },
    ]);
    const metadata = await patch({ url: 'http://169.254.169.254/latest' });
    expect(metadata.statusCode).toBe(400);
    expect(metadata.json().detail).toBe(
      'refused: http://169.254.169.254/latest resolves to 169.254.169.254, a loopback/private/link-local ' +
        'address; allow it with pave up --webhook-allow 169.254.169.254/32',
    );
    expect(metadata.json().errors).toEqual([{ path: '/url', message: metadata.json().detail }]);
    const loopback = await patch({ url: 'http://[::1]:8080/hook' });
    expect(loopback.statusCode).toBe(400);
    expect(loopback.json().errors[0].path).toBe('/url');
    const noTypes = await patch({ events: [] });
    expect(noTypes.statusCode).toBe(400);
    expect(noTypes.json().errors[0].path).toBe('/events');
    const badType = await patch({ events: ['nope'] });
    expect(badType.statusCode).toBe(400);
    expect(badType.body).toContain('deployment.succeeded');
    const badName = await patch({ name: 'Not A Label' });
    expect(badName.statusCode).toBe(400);
    expect(badName.json().errors[0].path).toBe('/name');
    const unknownField = await patch({ app: 'blog' });
    expect(unknownField.statusCode).toBe(400);

    const taken = await patch({ name: 'second' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().detail).toBe('a webhook named "second" already exists for app shop');
    expect(taken.json().errors).toEqual([
      { path: '/name', message: expect.stringContaining('another name') },
    ]);
    // Nothing of a refused change was kept; a name taken only in another scope is free here.
    expect((await as('admin', 'GET', path)).json()).toEqual(created.webhook);
    expect((await patch({ name: 'first' })).statusCode).toBe(200);
    const missing = await as('admin', 'PATCH', '/webhooks/wh_nope', { name: 'x' });
    expect(missing.statusCode).toBe(404);
    expect((await as('admin', 'POST', '/webhooks/wh_nope/rotate-secret')).statusCode).toBe(404);
  });

  it('lets only those who may delete a webhook change it or rotate its secret', async () => {
    const owned = await create({ name: 'owned', url: 'https://hooks.example.com/a', app: 'shop' }, 'olga');
    const orgWide = await create({ name: 'all', url: 'https://a.example' }, 'pat');
    const ownedPath = `/webhooks/${owned.webhook.id}`;
    const orgPath = `/webhooks/${orgWide.webhook.id}`;
    const byDeveloper = await as('dev', 'PATCH', ownedPath, { name: 'mine' });
    expect(byDeveloper.statusCode).toBe(403);
    expect(byDeveloper.body).toContain('webhook.manage');
    expect((await as('dev', 'POST', `${ownedPath}/rotate-secret`)).statusCode).toBe(403);
    const byOwner = await as('olga', 'PATCH', orgPath, { name: 'mine' });
    expect(byOwner.statusCode).toBe(403);
    expect(byOwner.body).toContain('webhook.manage-org');
    expect((await as('olga', 'POST', `${orgPath}/rotate-secret`)).statusCode).toBe(403);
    // A webhook of an app the caller has no role on does not exist.
    expect((await as('pat', 'PATCH', ownedPath, { name: 'mine' })).statusCode).toBe(404);
    expect((await as('pat', 'POST', `${ownedPath}/rotate-secret`)).statusCode).toBe(404);
    expect((await as('admin', 'GET', ownedPath)).json()).toEqual(owned.webhook);

    const changed = await as('olga', 'PATCH', ownedPath, { events: ['deployment.failed'] });
    expect(changed.statusCode, changed.body).toBe(200);
    const rotated = await as('olga', 'POST', `${ownedPath}/rotate-secret`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    expect((await as('pat', 'PATCH', orgPath, { name: 'everything' })).json().name).toBe('everything');
    expect((await as('pat', 'POST', `${orgPath}/rotate-secret`)).statusCode).toBe(200);
  });

  it('sends the pending delivery and the next events to the new URL at once, signed with the rotated secret', async () => {
    const old = await receiver(() => 500);
    const created = await create({ name: 'moving', url: old.url, app: 'shop' });
    await record(1);
    dispatcher({ retry: { firstBackoffMs: 600_000 } });
    await eventually(() => old.requests.length === 1);
    await eventually(async () => (await deliveries(created.webhook.id)).length === 1);
    const [pending] = await deliveries(created.webhook.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });

    // 0s: the old secret signs nothing more from now on.
    const rotated = await as('olga', 'POST', `/webhooks/${created.webhook.id}/rotate-secret`, {
      previousValidFor: '0s',
    });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { webhook, secret } = rotated.json() as CreatedWebhook;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{42}[A-Za-z0-9+/=]{2}$/);
    expect(secret).not.toBe(created.secret);
    expect(webhook).toEqual(created.webhook);
    const next = await receiver();
    // The query carries a credential: the receiver must get it, which only the sealed whole URL has.
    const moved = await as('olga', 'PATCH', `/webhooks/${created.webhook.id}`, {
      url: `${next.url}?token=sesame`,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().url).toBe(`${next.url}?token=[redacted]`);

    // Well before the ten-minute backoff the pending delivery was waiting out at the old URL.
    await eventually(() => next.requests.length === 1, 5_000);
    const [retried] = next.requests;
    expect(retried!.url).toBe('/hook?token=sesame');
    expect(retried!.headers['webhook-id']).toBe(pending!.id);
    new Webhook(secret).verify(retried!.body, signatureHeaders(retried!.headers));
    expect(() =>
      new Webhook(created.secret).verify(retried!.body, signatureHeaders(retried!.headers)),
    ).toThrow();
    await record(1);
    await eventually(() => next.requests.length === 2);
    const fresh = new Webhook(secret).verify(
      next.requests[1]!.body,
      signatureHeaders(next.requests[1]!.headers),
    ) as PaveEvent;
    expect(Number(fresh.id)).toBeGreaterThan(Number(pending!.eventId));
    // A redelivery of an earlier delivery goes to the new URL as well.
    const queued = await as('olga', 'POST', `/webhook-deliveries/${pending!.id}/redeliver`);
    expect(queued.statusCode, queued.body).toBe(202);
    await eventually(() => next.requests.length === 3);
    expect(next.requests[2]!.headers['webhook-id']).toBe(queued.json().id);
    new Webhook(secret).verify(next.requests[2]!.body, signatureHeaders(next.requests[2]!.headers));
    expect(old.requests).toHaveLength(1);
    await eventually(async () => {
      const recorded = await deliveries(created.webhook.id);
      return recorded.length === 3 && recorded.every((d) => d.status === 'succeeded');
    });
    // The history stays: the first delivery's attempts at the old URL and at the new one.
    const first = (await deliveries(created.webhook.id)).find((d) => d.id === pending!.id);
    expect(first!.attemptLog.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
  });

  it('retries at the new URL at once when the URL changed while an attempt at the old one was under way', async () => {
    const old = await receiver(() => null);
    const created = await create({ name: 'in-flight', url: old.url, app: 'shop' });
    dispatcher({ retry: { firstBackoffMs: 600_000 }, timeoutMs: 1_500 });
    await record(1);
    await eventually(() => old.requests.length === 1);
    const next = await receiver();
    expect((await as('olga', 'PATCH', `/webhooks/${created.webhook.id}`, { url: next.url })).statusCode).toBe(
      200,
    );
    // The attempt at the old URL times out after the change: its failure was the old URL's, not a reason to
    // wait out ten minutes of backoff.
    await eventually(() => next.requests.length === 1, 8_000);
    expect(next.requests[0]!.headers['webhook-id']).toBe(old.requests[0]!.headers['webhook-id']);
  });

  it('signs every attempt after a rotation with the new secret, within a batch too', async () => {
    const slow = await receiver(() => 200, { delayMs: 300 });
    const created = await create({ name: 'rotating', url: slow.url, app: 'shop' });
    await record(5);
    dispatcher();
    await eventually(() => slow.requests.length === 1);
    const rotated = await as('olga', 'POST', `/webhooks/${created.webhook.id}/rotate-secret`);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const rotatedAt = Date.now();
    const { secret } = rotated.json() as CreatedWebhook;
    await eventually(() => slow.requests.length === 5);
    const after = slow.requests.filter((request) => request.at > rotatedAt);
    expect(after.length).toBeGreaterThanOrEqual(3);
    for (const request of after) new Webhook(secret).verify(request.body, signatureHeaders(request.headers));
  });

  it('signs each delivery with both secrets while the old one stays valid, then with the new one alone', async () => {
    const hook = await receiver();
    const created = await create({ name: 'overlapping', url: hook.url, app: 'shop' });
    const path = `/webhooks/${created.webhook.id}`;
    dispatcher();
    const before = Date.now();
    const rotated = await as('olga', 'POST', `${path}/rotate-secret`, { previousValidFor: '1h' });
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { webhook, secret } = rotated.json() as CreatedWebhook;
    const expiresAt = Date.parse(webhook.previousSecretExpiresAt!);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect((await as('admin', 'GET', path)).json()).toEqual(webhook);
    const verifies = (key: string, index: number) => {
      const request = hook.requests[index]!;
      try {
        new Webhook(key).verify(request.body, signatureHeaders(request.headers));
        return true;
      } catch {
        return false;
      }
    };

    await record(1);
    await eventually(() => hook.requests.length === 1);
    expect(String(hook.requests[0]!.headers['webhook-signature'])).toMatch(/^v1,\S+ v1,\S+$/);
    expect([verifies(secret, 0), verifies(created.secret, 0)]).toEqual([true, true]);

    // The window is over: the next attempt reads it and signs with the new secret alone.
    await api.store.db
      .updateTable('webhooks')
      .set({ previous_secret_until: new Date(Date.now() - 1_000).toISOString() })
      .where('id', '=', created.webhook.id)
      .execute();
    expect((await as('admin', 'GET', path)).json().previousSecretExpiresAt).toBeNull();
    await record(1);
    await eventually(() => hook.requests.length === 2);
    expect(String(hook.requests[1]!.headers['webhook-signature'])).toMatch(/^v1,\S+$/);
    expect([verifies(secret, 1), verifies(created.secret, 1)]).toEqual([true, false]);

    // Signing nothing more, the old secret is not kept either: the janitor's next sweep forgets it.
    const stored = () =>
      api.store.db
        .selectFrom('webhooks')
        .select(['previous_secret', 'previous_secret_until'])
        .where('id', '=', created.webhook.id)
        .executeTakeFirstOrThrow();
    expect((await stored()).previous_secret).not.toBeNull();
    const janitor = new EnvironmentJanitor({
      store: api.store,
      teardown: { workloads: async () => undefined, resources: async () => undefined },
      logger: pino({ level: 'silent' }),
      replicaId: 'test',
    });
    await janitor.sweep();
    expect(await stored()).toEqual({ previous_secret: null, previous_secret_until: null });
  });

  it('drops the older secret at once when a rotation comes during another one’s overlap, and all with 0s', async () => {
    const hook = await receiver();
    const created = await create({ name: 'twice', url: hook.url, app: 'shop' });
    const path = `/webhooks/${created.webhook.id}`;
    dispatcher();
    const rotate = async (body?: object) => {
      const rotated = await as('olga', 'POST', `${path}/rotate-secret`, body);
      expect(rotated.statusCode, rotated.body).toBe(200);
      return rotated.json() as CreatedWebhook;
    };
    const verified = async (count: number) => {
      await record(1);
      await eventually(() => hook.requests.length === count);
      const request = hook.requests[count - 1]!;
      return [created.secret, second.secret, third.secret].map((key) => {
        try {
          new Webhook(key).verify(request.body, signatureHeaders(request.headers));
          return true;
        } catch {
          return false;
        }
      });
    };
    // Without a body: 24 hours, as Svix does.
    const second = await rotate();
    expect(Date.parse(second.webhook.previousSecretExpiresAt!) - Date.now()).toBeGreaterThan(86_000_000);
    const third = await rotate({ previousValidFor: '7d' });
    expect(await verified(1)).toEqual([false, true, true]);
    const fourth = await rotate({ previousValidFor: '0s' });
    expect(fourth.webhook.previousSecretExpiresAt).toBeNull();
    await record(1);
    await eventually(() => hook.requests.length === 2);
    const last = hook.requests[1]!;
    new Webhook(fourth.secret).verify(last.body, signatureHeaders(last.headers));
    expect(String(last.headers['webhook-signature'])).toMatch(/^v1,\S+$/);
    const row = await api.store.db
      .selectFrom('webhooks')
      .select(['previous_secret', 'previous_secret_until'])
      .where('id', '=', created.webhook.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ previous_secret: null, previous_secret_until: null });
  });

  it('keeps the replaced secret sealed and audits the window, never a secret', async () => {
    const created = await create({ name: 'sealed', url: 'https://hooks.example.com/s', app: 'shop' });
    const path = `/webhooks/${created.webhook.id}`;
    const rotated = await as('olga', 'POST', `${path}/rotate-secret`, { previousValidFor: '2h' });
    const { webhook, secret } = rotated.json() as CreatedWebhook;
    const row = await api.store.db
      .selectFrom('webhooks')
      .selectAll()
      .where('id', '=', created.webhook.id)
      .executeTakeFirstOrThrow();
    expect(await api.box.decrypt(row.previous_secret!)).toBe(created.secret);
    const stored = JSON.stringify([
      row,
      await api.store.db.selectFrom('audit_entries').selectAll().execute(),
    ]);
    const audit = await as('admin', 'GET', '/audit?app=shop');
    for (const text of [stored, audit.body, rotated.body.replace(secret, '')]) {
      expect(text).not.toContain(created.secret.slice('whsec_'.length));
    }
    expect(stored).not.toContain(secret.slice('whsec_'.length));
    const entry = (audit.json().items as Array<{ action: string; target: string; summary: unknown }>).find(
      (item) => item.action === 'webhook.rotate-secret' && item.target === path.slice(1),
    );
    expect(entry!.summary).toEqual({
      id: created.webhook.id,
      name: 'sealed',
      previousValidFor: '2h',
      previousSecretExpiresAt: webhook.previousSecretExpiresAt,
    });
  });

  it('answers a rotation over a secret that changed while it waited with a 409, keeping nothing of it', async () => {
    const created = await create({ name: 'raced', url: 'https://hooks.example.com/r', app: 'shop' });
    const path = `/webhooks/${created.webhook.id}`;
    const other = await api.box.encrypt('app:shop', 'whsec_b3RoZXIgcm90YXRpb24gb3RoZXIgcm90YXRpb24hIQ==');
    let rotation: Promise<{ statusCode: number; body: string }> | undefined;
    await api.store.transaction(async (tx) => {
      // Another rotation, not committed yet: on PostgreSQL this one waits for it, then finds its secret gone.
      await tx.updateTable('webhooks').set({ secret: other }).where('id', '=', created.webhook.id).execute();
      rotation = as('admin', 'POST', `${path}/rotate-secret`, { previousValidFor: '1h' });
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const answer = await rotation!;
    const row = await api.store.db
      .selectFrom('webhooks')
      .select(['secret', 'previous_secret'])
      .where('id', '=', created.webhook.id)
      .executeTakeFirstOrThrow();
    if (engine === 'postgres') {
      expect(answer.statusCode, answer.body).toBe(409);
      expect(row).toEqual({ secret: other, previous_secret: null });
    } else {
      // SQLite runs one write transaction at a time: the rotation starts after the other one committed.
      expect(answer.statusCode, answer.body).toBe(200);
      expect(row.previous_secret).toBe(other);
    }
  });

  it('answers a rotation window that is not a duration from 0s to 7d with a 400 naming it', async () => {
    const created = await create({ name: 'windows', url: 'https://hooks.example.com/w', app: 'shop' });
    const path = `/webhooks/${created.webhook.id}/rotate-secret`;
    for (const previousValidFor of ['8d', '169h', '1w', 'soon', '-1s', '1.5h', '', 24]) {
      const refused = await as('olga', 'POST', path, { previousValidFor });
      expect(refused.statusCode, `${String(previousValidFor)}: ${refused.body}`).toBe(400);
      expect(refused.json().errors).toContainEqual({
        path: '/previousValidFor',
        message: expect.any(String),
      });
    }
    expect((await as('olga', 'POST', path, { previousValidFor: '7d' })).statusCode).toBe(200);
    expect((await as('olga', 'POST', path, { previousValidFor: '168h' })).statusCode).toBe(200);
  });

  it('sends nothing more once a webhook is deleted, also in the middle of a batch', async () => {
    const slow = await receiver(() => 200, { delayMs: 300 });
    const created = await create({ name: 'deleted', url: slow.url, app: 'shop' });
    await record(5);
    dispatcher();
    await eventually(() => slow.requests.length === 1);
    expect((await as('olga', 'DELETE', `/webhooks/${created.webhook.id}`)).statusCode).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(slow.requests).toHaveLength(1);
  });

  it('replaces a stored URL that can no longer be opened', async () => {
    const created = await create({ name: 'unreadable', url: 'https://hooks.example.com/a', app: 'shop' });
    await api.store.db
      .updateTable('webhooks')
      .set({ sealed_url: 'not a sealed value' })
      .where('id', '=', created.webhook.id)
      .execute();
    const changed = await as('olga', 'PATCH', `/webhooks/${created.webhook.id}`, {
      url: 'https://hooks.example.com/b',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().url).toBe('https://hooks.example.com/b');
  });

  it('records nothing for a change to what the webhook has already', async () => {
    const created = await create({ name: 'steady', url: 'https://hooks.example.com/a', app: 'shop' });
    const path = `/webhooks/${created.webhook.id}`;
    const audited = async () =>
      (
        await api.store.db
          .selectFrom('audit_entries')
          .select('id')
          .where('action', '=', 'webhook.update')
          .execute()
      ).length;
    const before = await audited();
    for (const body of [
      { name: 'steady' },
      { url: 'https://hooks.example.com/a' },
      { events: null },
      { name: 'steady', url: 'https://hooks.example.com/a', events: null },
    ]) {
      const same = await as('olga', 'PATCH', path, body);
      expect(same.statusCode, same.body).toBe(200);
      expect(same.json()).toEqual(created.webhook);
    }
    expect(await audited()).toBe(before);
    expect((await as('olga', 'PATCH', path, { events: ['deployment.failed'] })).statusCode).toBe(200);
    expect(await audited()).toBe(before + 1);
  });

  it('changes nothing of a webhook its app’s deletion retired while the change waited', async () => {
    const created = await create({ name: 'retiring', url: 'https://hooks.example.com/r', app: 'blog' });
    const path = `/webhooks/${created.webhook.id}`;
    let change: Promise<{ statusCode: number }> | undefined;
    let rotation: Promise<{ statusCode: number }> | undefined;
    let enabling: Promise<{ statusCode: number }> | undefined;
    await api.store.db
      .updateTable('webhooks')
      .set({ enabled: 0, disabled_reason: 'failed 10 times in a row' })
      .where('id', '=', created.webhook.id)
      .execute();
    await api.store.transaction(async (tx) => {
      await retireAppWebhooks(tx, 'blog');
      // Asked while the deletion has not committed yet: they wait for it, then find the webhook retired.
      change = as('admin', 'PATCH', path, { url: 'https://hooks.example.com/elsewhere' });
      rotation = as('admin', 'POST', `${path}/rotate-secret`);
      enabling = as('admin', 'POST', `${path}/enable`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    expect((await change!).statusCode).toBe(404);
    expect((await rotation!).statusCode).toBe(404);
    expect((await enabling!).statusCode).toBe(404);
    const row = await api.store.db
      .selectFrom('webhooks')
      .select(['url', 'secret', 'enabled'])
      .where('id', '=', created.webhook.id)
      .executeTakeFirstOrThrow();
    expect(row.url).toBe('https://hooks.example.com/r');
    expect(Number(row.enabled)).toBe(0);
    // The retired webhook is not the tests' after this one: its row goes.
    await api.store.db.deleteFrom('webhooks').where('id', '=', created.webhook.id).execute();
  });

  it('audits changes and rotations with neither the secret nor the URL’s credentials', async () => {
    const created = await create({ name: 'audited', url: 'https://hooks.example.com/a', app: 'shop' });
    const path = `/webhooks/${created.webhook.id}`;
    const url = 'https://pave:hunter2@hooks.example.com/services/T1/B2/XYZZY?token=tok3n';
    expect(
      (await as('olga', 'PATCH', path, { name: 'audited-2', url, events: ['deployment.failed'] })).statusCode,
    ).toBe(200);
    const rotated = await as('olga', 'POST', `${path}/rotate-secret`);
    const { secret } = rotated.json() as CreatedWebhook;
    const audit = await as('admin', 'GET', '/audit?app=shop');
    const entries = (
      audit.json().items as Array<{ action: string; actor: string; target: string; summary: unknown }>
    ).filter((entry) => entry.target === `webhooks/${created.webhook.id}`);
    expect(entries.map((entry) => [entry.action, entry.actor]).sort()).toEqual([
      ['webhook.create', 'admin'],
      ['webhook.rotate-secret', 'olga'],
      ['webhook.update', 'olga'],
    ]);
    expect(entries.find((entry) => entry.action === 'webhook.update')!.summary).toEqual({
      id: created.webhook.id,
      name: 'audited-2',
      previousName: 'audited',
      // As create audits it: no credentials, no query, the path as shown.
      url: expect.stringMatching(/^https:\/\/hooks\.example\.com\/services\/…\?[^=]*$/),
      events: ['deployment.failed'],
    });
    const stored = JSON.stringify(await api.store.db.selectFrom('audit_entries').selectAll().execute());
    for (const text of [audit.body, stored]) {
      expect(text).not.toContain(secret.slice('whsec_'.length));
      expect(text).not.toMatch(/hunter2|XYZZY|tok3n/);
    }
    const rows = JSON.stringify(await api.store.db.selectFrom('webhooks').selectAll().execute());
    expect(rows).not.toContain(secret.slice('whsec_'.length));
  });

  it('answers bad input with a 400 naming the field and what is allowed', async () => {
    const ftp = await as('admin', 'POST', '/webhooks', { name: 'x', url: 'ftp://example.com/' });
    expect(ftp.statusCode).toBe(400);
    expect(ftp.body).toContain('must be an http:// or https:// URL');
    const types = await as('admin', 'POST', '/webhooks', {
      name: 'x',
      url: 'https://a.example',
      events: ['nope'],
    });
    expect(types.statusCode).toBe(400);
    expect(types.body).toContain('deployment.succeeded');
    const empty = await as('admin', 'POST', '/webhooks', { name: 'x', url: 'https://a.example', events: [] });
    expect(empty.statusCode).toBe(400);
  });

  it('delivers events in order, signed so that standardwebhooks verifies them, as GET /events shows them', async () => {
    const hook = await receiver();
    const created = await create({ name: 'ordered', url: hook.url, app: 'shop' });
    await record(2, 'blog');
    await record(30);
    dispatcher();
    await eventually(() => hook.requests.length >= 30);
    const verifier = new Webhook(created.secret);
    const ids = hook.requests.map((request) => {
      const event = verifier.verify(request.body, signatureHeaders(request.headers)) as PaveEvent;
      expect(event.app).toBe('shop');
      return Number(event.id);
    });
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(30);
    const listed = await as('admin', 'GET', `/events?app=shop&after=${ids[0]! - 1}&limit=1`);
    expect(hook.requests[0]!.body).toBe(JSON.stringify(listed.json().items[0]));
    await eventually(async () => (await deliveries(created.webhook.id)).length === 30);
    const shown = (await as('admin', 'GET', `/webhooks/${created.webhook.id}`)).json() as WebhookView;
    expect(shown.lastEventId).toBe(String(ids.at(-1)));
  });

  it('retries a failed delivery with the same webhook-id and lets later events wait', async () => {
    const hook = await receiver((_request, index) => (index === 0 ? 500 : 200));
    const created = await create({ name: 'retried', url: hook.url, app: 'shop', events: ['values.changed'] });
    await record(3);
    dispatcher({ retry: { firstBackoffMs: 100 } });
    await eventually(() => hook.requests.length >= 4);
    const ids = hook.requests.map((request) => request.headers['webhook-id']);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set(ids).size).toBe(3);
    const bodies = hook.requests.map((request) => Number(JSON.parse(request.body).id));
    expect(bodies[1]).toBe(bodies[0]);
    expect(bodies.slice(1)).toEqual([...bodies.slice(1)].sort((a, b) => a - b));
    // The receiver has answered every request before the dispatcher records the deliveries of a batch: wait
    // until all three are recorded, not only the retried one.
    await eventually(async () => {
      const recorded = await deliveries(created.webhook.id);
      return recorded.length === 3 && recorded.every((d) => d.status === 'succeeded');
    });
    const first = (await deliveries(created.webhook.id)).find((delivery) => delivery.id === ids[0]);
    expect(first).toMatchObject({ status: 'succeeded', attempts: 2, lastStatusCode: 200 });
    expect(first!.attemptLog.map((attempt) => attempt.statusCode)).toEqual([500, 200]);
    expect(first!.attemptLog[0]!.responseBody).toBe('receiver is down');
    const shown = (await as('admin', 'GET', `/webhooks/${created.webhook.id}`)).json() as WebhookView;
    expect(shown.lastEventId).toBe(String(bodies.at(-1)));
  });

  it('disables a webhook after 20 failed deliveries in a row, with a webhook.disabled event; enable resets it', async () => {
    const hook = await receiver(() => 500);
    const created = await create({ name: 'failing', url: hook.url, app: 'shop' });
    await record(25);
    dispatcher({ retry: { giveUpAfterMs: 0 } });
    await eventually(async () => {
      const shown = (await as('admin', 'GET', `/webhooks/${created.webhook.id}`)).json() as WebhookView;
      return !shown.enabled;
    });
    const shown = (await as('admin', 'GET', `/webhooks/${created.webhook.id}`)).json() as WebhookView;
    expect(shown.consecutiveFailures).toBe(20);
    expect(shown.disabledReason).toContain('20 deliveries in a row failed');
    expect(hook.requests).toHaveLength(20);
    const failed = await deliveries(created.webhook.id);
    expect(failed.filter((delivery) => delivery.status === 'failed')).toHaveLength(20);
    const events = (await as('admin', 'GET', '/events?type=webhook.disabled')).json().items as PaveEvent[];
    expect(events.at(-1)).toMatchObject({
      type: 'webhook.disabled',
      app: 'shop',
      actor: 'pave-webhooks',
      data: { webhookId: created.webhook.id, name: 'failing', consecutiveFailures: 20 },
    });
    const enabled = await as('olga', 'POST', `/webhooks/${created.webhook.id}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json()).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledReason: null });
  });

  it('redelivers a delivery under a new webhook-id with the same body', async () => {
    const hook = await receiver();
    const created = await create({ name: 'again', url: hook.url, app: 'shop' });
    await record(1);
    dispatcher();
    await eventually(() => hook.requests.length === 1);
    await eventually(async () => (await deliveries(created.webhook.id)).length === 1);
    const [original] = await deliveries(created.webhook.id);
    const queued = await as('olga', 'POST', `/webhook-deliveries/${original!.id}/redeliver`);
    expect(queued.statusCode, queued.body).toBe(202);
    expect(queued.json()).toMatchObject({ status: 'pending', eventId: original!.eventId, attempts: 0 });
    await eventually(() => hook.requests.length === 2);
    expect(hook.requests[1]!.body).toBe(hook.requests[0]!.body);
    expect(hook.requests[1]!.headers['webhook-id']).toBe(queued.json().id);
    new Webhook(created.secret).verify(hook.requests[1]!.body, signatureHeaders(hook.requests[1]!.headers));
    const unknown = await as('admin', 'POST', '/webhook-deliveries/msg_nope/redeliver');
    expect(unknown.statusCode).toBe(404);
  });

  it('lets app owners manage their app’s webhooks, not developers; org-wide ones need platform', async () => {
    const owned = await create({ name: 'owned', url: 'https://hooks.example.com/a', app: 'shop' }, 'olga');
    expect((await as('olga', 'GET', '/webhooks?app=shop')).statusCode).toBe(200);
    expect((await as('olga', 'GET', `/webhooks/${owned.webhook.id}/deliveries`)).statusCode).toBe(200);
    const byDeveloper = await as('dev', 'POST', '/webhooks', {
      name: 'mine',
      url: 'https://a.example',
      app: 'shop',
    });
    expect(byDeveloper.statusCode).toBe(403);
    expect(byDeveloper.body).toContain('webhook.manage');
    expect((await as('dev', 'GET', `/webhooks/${owned.webhook.id}`)).statusCode).toBe(403);
    expect((await as('dev', 'DELETE', `/webhooks/${owned.webhook.id}`)).statusCode).toBe(403);
    expect((await as('dev', 'GET', '/webhooks?app=shop')).statusCode).toBe(403);
    // An app the caller has no role on does not exist, as for every other route.
    expect(
      (await as('olga', 'POST', '/webhooks', { name: 'b', url: 'https://a.example', app: 'blog' }))
        .statusCode,
    ).toBe(404);
    expect((await as('olga', 'GET', '/webhooks?app=blog')).statusCode).toBe(404);
    const orgWide = await as('olga', 'POST', '/webhooks', { name: 'all', url: 'https://a.example' });
    expect(orgWide.statusCode).toBe(403);
    expect(orgWide.body).toContain('webhook.manage-org');
    const platform = await create({ name: 'all', url: 'https://a.example' }, 'pat');
    expect(platform.webhook.app).toBeNull();
    expect((await as('pat', 'GET', '/webhooks')).json().items).toHaveLength(1);
    expect((await as('olga', 'GET', `/webhooks/${platform.webhook.id}`)).statusCode).toBe(403);
    expect((await as('pat', 'GET', `/webhooks/${owned.webhook.id}`)).statusCode).toBe(404);
    expect((await as('olga', 'DELETE', `/webhooks/${owned.webhook.id}`)).statusCode).toBe(204);
    expect((await as('pat', 'DELETE', `/webhooks/${platform.webhook.id}`)).statusCode).toBe(204);
  });

  it('refuses metadata and loopback addresses unless allowed, at creation and at send time', async () => {
    const metadata = await as('admin', 'POST', '/webhooks', {
      name: 'meta',
      url: 'http://169.254.169.254/latest',
    });
    expect(metadata.statusCode).toBe(400);
    expect(metadata.json().detail).toBe(
      'refused: http://169.254.169.254/latest resolves to 169.254.169.254, a loopback/private/link-local ' +
        'address; allow it with pave up --webhook-allow 169.254.169.254/32',
    );
    const hook = await receiver();
    const created = await create({ name: 'local', url: hook.url, app: 'shop' });
    const tested = await as('olga', 'POST', `/webhooks/${created.webhook.id}/test`);
    expect(tested.statusCode, tested.body).toBe(200);
    expect(tested.json()).toMatchObject({ ok: false, statusCode: null });
    expect(tested.json().error).toMatch(
      new RegExp(
        `^refused: ${hook.url} resolves to (127\\.0\\.0\\.1|::1), a loopback/private/link-local address; ` +
          'allow it with pave up --webhook-allow (127\\.0\\.0\\.1/32|::1/128)$',
      ),
    );
    await record(1);
    dispatcher({ allow: new WebhookAllowList([]), retry: { giveUpAfterMs: 0 } });
    await eventually(async () => (await deliveries(created.webhook.id)).length === 1);
    const [refused] = await deliveries(created.webhook.id);
    expect(refused).toMatchObject({ status: 'failed', lastStatusCode: null });
    expect(refused!.lastError).toContain('a loopback/private/link-local address');
    expect(hook.requests).toHaveLength(0);

    // Allowed: the same receiver through an API whose allow list has 127.0.0.1/32.
    const allowed = await openFullApi('sqlite', { webhookAllow: ['127.0.0.1/32'] });
    try {
      const made = await allowed.call('POST', '/webhooks', {
        name: 'local',
        url: `http://127.0.0.1:${hook.port}/`,
      });
      expect(made.statusCode, made.body).toBe(201);
      const sent = await allowed.call('POST', `/webhooks/${made.json().webhook.id}/test`);
      expect(sent.json()).toMatchObject({ ok: true, statusCode: 200, error: null, responseBody: 'ok' });
      const test = hook.requests.at(-1)!;
      const body = new Webhook(made.json().secret).verify(test.body, signatureHeaders(test.headers));
      expect(body).toMatchObject({ type: 'webhook.test', data: { webhookId: made.json().webhook.id } });
    } finally {
      await allowed.cleanup();
    }
  });

  it('stops at once with a delivery in flight to a receiver that does not answer, counting no failure', async () => {
    const hook = await receiver(() => null);
    const created = await create({ name: 'silent', url: hook.url, app: 'shop' });
    await record(1);
    const started = dispatcher();
    await eventually(() => hook.requests.length === 1);
    const before = Date.now();
    await started.stop();
    expect(Date.now() - before).toBeLessThan(1_000);
    const shown = (await as('admin', 'GET', `/webhooks/${created.webhook.id}`)).json() as WebhookView;
    expect(shown.consecutiveFailures).toBe(0);
    expect(await deliveries(created.webhook.id)).toEqual([]);
  });

  it('delivers a deleted app’s last events to its webhooks, hides them at once and removes them once done', async () => {
    await api.call('POST', '/apps', { id: 'temp' });
    await api.call('POST', '/apps/temp/envs', { id: 'dev', type: 'development' });
    const hook = await receiver();
    const created = await create({ name: 'gone', url: hook.url, app: 'temp' });
    const deleted = await api.call('DELETE', '/apps/temp?force=true');
    expect(deleted.statusCode, deleted.body).toBeLessThan(300);
    expect((await as('admin', 'GET', `/webhooks/${created.webhook.id}`)).statusCode).toBe(404);
    expect((await as('admin', 'GET', '/webhooks?app=temp')).statusCode).toBe(404);
    // Not done yet: the deletion's event is still to be delivered.
    expect(await removeRetiredWebhooks(api.store)).toBe(0);
    dispatcher();
    await eventually(() => hook.requests.length === 1);
    expect(JSON.parse(hook.requests[0]!.body)).toMatchObject({
      type: 'environment.deleted',
      app: 'temp',
      env: 'dev',
    });
    await eventually(async () => (await removeRetiredWebhooks(api.store)) === 1);
    expect(
      await api.store.db.selectFrom('webhooks').select('id').where('id', '=', created.webhook.id).execute(),
    ).toEqual([]);
    // The same app id created again starts with no webhook, and may reuse the name.
    await api.call('POST', '/apps', { id: 'temp' });
    expect((await as('admin', 'GET', '/webhooks?app=temp')).json().items).toEqual([]);
    await create({ name: 'gone', url: hook.url, app: 'temp' });
    await api.call('DELETE', '/apps/temp');
  });

  it('sends a redelivery as soon as asked, even while the delivery it repeats waits for its retry', async () => {
    let up = false;
    const hook = await receiver(() => (up ? 200 : 500));
    const created = await create({ name: 'blocked', url: hook.url, app: 'shop' });
    await record(1);
    dispatcher({ retry: { firstBackoffMs: 600_000 } });
    await eventually(() => hook.requests.length === 1);
    await eventually(async () => (await deliveries(created.webhook.id)).length === 1);
    const [pending] = await deliveries(created.webhook.id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1 });
    up = true;
    const queued = await as('olga', 'POST', `/webhook-deliveries/${pending!.id}/redeliver`);
    expect(queued.statusCode, queued.body).toBe(202);
    // Well before the ten-minute backoff of the blocked delivery.
    await eventually(() => hook.requests.length === 2, 5_000);
    expect(hook.requests[1]!.headers['webhook-id']).toBe(queued.json().id);
    expect(hook.requests[1]!.body).toBe(hook.requests[0]!.body);
  });
});
