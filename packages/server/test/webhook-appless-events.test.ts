import type { CreatedWebhook, Webhook } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

const URL = 'http://localhost:9/hook';

// An app's webhook receives the events of its app alone: one subscribed to an event type Pave records about no
// app (a target, definition, policy, profile, template or environment type changed) would wait for it forever.
describe.each(storeEngines)('event types about no app on an app’s webhook, on %s', (engine) => {
  let api: FullApi;

  const created = async (body: object): Promise<CreatedWebhook> => {
    const response = await api.call('POST', '/webhooks', body);
    expect(response.statusCode, response.body).toBe(201);
    return response.json();
  };
  const shown = async (id: string): Promise<Webhook> => (await api.call('GET', `/webhooks/${id}`)).json();

  beforeAll(async () => {
    api = await openFullApi(engine);
    const app = await api.call('POST', '/apps', { id: 'shop' });
    expect(app.statusCode, app.body).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses them when an app’s webhook is created, naming each, and takes them org-wide', async () => {
    const events = ['values.changed', 'target.changed', 'env-type.changed'];
    const refused = await api.call('POST', '/webhooks', { name: 'ops', url: URL, app: 'shop', events });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors).toEqual([
      {
        path: '/events/1',
        message:
          'target.changed events are about no app, so a webhook of app shop never receives them: leave it ' +
          'out, or create an org-wide webhook for it (`pave webhooks create` without --app)',
      },
      {
        path: '/events/2',
        message:
          'env-type.changed events are about no app, so a webhook of app shop never receives them: leave it ' +
          'out, or create an org-wide webhook for it (`pave webhooks create` without --app)',
      },
    ]);
    const listed = (await api.call('GET', '/webhooks?app=shop')).json() as { items: Webhook[] };
    expect(listed.items).toEqual([]);
    expect((await created({ name: 'ops', url: URL, events })).webhook.events).toEqual(events);
  });

  it('refuses them when an app’s webhook is changed, but keeps those it has already', async () => {
    const { webhook } = await created({ name: 'deploys', url: URL, app: 'shop', events: ['values.changed'] });
    const refused = await api.call('PATCH', `/webhooks/${webhook.id}`, {
      events: ['values.changed', 'policy.changed'],
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().errors.map((problem: { path: string }) => problem.path)).toEqual(['/events/1']);
    expect((await shown(webhook.id)).events).toEqual(['values.changed']);

    // One that has such a type from before it was refused keeps it through an edit of its other types.
    await api.store.db
      .updateTable('webhooks')
      .set({ events: JSON.stringify(['values.changed', 'policy.changed']) })
      .where('id', '=', webhook.id)
      .execute();
    const kept = await api.call('PATCH', `/webhooks/${webhook.id}`, {
      events: ['values.changed', 'policy.changed', 'artifact.pushed'],
    });
    expect(kept.statusCode, kept.body).toBe(200);
    expect((await shown(webhook.id)).events).toEqual(['values.changed', 'policy.changed', 'artifact.pushed']);
  });
});
