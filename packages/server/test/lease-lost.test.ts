import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DriverRegistry, type ResourceDriver, type RuntimeDriver } from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { eventually } from '../../../test/support/processes.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const TARGET = { app: 'shop', env: 'dev' };

/** The web workload answering with `greeting`, with a redis `cache` when asked. */
function web(greeting: string, withCache = false): ScoreWorkload {
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: { main: { image: 'fake', command: ['serve'], variables: { GREETING: greeting } } },
    ...(withCache ? { resources: { cache: { type: 'redis' } } } : {}),
  };
}

/** A driver call that waits until the test lets it go on: a replica stalled in it (a long GC pause, say). */
function stall() {
  let reached: () => void = () => undefined;
  let release: () => void = () => undefined;
  const inCall = new Promise<void>((resolve) => (reached = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    /** Resolves once the replica is in the call. */
    inCall,
    release,
    /** Called by the stalled call: waits for release(). */
    async wait() {
      reached();
      await released;
    },
  };
}

/** A logger that keeps what it logs, for what a replica says when it stops. */
function keptLogger(): { logger: Logger; lines: Array<{ msg: string; deployment?: number }> } {
  const lines: Array<{ msg: string; deployment?: number }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/**
 * Two replicas' deployment workers on one store. Replica A runs a deployment and stalls in a driver call for
 * longer than its lease; replica B takes the environment over and finishes the deployment. When A goes on, it
 * finds the lease gone at its next write: it writes nothing more for the deployment (no progress, journal line,
 * resource record or status), undoes nothing, and says so in its log.
 */
describe.each(storeEngines)('a replica whose lease on an environment was taken over, on %s', (engine) => {
  let api: DeployingApi;
  let runtime: FakeRuntime;
  const workers: DeploymentWorker[] = [];

  /** A worker of its own replica, with `runtime` and `driver` as its resource driver `fake`. */
  const replica = (options: { runtime: RuntimeDriver; driver: ResourceDriver; logger?: Logger }) => {
    const worker = new DeploymentWorker({
      store: api.store,
      runtime: options.runtime,
      box: api.box,
      resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(options.driver),
      logger: options.logger ?? pino({ level: 'silent' }),
    });
    workers.push(worker);
    return worker;
  };
  const queue = async (spec: ScoreWorkload): Promise<string> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    return queued.json().id as string;
  };
  const detail = async (id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  /** Resolves once the deployment has finished and journaled its end. */
  const finished = (id: string) =>
    eventually(
      async () => {
        const shown = await detail(id);
        return shown.journal.some((entry) => entry.step === 'finish') ? shown : undefined;
      },
      15_000,
      `deployment ${id} to finish`,
    );
  /** What the store holds about the deployment and the environment's resources. */
  const stored = async (id: string) => ({
    deployment: await api.store.db
      .selectFrom('deployments')
      .select(['status', 'reason', 'finished_at', 'progress', 'rolled_back'])
      .where('id', '=', Number(id))
      .executeTakeFirstOrThrow(),
    journal: (await detail(id)).journal,
    resources: await api.store.db
      .selectFrom('resources')
      .select(['address', 'driver_id', 'updated_at'])
      .where('app_id', '=', 'shop')
      .where('env_id', '=', 'dev')
      .orderBy('address')
      .execute(),
  });
  /** Replica B takes the environment over, as its worker does once A's lease has expired. */
  const takeOver = async (b: DeploymentWorker) => {
    await api.store.db
      .updateTable('environments')
      .set({ lease_owner: b.replicaId, lease_until: new Date(Date.now() + 60_000).toISOString() })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'dev')
      .execute();
    b.start();
  };
  const greetings = () =>
    Object.fromEntries([...runtime.running(TARGET)].map(([name, w]) => [name, w.env.GREETING ?? '']));

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
    await Promise.all(workers.map((worker) => worker.stop()));
    await api?.cleanup();
  });
  beforeEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop()));
    await api.call('DELETE', '/apps/shop/envs/dev?force=true');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    runtime = new FakeRuntime({ serveHttp: false });
  });

  it('stalled creating a resource: stores no record of it and takes nothing back', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    const driverOfA = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: Object.assign(Object.create(driverOfA) as FakeResourceDriver, {
        create: async (...args: Parameters<FakeResourceDriver['create']>) => {
          await stalled.wait();
          return driverOfA.create(...args);
        },
      }),
    });
    const b = replica({ runtime, driver: new FakeResourceDriver() });
    a.start();
    expect((await finished(await queue(web('v1')))).status).toBe('succeeded');

    const id = await queue(web('v2', true));
    await stalled.inCall;
    await takeOver(b);
    const done = await finished(id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const before = await stored(id);
    expect(before.resources.map((row) => row.address)).toEqual(['web.cache']);

    stalled.release();
    await a.stop();
    expect(await stored(id)).toEqual(before);
    expect(driverOfA.calls.filter((call) => call.method === 'delete')).toEqual([]);
    expect(
      lines.some((line) => Number(line.deployment) === Number(id) && /lost its lease/.test(line.msg)),
    ).toBe(true);
  });

  it('stalled just after its driver created a resource: records it all the same, so that it is not lost', async () => {
    const stalled = stall();
    const driverOfA = new FakeResourceDriver();
    const a = replica({
      runtime,
      driver: Object.assign(Object.create(driverOfA) as FakeResourceDriver, {
        create: async (...args: Parameters<FakeResourceDriver['create']>) => {
          const made = await driverOfA.create(...args);
          await stalled.wait();
          return made;
        },
      }),
    });
    // Names are made from the resource's scope: B's create of the same resource finds it exists already.
    const driverOfB = new FakeResourceDriver();
    driverOfB.fail('create', { message: 'database "shop_dev_cache" already exists' });
    const b = replica({ runtime, driver: driverOfB });
    a.start();
    expect((await finished(await queue(web('v1')))).status).toBe('succeeded');

    const id = await queue(web('v2', true));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('failed');

    stalled.release();
    await a.stop();
    // The resource A's driver made is recorded, so that the next deployment keeps it rather than failing on
    // it again (and deleting the environment deletes it).
    const [madeByA] = [...driverOfA.resources.keys()];
    expect((await stored(id)).resources.map((row) => [row.address, row.driver_id])).toEqual([
      ['web.cache', madeByA],
    ]);
  });

  it('stalled waiting for its workloads, which then fail: neither rolls back nor fails the deployment', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const runtimeOfA = Object.assign(Object.create(runtime) as FakeRuntime, {
      waitReady: async (...args: Parameters<FakeRuntime['waitReady']>) => {
        if (!stalling) return runtime.waitReady(...args);
        await stalled.wait();
        return { ready: false as const, reason: 'lost the engine', lastLogs: [] };
      },
    });
    const driver = new FakeResourceDriver();
    const a = replica({ runtime: runtimeOfA, driver, logger });
    const b = replica({ runtime, driver });
    a.start();
    expect((await finished(await queue(web('v1')))).status).toBe('succeeded');

    stalling = true;
    const id = await queue(web('v2', true));
    await stalled.inCall;
    await takeOver(b);
    const done = await finished(id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    const before = await stored(id);

    stalled.release();
    // A is done with the deployment once it says it lost the lease, or (as it did before fencing) once it
    // has written something.
    await eventually(
      async () =>
        lines.some((line) => Number(line.deployment) === Number(id) && /lost its lease/.test(line.msg)) ||
        JSON.stringify(await stored(id)) !== JSON.stringify(before) ||
        undefined,
      15_000,
      'replica A to stop',
    );
    await a.stop();
    expect(await stored(id)).toEqual(before);
    expect(greetings()).toEqual({ web: 'v2' });
    expect(driver.resources.size).toBe(1);
  });
});
