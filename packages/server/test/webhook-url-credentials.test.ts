import { Writable } from 'node:stream';
import type { CreatedWebhook } from '@pave/core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.ts';
import { systemContext } from '../src/domain/context.ts';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../src/domain/webhooks/dispatcher.ts';
import { WebhookAllowList } from '../src/domain/webhooks/ssrf.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { eventually, startReceiver, type Receiver } from './support/webhook-receiver.ts';

/** The receiver's credentials in the webhook URL: the password in its userinfo, a token in its query. */
const PASSWORD = 'hunter2-in-the-userinfo';
const TOKEN = 'tok-in-the-query-string';

describe.each(storeEngines)('credentials in webhook URLs on %s', (engine) => {
  let api: FullApi;
  const receivers: Receiver[] = [];
  const dispatchers: WebhookDispatcher[] = [];
  const logLines: string[] = [];

  const receiver = async () => {
    const started = await startReceiver();
    receivers.push(started);
    return started;
  };
  /** The receiver's URL with a password in its userinfo and a token in its query. */
  const withCredentials = (hook: Receiver) =>
    `http://pave:${PASSWORD}@localhost:${hook.port}/hook?token=${TOKEN}&source=pave`;
  const create = async (url: string): Promise<CreatedWebhook> => {
    const response = await api.call('POST', '/webhooks', { name: 'creds', url, app: 'shop' });
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };
  const dispatcher = (options: Partial<WebhookDispatcherOptions> = {}) => {
    const log = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    const started = new WebhookDispatcher({
      store: api.store,
      box: api.box,
      allow: new WebhookAllowList(['127.0.0.1/32']),
      logger: pino({ level: 'debug' }, log),
      pollMs: 50,
      ...options,
    });
    dispatchers.push(started);
    started.start();
    return started;
  };
  const recordOne = () =>
    recordEvent(api.store.db, systemContext('tester', 'test'), {
      type: 'values.changed',
      app: 'shop',
      env: null,
      data: { scope: 'app', version: null, set: ['KEY'], unset: [] },
    });
  /** Every place a credential must not be: each table a webhook touches, and the dispatcher's log. */
  const storedText = async (): Promise<Record<string, string>> => {
    const { db } = api.store;
    return {
      'webhooks rows': JSON.stringify(await db.selectFrom('webhooks').selectAll().execute()),
      'webhook_deliveries rows': JSON.stringify(
        await db.selectFrom('webhook_deliveries').selectAll().execute(),
      ),
      'events rows': JSON.stringify(await db.selectFrom('events').selectAll().execute()),
      'audit_entries rows': JSON.stringify(await db.selectFrom('audit_entries').selectAll().execute()),
      'dispatcher log': logLines.join(''),
    };
  };
  const leaksIn = (places: Record<string, string>) =>
    Object.entries(places)
      .filter(([, text]) => text.includes(PASSWORD) || text.includes(TOKEN))
      .map(([place]) => place);

  beforeAll(async () => {
    api = await openFullApi(engine);
    const response = await api.call('POST', '/apps', { id: 'shop' });
    expect(response.statusCode, response.body).toBe(201);
  });
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((started) => started.stop()));
    await Promise.all(receivers.splice(0).map((started) => started.close()));
    for (const { id } of await api.store.db.selectFrom('webhooks').select('id').execute()) {
      await api.call('DELETE', `/webhooks/${id}`);
    }
    logLines.length = 0;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('keeps the password and token of a webhook URL out of the store, the API and the audit log, and sends with them', async () => {
    const hook = await receiver();
    const created = await create(withCredentials(hook));
    const shownUrl = `http://pave:***@localhost:${hook.port}/hook?token=[redacted]&source=pave`;
    expect(created.webhook.url).toBe(shownUrl);
    const shown = await api.call('GET', `/webhooks/${created.webhook.id}`);
    expect(shown.json().url).toBe(shownUrl);
    const listed = await api.call('GET', '/webhooks?app=shop');
    const audit = await api.call('GET', '/audit?app=shop');
    expect(audit.body).toContain('webhook.create');
    // No credentials, and the query as `?…` (it was `/hook?%E2%80%A6`, the "…" encoded).
    const createdEntry = audit
      .json()
      .items.find((entry: { action: string }) => entry.action === 'webhook.create');
    expect(JSON.stringify(createdEntry)).toContain(`"http://localhost:${hook.port}/hook?…"`);
    await recordOne();
    dispatcher();
    await eventually(() => hook.requests.length === 1);
    // The receiver gets the credentials the URL was created with.
    const [request] = hook.requests;
    expect(request!.headers.authorization).toBe(
      `Basic ${Buffer.from(`pave:${PASSWORD}`).toString('base64')}`,
    );
    expect(request!.url).toBe(`/hook?token=${TOKEN}&source=pave`);
    await eventually(
      async () =>
        (await api.call('GET', `/webhooks/${created.webhook.id}/deliveries`)).json().items.length === 1,
    );
    expect(
      leaksIn({
        ...(await storedText()),
        'POST /webhooks answer': JSON.stringify(created.webhook),
        'GET /webhooks/{id} answer': shown.body,
        'GET /webhooks answer': listed.body,
        'GET /audit answer': audit.body,
      }),
    ).toEqual([]);
  });

  it('keeps a query token after a `;` (a separator many receivers split on) out of the store and the API, and sends with it', async () => {
    const hook = await receiver();
    const created = await create(`http://localhost:${hook.port}/hook?source=pave;token=${TOKEN}`);
    expect(created.webhook.url).toBe(`http://localhost:${hook.port}/hook?source=pave;token=[redacted]`);
    const listed = await api.call('GET', '/webhooks?app=shop');
    await recordOne();
    dispatcher();
    await eventually(() => hook.requests.length === 1);
    expect(hook.requests[0]!.url).toBe(`/hook?source=pave;token=${TOKEN}`);
    expect(
      leaksIn({
        ...(await storedText()),
        'POST /webhooks answer': JSON.stringify(created.webhook),
        'GET /webhooks answer': listed.body,
      }),
    ).toEqual([]);
  });

  it('keeps a token in the URL path (as Slack and Discord put theirs) out of the store and the API, and sends to it', async () => {
    const hook = await receiver();
    const pathToken = 'T0DEADBEEF/B0CAFE/path-token-in-the-url';
    const created = await create(`http://localhost:${hook.port}/services/${pathToken}`);
    const shownUrl = `http://localhost:${hook.port}/services/…`;
    expect(created.webhook.url).toBe(shownUrl);
    const listed = await api.call('GET', '/webhooks?app=shop');
    await recordOne();
    dispatcher();
    await eventually(() => hook.requests.length === 1);
    expect(hook.requests[0]!.url).toBe(`/services/${pathToken}`);
    const places = {
      ...(await storedText()),
      'POST /webhooks answer': JSON.stringify(created.webhook),
      'GET /webhooks answer': listed.body,
    };
    expect(Object.entries(places).filter(([, text]) => text.includes('path-token-in-the-url'))).toEqual([]);
  });

  it('keeps a token given as the user name of the URL (no password) out of the store and the API, and sends with it', async () => {
    const hook = await receiver();
    const userToken = 'ghp_user-name-token-in-the-url';
    const created = await create(`http://${userToken}@localhost:${hook.port}/hook`);
    expect(created.webhook.url).toBe(`http://***@localhost:${hook.port}/hook`);
    const listed = await api.call('GET', '/webhooks?app=shop');
    await recordOne();
    dispatcher();
    await eventually(() => hook.requests.length === 1);
    expect(hook.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from(`${userToken}:`).toString('base64')}`,
    );
    const places = {
      ...(await storedText()),
      'POST /webhooks answer': JSON.stringify(created.webhook),
      'GET /webhooks answer': listed.body,
    };
    expect(Object.entries(places).filter(([, text]) => text.includes(userToken))).toEqual([]);

    // As an earlier Pave stored it: sealed, but shown with the user name. A dispatcher starting shows it no more.
    await api.store.db
      .updateTable('webhooks')
      .set({ url: `http://${userToken}@localhost:${hook.port}/hook` })
      .where('id', '=', created.webhook.id)
      .execute();
    dispatcher();
    await eventually(async () => !(await storedText())['webhooks rows']!.includes(userToken));
    const shown = await api.call('GET', `/webhooks/${created.webhook.id}`);
    expect(shown.json().url).toBe(`http://***@localhost:${hook.port}/hook`);
  });

  it('names the URL without its credentials in refusals: last_error, attempt log, disabled reason, test and 400 answers, log', async () => {
    const metadata = await api.call('POST', '/webhooks', {
      name: 'meta',
      url: `http://pave:${PASSWORD}@169.254.169.254/latest?token=${TOKEN}`,
    });
    expect(metadata.statusCode).toBe(400);
    expect(metadata.json().detail).toBe(
      'refused: http://pave:***@169.254.169.254/latest?token=[redacted] resolves to 169.254.169.254, a ' +
        'loopback/private/link-local address; allow it with pave up --webhook-allow 169.254.169.254/32',
    );
    const hook = await receiver();
    const created = await create(withCredentials(hook));
    const tested = await api.call('POST', `/webhooks/${created.webhook.id}/test`);
    expect(tested.json().error).toMatch(
      new RegExp(
        `^refused: http://pave:\\*\\*\\*@localhost:${hook.port}/hook\\?token=\\[redacted\\]&source=pave resolves to `,
      ),
    );
    await recordOne();
    dispatcher({ allow: new WebhookAllowList([]), retry: { giveUpAfterMs: 0, disableAfterFailures: 1 } });
    await eventually(
      async () => (await api.call('GET', `/webhooks/${created.webhook.id}`)).json().enabled === false,
    );
    const shown = await api.call('GET', `/webhooks/${created.webhook.id}`);
    expect(shown.json().disabledReason).toContain(`refused: http://pave:***@localhost:${hook.port}/hook`);
    const deliveries = await api.call('GET', `/webhooks/${created.webhook.id}/deliveries`);
    const [refused] = deliveries.json().items;
    expect(refused).toMatchObject({ status: 'failed', lastStatusCode: null });
    expect(refused.lastError).toContain(`refused: http://pave:***@localhost:${hook.port}/hook`);
    const events = await api.call('GET', '/events?type=webhook.disabled');
    expect(hook.requests).toHaveLength(0);
    expect(
      leaksIn({
        ...(await storedText()),
        'POST /webhooks 400 answer': metadata.body,
        'POST /webhooks/{id}/test answer': tested.body,
        'GET /webhooks/{id} answer': shown.body,
        'GET /webhooks/{id}/deliveries answer': deliveries.body,
        'GET /events answer': events.body,
      }),
    ).toEqual([]);
  });

  it('seals, as the dispatcher starts, the URL of a webhook stored before URLs were sealed; it delivers after a master-key rotation', async () => {
    const hook = await receiver();
    const created = await create(withCredentials(hook));
    // As migration 0029 leaves a webhook stored before it: the whole URL in `url`, nothing sealed.
    await api.store.db
      .updateTable('webhooks')
      .set({ url: withCredentials(hook), sealed_url: null })
      .where('id', '=', created.webhook.id)
      .execute();
    const unsealed = await api.call('GET', `/webhooks/${created.webhook.id}`);
    expect(unsealed.json().url).toBe(created.webhook.url);
    const basic = `Basic ${Buffer.from(`pave:${PASSWORD}`).toString('base64')}`;
    await recordOne();
    const first = dispatcher();
    await eventually(() => hook.requests.length === 1);
    expect(hook.requests[0]!.headers.authorization).toBe(basic);
    await eventually(async () => leaksIn(await storedText()).length === 0);
    const row = await api.store.db
      .selectFrom('webhooks')
      .select(['url', 'sealed_url'])
      .where('id', '=', created.webhook.id)
      .executeTakeFirstOrThrow();
    expect(row.url).toBe(created.webhook.url);
    expect(await api.box.decrypt(row.sealed_url!)).toBe(withCredentials(hook));

    await first.stop();
    const rotated = await api.call('POST', '/admin/rotate-master-key', {});
    expect(rotated.statusCode, rotated.body).toBe(200);
    // A process that knows only the new master key still opens the sealed URL.
    dispatcher({ box: new SecretBox(api.store.db, keyringSource(api.dataDir, {})) });
    await recordOne();
    await eventually(() => hook.requests.length === 2);
    expect(hook.requests[1]!.headers.authorization).toBe(basic);
    expect(hook.requests[1]!.url).toBe(`/hook?token=${TOKEN}&source=pave`);
  });
});
