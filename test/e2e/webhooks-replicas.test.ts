import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CreatedWebhook } from '@pave/core';
import { createTestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually } from '../support/processes.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const EVENTS = 200;
const WEBHOOKS = 3;

describe('webhooks on two control-plane replicas sharing one PostgreSQL store', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('deliver each of 200 events once per webhook, in order, whichever replica recorded it', async () => {
    const location = await createTestStoreLocation('postgres');
    cleanups.push(() => location.cleanup());
    const args = [
      '--data-dir',
      location.dataDir,
      '--store',
      location.url!,
      '--webhook-allow',
      '127.0.0.1/32',
    ];
    const a: PaveProcess = await startPave(args);
    const b: PaveProcess = await startPave(args);
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    const via = async (server: PaveProcess, ...command: string[]) => {
      const result = await runPave(command, clientEnv(server.url, location.dataDir));
      expect(result.code, `pave ${command.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    await via(a, 'apps', 'create', 'shop');
    await via(b, 'envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    const receivers: WebhookReceiver[] = [];
    for (let index = 0; index < WEBHOOKS; index++) {
      const receiver = await startWebhookReceiver();
      cleanups.push(() => receiver.stop());
      const created = JSON.parse(
        await via(
          index % 2 ? b : a,
          'webhooks',
          'create',
          `hook-${index}`,
          '--url',
          receiver.url,
          '--app',
          'shop',
          '-o',
          'json',
        ),
      ) as CreatedWebhook;
      receiver.secret = created.secret;
      receivers.push(receiver);
    }

    // 200 changes through both replicas, a few at a time: each records one values.changed event.
    const token = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    const change = async (index: number) => {
      const server = index % 2 ? b : a;
      const response = await fetch(`${server.url}/api/v1/apps/shop/envs/dev/values`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ set: { [`KEY_${index}`]: { value: String(index) } } }),
      });
      expect(response.status, await response.text()).toBe(200);
    };
    for (let index = 0; index < EVENTS; index += 4) {
      await Promise.all([0, 1, 2, 3].map((offset) => change(index + offset)));
    }

    for (const receiver of receivers) {
      await eventually(
        () =>
          receiver.received.filter((r) => r.event.type === 'values.changed').length >= EVENTS
            ? true
            : undefined,
        60_000,
        `${EVENTS} deliveries to ${receiver.url}`,
      );
    }
    // Give a double send, if there were one, the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const receiver of receivers) {
      expect(receiver.rejected).toEqual([]);
      const changes = receiver.received.filter((r) => r.event.type === 'values.changed');
      // The receiver never failed, so at least once means exactly once here: no duplicate webhook-id, no
      // event twice.
      expect(changes).toHaveLength(EVENTS);
      expect(new Set(changes.map((r) => r.id)).size).toBe(EVENTS);
      const ids = changes.map((r) => Number(r.event.id));
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(changes.map((r) => (r.event.data as { set: string[] }).set[0])).size).toBe(EVENTS);
    }
  }, 180_000);
});
