import type { CreatedWebhook, WebhookDelivery } from '@pave/core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../src/domain/events.ts';
import { systemContext } from '../src/domain/context.ts';
import { WebhookDispatcher } from '../src/domain/webhooks/dispatcher.ts';
import { WebhookAllowList } from '../src/domain/webhooks/ssrf.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';
import { eventually, startReceiver, type Receiver } from './support/webhook-receiver.ts';

/*
 * Pave disabled a webhook itself after 20 failed deliveries in a row, and `enable` turned it back on, but no
 * one could disable one on purpose (a receiver under maintenance), as GitHub's "Active" checkbox allows.
 * `POST /webhooks/{id}/disable` does, with what enable needs; while disabled nothing is sent, as when Pave
 * disables one, and enable sends what waited.
 */
describe.each(storeEngines)('disabling a webhook on purpose, on %s', (engine) => {
  let api: FullApi;
  let olga: string;
  let dev: string;
  let pat: string;
  const receivers: Receiver[] = [];
  const dispatchers: WebhookDispatcher[] = [];

  const create = async (token: string, body: object): Promise<CreatedWebhook> => {
    const response = await api.callAs(token, 'POST', '/webhooks', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };
  const record = async (count: number) => {
    for (let index = 0; index < count; index++) {
      await recordEvent(api.store.db, systemContext('tester', 'test'), {
        type: 'values.changed',
        app: 'shop',
        env: null,
        data: { scope: 'app', version: null, set: [`KEY_${index}`], unset: [] },
      });
    }
  };
  const deliveries = async (id: string): Promise<WebhookDelivery[]> => {
    const response = await api.call('GET', `/webhooks/${id}/deliveries`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items;
  };

  beforeAll(async () => {
    api = await openFullApi(engine);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    olga = await api.createUser('olga');
    dev = await api.createUser('dev');
    pat = await api.createUser('pat');
    for (const body of [
      { role: 'owner', user: 'olga', app: 'shop' },
      { role: 'developer', user: 'dev', app: 'shop' },
      { role: 'platform', user: 'pat' },
    ]) {
      const granted = await api.call('POST', '/roles', body);
      expect(granted.statusCode, granted.body).toBe(201);
    }
  });
  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((started) => started.stop()));
    await Promise.all(receivers.splice(0).map((started) => started.close()));
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('sends nothing while disabled, keeps what waits, and sends it once enabled again', async () => {
    const hook = await startReceiver();
    receivers.push(hook);
    const created = await create(olga, { name: 'ci', url: hook.url, app: 'shop' });
    const id = created.webhook.id;
    const dispatcher = new WebhookDispatcher({
      store: api.store,
      box: api.box,
      allow: new WebhookAllowList(['127.0.0.1/32']),
      logger: pino({ level: 'silent' }),
      pollMs: 50,
    });
    dispatchers.push(dispatcher);
    dispatcher.start();
    await record(1);
    await eventually(() => hook.requests.length === 1);
    await eventually(async () => (await deliveries(id)).length === 1);
    const [first] = await deliveries(id);

    const disabled = await api.callAs(olga, 'POST', `/webhooks/${id}/disable`, {
      reason: 'receiver under maintenance',
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json()).toMatchObject({
      id,
      enabled: false,
      disabledReason: 'disabled by olga: receiver under maintenance',
    });
    expect((await api.call('GET', `/webhooks/${id}`)).json()).toEqual(disabled.json());

    // New events and a redelivery wait: nothing goes out.
    await record(2);
    const queued = await api.callAs(olga, 'POST', `/webhook-deliveries/${first!.id}/redeliver`);
    expect(queued.statusCode, queued.body).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(hook.requests).toHaveLength(1);
    expect((await deliveries(id)).filter((delivery) => delivery.status === 'pending')).toHaveLength(1);

    const enabled = await api.callAs(olga, 'POST', `/webhooks/${id}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json()).toMatchObject({ enabled: true, disabledReason: null });
    // The redelivery first, then the two events recorded while it was disabled, in order.
    await eventually(() => hook.requests.length === 4);
    expect(hook.requests[1]!.headers['webhook-id']).toBe(queued.json().id);
    const ids = hook.requests.slice(2).map((request) => Number(JSON.parse(request.body).id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids[0]).toBeGreaterThan(Number(JSON.parse(hook.requests[0]!.body).id));

    // Audited as enable is, with who and why.
    const audit = (await api.call('GET', '/audit?app=shop')).json().items as Array<{
      action: string;
      actor: string;
      target: string;
      summary: Record<string, unknown>;
    }>;
    const entry = audit.find((item) => item.action === 'webhook.disable' && item.target === `webhooks/${id}`);
    expect(entry).toMatchObject({
      actor: 'olga',
      summary: { id, name: 'ci', wasEnabled: true, reason: 'receiver under maintenance' },
    });
  });

  it('needs what enable needs, and takes no reason at all', async () => {
    const app = await create(olga, { name: 'app-hook', url: 'https://hooks.example.com/in', app: 'shop' });
    const org = await create(api.token, { name: 'org-hook', url: 'https://hooks.example.com/org' });
    const path = `/webhooks/${app.webhook.id}/disable`;
    // A developer of the app sees it, but may not manage it; platform does not see an app's webhook.
    expect((await api.callAs(dev, 'POST', path)).statusCode).toBe(403);
    expect((await api.callAs(pat, 'POST', path)).statusCode).toBe(404);
    expect((await api.callAs(olga, 'POST', '/webhooks/wh_missing/disable')).statusCode).toBe(404);
    // An org-wide one is platform's: the app's owner is refused, as enable refuses her.
    for (const action of ['disable', 'enable']) {
      expect((await api.callAs(olga, 'POST', `/webhooks/${org.webhook.id}/${action}`)).statusCode).toBe(403);
    }
    const byPlatform = await api.callAs(pat, 'POST', `/webhooks/${org.webhook.id}/disable`);
    expect(byPlatform.statusCode, byPlatform.body).toBe(200);
    expect(byPlatform.json()).toMatchObject({ enabled: false, disabledReason: 'disabled by pat' });

    // A reason must be printable text, at most 500 characters.
    const control = await api.callAs(olga, 'POST', path, { reason: 'down\u001b[2J' });
    expect(control.statusCode, control.body).toBe(400);
    expect(control.json().errors[0].path).toBe('/reason');
    const long = await api.callAs(olga, 'POST', path, { reason: 'x'.repeat(501) });
    expect(long.statusCode, long.body).toBe(400);
    expect(long.json().errors[0].path).toBe('/reason');

    // Disabling a disabled webhook keeps it disabled, with the newer reason.
    expect((await api.callAs(olga, 'POST', path, { reason: 'first' })).statusCode).toBe(200);
    const again = await api.callAs(olga, 'POST', path);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ enabled: false, disabledReason: 'disabled by olga' });
  });
});
