import type { PaveEvent } from '@pave/core';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/index.ts';
import { systemContext } from '../src/domain/context.ts';
import { recordEvent } from '../src/domain/events.ts';
import { WebhookDispatcher } from '../src/domain/webhooks/dispatcher.ts';
import { createWebhook } from '../src/domain/webhooks/records.ts';
import { WebhookAllowList } from '../src/domain/webhooks/ssrf.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore } from '../../../test/support/stores.ts';
import { eventually, signatureHeaders, startReceiver, type Receiver } from './support/webhook-receiver.ts';

const admin = systemContext('admin', 'test');
const allow = new WebhookAllowList(['127.0.0.1/32']);

/** Records `count` events about `app` (each its own transaction, as changes do). */
async function record(store: Store, count: number, app = 'shop'): Promise<void> {
  for (let index = 0; index < count; index++) {
    await recordEvent(store.db, admin, {
      type: 'values.changed',
      app,
      data: { scope: 'app', version: null, set: [`K${index}`], unset: [] },
    });
  }
}

describe('webhook delivery by several replicas on one PostgreSQL store', () => {
  let opened: Awaited<ReturnType<typeof openTestStore>>;
  let second: Store;
  let boxes: SecretBox[];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    opened = await openTestStore('postgres');
    // A second replica: its own connection pool to the same database, its own secret box.
    second = await openStore({ url: opened.location.url, dataDir: opened.location.dataDir });
    boxes = [opened.store, second].map(
      (store) => new SecretBox(store.db, keyringSource(opened.location.dataDir, {})),
    );
    const at = new Date().toISOString();
    await opened.store.db
      .insertInto('apps')
      .values({ id: 'shop', name: 'shop', created_by: 'admin', created_at: at })
      .execute();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await second?.close();
    await opened?.cleanup();
  });

  it('delivers 200 events to each webhook exactly once and in order, with two dispatchers running', async () => {
    const hooks = await Promise.all([startReceiver(), startReceiver(), startReceiver()]);
    receivers.push(...hooks);
    const created = [];
    for (const [index, hook] of hooks.entries()) {
      created.push(
        await createWebhook({ store: opened.store, box: boxes[0]!, allow }, admin, {
          name: `hook-${index}`,
          url: hook.url,
          ...(index === 2 ? {} : { app: 'shop' }),
        }),
      );
    }
    const dispatchers = [opened.store, second].map(
      (store, index) =>
        new WebhookDispatcher({
          store,
          box: boxes[index]!,
          allow,
          logger: pino({ level: 'silent' }),
          replicaId: `replica-${index}`,
          pollMs: 20,
          batchSize: 25,
        }),
    );
    for (const dispatcher of dispatchers) dispatcher.start();
    try {
      await Promise.all([record(opened.store, 100), record(second, 100)]);
      await eventually(() => hooks.every((hook) => hook.requests.length >= 200), 30_000);
      // Anything more would come now.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()));
    }
    for (const [index, hook] of hooks.entries()) {
      const verifier = new Webhook(created[index]!.secret);
      const ids = hook.requests.map((request) => {
        const event = verifier.verify(request.body, signatureHeaders(request.headers)) as PaveEvent;
        return Number(event.id);
      });
      expect(ids).toHaveLength(200);
      expect(new Set(ids).size).toBe(200);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
  }, 60_000);

  // Throughput and latency are measured by bench/webhook-delivery.mjs (docs/benchmarks.md), not asserted here:
  // a timed assertion fails on a loaded machine without anything being wrong.
  it('delivers a steady stream of 60 events a second to 10 webhooks, every event once and in order', async () => {
    const hooks = await Promise.all(Array.from({ length: 10 }, () => startReceiver()));
    receivers.push(...hooks);
    for (const [index, hook] of hooks.entries()) {
      await createWebhook({ store: opened.store, box: boxes[0]!, allow }, admin, {
        name: `load-${index}`,
        url: hook.url,
        app: 'shop',
      });
    }
    const dispatcher = new WebhookDispatcher({
      store: opened.store,
      box: boxes[0]!,
      allow,
      logger: pino({ level: 'silent' }),
    });
    dispatcher.start();
    // 60 events a second for 5 s to 10 webhooks: 600 deliveries a second.
    const events = 300;
    const started = Date.now();
    for (let index = 0; index < events; index++) {
      await recordEvent(opened.store.db, admin, {
        type: 'values.changed',
        app: 'shop',
        data: { scope: 'app', version: null, set: [`K${index}`], unset: [] },
      });
      const due = started + ((index + 1) * 1000) / 60;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
    try {
      await eventually(() => hooks.every((hook) => hook.requests.length >= events), 30_000);
      for (const hook of hooks) {
        const ids = hook.requests.map((request) => Number((JSON.parse(request.body) as PaveEvent).id));
        expect(ids).toHaveLength(events);
        expect(new Set(ids).size).toBe(events);
        expect(ids).toEqual([...ids].sort((a, b) => a - b));
      }
    } finally {
      await dispatcher.stop();
    }
  }, 60_000);
});
