import { pino, type Logger } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DriverRegistry, type ResourceDriver } from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import { openStore, type Store } from '../src/index.ts';
import { systemContext } from '../src/domain/context.ts';
import { recordEvent } from '../src/domain/events.ts';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { WebhookDispatcher } from '../src/domain/webhooks/dispatcher.ts';
import { createWebhook } from '../src/domain/webhooks/records.ts';
import { WebhookAllowList } from '../src/domain/webhooks/ssrf.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { eventually } from '../../../test/support/processes.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { startReceiver, type Receiver } from './support/webhook-receiver.ts';

/** How far off the skewed replica's clock is: more than any lease lasts. */
const SKEW_MS = 15_000;

/**
 * Runs this process's clock `offsetMs` off from the real one (and from the database's) until realClock():
 * the replicas of a test share the process, so a replica's clock is off while it is the one that reads it.
 */
function skewClock(offsetMs: number): void {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + offsetMs, shouldAdvanceTime: true });
}
function realClock(): void {
  vi.useRealTimers();
}

/** A driver call that waits until the test lets it go on. */
function stall() {
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const inCall = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    inCall,
    release,
    async wait() {
      reached();
      await released;
    },
  };
}

/** A logger that keeps what it logs. */
function keptLogger(): { logger: Logger; lines: Array<{ msg: string }> } {
  const lines: Array<{ msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** Polls a lease until its holder has renewed it `times` times, failing at once if anyone else holds it. */
async function renewedBy(
  read: () => Promise<{ lease_owner: string | null; lease_until: string | null } | undefined>,
  owner: string,
  times: number,
): Promise<void> {
  const seen = new Set<string>();
  for (let attempt = 0; attempt < 1500; attempt++) {
    const row = await read();
    expect(row?.lease_owner, 'the lease was taken over from its live holder').toBe(owner);
    seen.add(row!.lease_until!);
    if (seen.size > times) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the lease was not renewed ${times} times`);
}

describe.each(storeEngines)('deployment leases with a replica whose clock is off, on %s', (engine) => {
  let api: DeployingApi;
  const workers: DeploymentWorker[] = [];
  const stalls: Array<ReturnType<typeof stall>> = [];
  const spec: ScoreWorkload = {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: { main: { image: 'fake', command: ['serve'] } },
    resources: { cache: { type: 'redis' } },
  };

  const replica = (driver: ResourceDriver, logger: Logger = pino({ level: 'silent' })) => {
    const worker = new DeploymentWorker({
      store: api.store,
      runtime: new FakeRuntime({ serveHttp: false }),
      box: api.box,
      resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(driver),
      logger,
    });
    workers.push(worker);
    return worker;
  };
  /** A fake driver whose creates wait in `stalled` first. */
  const stalling = (stalled: ReturnType<typeof stall>): FakeResourceDriver => {
    stalls.push(stalled);
    const driver = new FakeResourceDriver();
    return Object.assign(Object.create(driver) as FakeResourceDriver, {
      create: async (...args: Parameters<FakeResourceDriver['create']>) => {
        await stalled.wait();
        return driver.create(...args);
      },
    });
  };
  const lease = () =>
    api.store.db
      .selectFrom('environments')
      .select(['lease_owner', 'lease_until'])
      .where('app_id', '=', 'shop')
      .where('id', '=', 'dev')
      .executeTakeFirst();
  const queue = async (): Promise<string> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    return queued.json().id as string;
  };
  const finished = (id: string) =>
    eventually(
      async () => {
        const shown = (
          await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)
        ).json() as DeploymentDetail;
        return shown.journal.some((entry) => entry.step === 'finish') ? shown : undefined;
      },
      15_000,
      `deployment ${id} to finish`,
    );
  /** The replicas that ran the deployment, as its journal names them, and whether it was resumed. */
  const runners = (shown: DeploymentDetail) => ({
    runBy: shown.journal
      .filter((entry) => entry.step === 'run' && entry.message.startsWith('run by replica '))
      .map((entry) => entry.message.replace('run by replica ', '')),
    resumed: shown.journal.some((entry) => entry.step === 'resume' || entry.step === 'interrupted'),
  });

  beforeAll(async () => {
    api = await openDeployingApi(engine, {
      runtime: new FakeRuntime({ serveHttp: false }),
      resourceDrivers: [new FakeResourceDriver()],
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'fake-redis',
          type: 'redis',
          driver: 'fake',
          driverInputs: { values: {} },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    realClock();
    for (const stalled of stalls) stalled.release();
    await Promise.all(workers.map((worker) => worker.stop()));
    await api?.cleanup();
  });
  beforeEach(async () => {
    for (const stalled of stalls.splice(0)) stalled.release();
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
  });
  afterEach(() => realClock());

  it('a replica whose clock is 15 s behind keeps its lease: no other replica takes its running deployment over', async () => {
    const stalled = stall();
    const { logger, lines } = keptLogger();
    const a = replica(stalling(stalled), logger);
    const b = replica(new FakeResourceDriver());
    skewClock(-SKEW_MS);
    a.start();
    const id = await queue();
    await stalled.inCall;
    // A took the lease and renewed it with its clock behind; B, whose clock is right, starts just after that.
    await renewedBy(lease, a.replicaId, 1);
    realClock();
    b.start();
    // Past the lease's length: A still holds it.
    await renewedBy(lease, a.replicaId, 4);
    stalled.release();
    const shown = await finished(id);
    expect(shown.status, shown.reason ?? '').toBe('succeeded');
    expect(runners(shown)).toEqual({ runBy: [a.replicaId], resumed: false });
    expect(lines.filter((line) => /lost its lease/.test(line.msg))).toEqual([]);
  });

  it("a replica whose clock is 15 s ahead does not take a live replica's lease", async () => {
    const stalled = stall();
    const { logger, lines } = keptLogger();
    const a = replica(stalling(stalled), logger);
    const b = replica(new FakeResourceDriver());
    a.start();
    const id = await queue();
    await stalled.inCall;
    await renewedBy(lease, a.replicaId, 1);
    // B starts with its clock ahead, just after A renewed its lease.
    skewClock(SKEW_MS);
    b.start();
    await renewedBy(lease, a.replicaId, 4);
    realClock();
    stalled.release();
    const shown = await finished(id);
    expect(shown.status, shown.reason ?? '').toBe('succeeded');
    expect(runners(shown)).toEqual({ runBy: [a.replicaId], resumed: false });
    expect(lines.filter((line) => /lost its lease/.test(line.msg))).toEqual([]);
  });
});

describe.each(storeEngines)('webhook leases with a replica whose clock is off, on %s', (engine) => {
  const admin = systemContext('admin', 'test');
  const allow = new WebhookAllowList(['127.0.0.1/32']);
  let opened: Awaited<ReturnType<typeof openTestStore>>;
  let second: Store;
  let boxes: SecretBox[];
  let receiver: Receiver;
  const dispatchers: WebhookDispatcher[] = [];

  /** Replica `index`'s dispatcher (0: the first store, 1: the second). */
  const dispatcher = (index: 0 | 1) => {
    const made = new WebhookDispatcher({
      store: [opened.store, second][index]!,
      box: boxes[index]!,
      allow,
      logger: pino({ level: 'silent' }),
      replicaId: `replica-${index}`,
      pollMs: 20,
      // Renewed every second; a 15 s skew is far past it.
      leaseMs: 4_000,
      timeoutMs: 120_000,
    });
    dispatchers.push(made);
    return made;
  };

  beforeAll(async () => {
    opened = await openTestStore(engine);
    second = await openStore({ url: opened.location.url, dataDir: opened.location.dataDir });
    boxes = [opened.store, second].map(
      (store) => new SecretBox(store.db, keyringSource(opened.location.dataDir, {})),
    );
    await opened.store.db
      .insertInto('apps')
      .values({ id: 'shop', name: 'shop', created_by: 'admin', created_at: new Date().toISOString() })
      .execute();
    // It never answers: the replica that holds the lease is busy delivering the first event throughout.
    receiver = await startReceiver(() => null);
  });
  afterAll(async () => {
    realClock();
    await Promise.all(dispatchers.map((made) => made.stop()));
    await receiver?.close();
    await second?.close();
    await opened?.cleanup();
  });
  afterEach(async () => {
    realClock();
    await Promise.all(dispatchers.splice(0).map((made) => made.stop()));
  });

  /** A new webhook and an event for it, and its lease as stored. */
  const webhookWithEvent = async (name: string) => {
    const created = await createWebhook({ store: opened.store, box: boxes[0]!, allow }, admin, {
      name,
      url: receiver.url,
      app: 'shop',
    });
    await recordEvent(opened.store.db, admin, {
      type: 'values.changed',
      app: 'shop',
      data: { scope: 'app', version: null, set: ['K'], unset: [] },
    });
    const lease = () =>
      opened.store.db
        .selectFrom('webhooks')
        .select(['lease_owner', 'lease_until'])
        .where('id', '=', created.webhook.id)
        .executeTakeFirst();
    return { id: created.webhook.id, lease };
  };
  /** How many requests the receiver got for webhook `id`. */
  const sentTo = (id: string) =>
    receiver.requests.filter((request) =>
      String(request.headers['webhook-id']).startsWith(`msg_${id.replace(/^wh_/, '')}_`),
    ).length;
  /** Takes webhook `id` out of the next tests' way. */
  const disable = (id: string) =>
    opened.store.db.updateTable('webhooks').set({ enabled: 0 }).where('id', '=', id).execute();

  it('a replica whose clock is 15 s behind keeps its lease: its event is not sent twice', async () => {
    const { id, lease } = await webhookWithEvent('behind');
    skewClock(-SKEW_MS);
    dispatcher(0).start();
    await eventually(() => (sentTo(id) > 0 ? true : undefined), 15_000, 'the first attempt');
    await renewedBy(lease, 'replica-0', 1);
    realClock();
    dispatcher(1).start();
    await renewedBy(lease, 'replica-0', 6);
    expect(sentTo(id)).toBe(1);
    await disable(id);
  });

  it("a replica whose clock is 15 s ahead does not take a live replica's lease", async () => {
    const { id, lease } = await webhookWithEvent('ahead');
    dispatcher(0).start();
    await eventually(() => (sentTo(id) > 0 ? true : undefined), 15_000, 'the first attempt');
    await renewedBy(lease, 'replica-0', 1);
    skewClock(SKEW_MS);
    dispatcher(1).start();
    await renewedBy(lease, 'replica-0', 6);
    expect(sentTo(id)).toBe(1);
    await disable(id);
  });
});
