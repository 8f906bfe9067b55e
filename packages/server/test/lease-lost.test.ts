import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  RuntimeRegistry,
  type ResourceDriver,
  type ResourceInputs,
  type ResourceOutputs,
  type RuntimeDriver,
} from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import type { EnvironmentTargets } from '../src/domain/deployments/orchestrator.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { DeploymentTelemetry } from '../src/observability/telemetry.ts';
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

type Resources = NonNullable<ScoreWorkload['resources']>;

/** The web workload answering with `greeting`, serving port 8080, with `resources`. */
function webWith(greeting: string, resources: Resources): ScoreWorkload {
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: { main: { image: 'fake', command: ['serve'], variables: { GREETING: greeting } } },
    service: { ports: { http: { port: 8080 } } },
    resources,
  };
}

/** A route of the web workload to its port, on its environment's host, under `path`. */
const ROUTE_HOST = 'web.dev.shop.localhost';
const route = (path: string) => ({ type: 'route', params: { host: ROUTE_HOST, path, port: 8080 } });

/** `driver` with `method` replaced; the replacement gets the driver's own method to call. */
function replacing<M extends 'create' | 'update' | 'read' | 'delete' | 'diff'>(
  driver: FakeResourceDriver,
  method: M,
  replacement: (own: FakeResourceDriver[M]) => FakeResourceDriver[M],
): FakeResourceDriver {
  const own = driver[method].bind(driver) as FakeResourceDriver[M];
  return Object.assign(Object.create(driver) as FakeResourceDriver, { [method]: replacement(own) });
}

/** The fake driver, but a `route` provides what a route does: its params' host, path and port. */
function routing(driver: FakeResourceDriver): FakeResourceDriver {
  const outputsOf = (inputs: ResourceInputs, made: ResourceOutputs): ResourceOutputs =>
    inputs.scope.type === 'route'
      ? {
          values: {
            host: String(inputs.params.host),
            path: String(inputs.params.path),
            port: String(inputs.params.port),
          },
          secrets: {},
        }
      : made;
  const creating = replacing(driver, 'create', (create) => async (inputs, ctx) => {
    const made = await create(inputs, ctx);
    return { id: made.id, outputs: outputsOf(inputs, made.outputs) };
  });
  return replacing(creating, 'update', (update) => async (id, olds, news, ctx) => ({
    outputs: outputsOf(news, (await update(id, olds, news, ctx)).outputs),
  }));
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
 * Two replicas' deployment workers on one store. Replica A runs a deployment and stalls in a driver call (or
 * between phases) for longer than its lease; replica B takes the environment over and finishes the deployment,
 * and may run the next ones. When A goes on, it finds the lease gone at its next write: it writes nothing more
 * for the deployment (no progress, journal line, resource record, route, host claim, event or status), undoes
 * nothing, and says so in its log. What its driver did just before is recorded only where B has not recorded
 * that resource since.
 */
describe.each(storeEngines)('a replica whose lease on an environment was taken over, on %s', (engine) => {
  let api: DeployingApi;
  let runtime: FakeRuntime;
  const workers: DeploymentWorker[] = [];

  /**
   * A worker of its own replica, with `runtime` and `driver` as its resource driver `fake`; with `targets`,
   * it moves environments between runtime targets.
   */
  const replica = (options: {
    runtime: RuntimeDriver;
    targets?: EnvironmentTargets;
    driver: ResourceDriver;
    logger?: Logger;
    telemetry?: DeploymentTelemetry;
  }) => {
    const worker = new DeploymentWorker({
      store: api.store,
      runtime: options.runtime,
      targets: options.targets,
      box: api.box,
      resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(options.driver),
      logger: options.logger ?? pino({ level: 'silent' }),
      telemetry: options.telemetry,
    });
    workers.push(worker);
    return worker;
  };
  const queue = async (spec: ScoreWorkload, options: object = {}): Promise<string> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec, dir: '/srv/app' }],
      minReadySeconds: 0,
      ...options,
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
  /** Everything the store holds about the environment's resources and routes. */
  const records = async () => ({
    resources: await api.store.db
      .selectFrom('resources')
      .selectAll()
      .where('app_id', '=', 'shop')
      .where('env_id', '=', 'dev')
      .orderBy('address')
      .execute(),
    routes: await api.store.db
      .selectFrom('routes')
      .selectAll()
      .where('app_id', '=', 'shop')
      .where('env_id', '=', 'dev')
      .orderBy('host')
      .orderBy('path')
      .execute(),
    hosts: (
      await api.store.db
        .selectFrom('route_hosts')
        .select(['host', 'app_id', 'env_id'])
        .where('app_id', '=', 'shop')
        .where('env_id', '=', 'dev')
        .orderBy('host')
        .execute()
    ).map((row) => `${row.host} ${row.app_id}/${row.env_id}`),
  });
  /** The types of the resource events recorded for deployment `id`. */
  const resourceEvents = async (id: string) =>
    (
      await api.store.db
        .selectFrom('events')
        .select(['type', 'data'])
        .where('app_id', '=', 'shop')
        .where('type', 'like', 'resource.%')
        .orderBy('id')
        .execute()
    )
      .filter((event) => (JSON.parse(event.data) as { deploymentId: string | null }).deploymentId === id)
      .map((event) => event.type);
  /** Lets replica A go on and waits until it has stopped, having said it lost its lease on deployment `id`. */
  const resumeUntilStopped = async (
    a: DeploymentWorker,
    stalled: { release(): void },
    lines: Array<{ msg: string; deployment?: number }>,
    id: string,
  ) => {
    stalled.release();
    await eventually(
      async () =>
        lines.some((line) => Number(line.deployment) === Number(id) && /lost its lease/.test(line.msg)) ||
        undefined,
      15_000,
      'replica A to say it lost its lease',
    );
    await a.stop();
  };
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
        {
          id: 'fake-route',
          type: 'route',
          driver: 'fake',
          driverInputs: { values: {} },
          criteria: [{ appId: 'shop' }],
        },
        {
          id: 'fake-dns',
          type: 'dns',
          driver: 'fake',
          driverInputs: { values: { replaceOn: ['params.size'] } },
          criteria: [{ appId: 'shop' }],
        },
        {
          id: 'fake-amqp',
          type: 'amqp',
          driver: 'fake',
          driverInputs: { values: {}, secrets: { token: 'first' } },
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
    await api.call('DELETE', '/apps/shop/envs/dev');
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
  it('stalled before writing its routes: leaves the routes the lease holder wrote since as they are', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const telemetry = Object.assign(
      Object.create(new DeploymentTelemetry(api.store)) as DeploymentTelemetry,
      {
        phase: async <T>(_about: unknown, phase: string, _driver: unknown, fn: () => Promise<T>) => {
          if (phase === 'routes' && stalling) await stalled.wait();
          return fn();
        },
      },
    );
    const driver = routing(new FakeResourceDriver());
    const a = replica({ runtime, driver, logger, telemetry });
    const b = replica({ runtime, driver });
    a.start();
    expect((await finished(await queue(webWith('v1', { route: route('/') })))).status).toBe('succeeded');

    stalling = true;
    const id = await queue(webWith('v2', { route: route('/') }));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    // The lease's holder moves the route on with the next deployment.
    expect((await finished(await queue(webWith('v3', { route: route('/v3') })))).status).toBe('succeeded');
    const before = await records();
    expect(before.routes.map((row) => `${row.host}${row.path}`)).toEqual([`${ROUTE_HOST}/v3`]);

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
  });

  it('stalled just after its driver created a route: claims no host the lease holder gave up since', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const a = replica({
      runtime,
      logger,
      driver: replacing(routing(new FakeResourceDriver()), 'create', (create) => async (inputs, ctx) => {
        const made = await create(inputs, ctx);
        if (stalling) await stalled.wait();
        return made;
      }),
    });
    const b = replica({ runtime, driver: routing(new FakeResourceDriver()) });
    a.start();
    expect((await finished(await queue(webWith('v1', {})))).status).toBe('succeeded');

    stalling = true;
    const id = await queue(webWith('v2', { route: route('/') }));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    // The next deployment routes nothing: the environment gives the host up.
    expect((await finished(await queue(webWith('v3', {})))).status).toBe('succeeded');
    const before = await records();
    expect(before.hosts).toEqual([]);

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
  });

  it('stalled just after its driver updated a resource: keeps the record the lease holder stored since', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const shared = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: replacing(shared, 'update', (update) => async (id, olds, news, ctx) => {
        const made = await update(id, olds, news, ctx);
        if (stalling) await stalled.wait();
        return made;
      }),
    });
    // B's update gives the resource a new password: the record must say so.
    const b = replica({
      runtime,
      driver: replacing(shared, 'update', (update) => async (id, olds, news, ctx) => {
        const made = await update(id, olds, news, ctx);
        return { outputs: { values: made.outputs.values, secrets: { password: 'set by replica B' } } };
      }),
    });
    const cache = (size: string) => ({ cache: { type: 'redis', params: { size } } });
    a.start();
    expect((await finished(await queue(webWith('v1', cache('small'))))).status).toBe('succeeded');

    stalling = true;
    const id = await queue(webWith('v2', cache('large')));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    const before = await records();

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
  });

  it('stalled just after its driver updated a resource the lease holder did not: records the update', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const shared = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: replacing(shared, 'update', (update) => async (id, olds, news, ctx) => {
        const made = await update(id, olds, news, ctx);
        if (stalling) await stalled.wait();
        return { outputs: { values: made.outputs.values, secrets: { password: 'set by replica A' } } };
      }),
    });
    const driverOfB = replacing(shared, 'update', () => async () => {
      throw new Error('the server is unreachable');
    });
    const b = replica({ runtime, driver: driverOfB });
    const cache = (size: string) => ({ cache: { type: 'redis', params: { size } } });
    a.start();
    expect((await finished(await queue(webWith('v1', cache('small'))))).status).toBe('succeeded');
    const [first] = (await records()).resources;

    stalling = true;
    const id = await queue(webWith('v2', cache('large')));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('failed');
    expect((await records()).resources).toEqual([first]);

    await resumeUntilStopped(a, stalled, lines, id);
    // The resource has A's inputs and password now: its record says so, so that the next update gets them.
    const [updated] = (await records()).resources;
    expect(updated?.inputs_fp).not.toBe(first?.inputs_fp);
    expect(JSON.parse(await api.box.decrypt(updated!.output_secrets))).toEqual({
      password: 'set by replica A',
    });
    expect(JSON.parse(updated!.params)).toEqual({ size: 'large' });
  });

  it('stalled comparing a kept resource: leaves the inputs the lease holder recorded since', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const shared = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: replacing(shared, 'diff', (diff) => async (id, olds, news, ctx) => {
        if (stalling) await stalled.wait();
        return diff(id, olds, news, ctx);
      }),
    });
    const b = replica({ runtime, driver: shared });
    const queueWith = (greeting: string, size: string) =>
      queue(webWith(greeting, { queue: { type: 'amqp', params: { size } } }));
    const token = async (value: string) => {
      const applied = await api.call('POST', '/resource-definitions/apply', {
        definitions: [
          {
            id: 'fake-amqp',
            type: 'amqp',
            driver: 'fake',
            driverInputs: { values: {}, secrets: { token: value } },
            criteria: [{ appId: 'shop' }],
          },
        ],
      });
      expect(applied.statusCode, applied.body).toBe(200);
    };
    await token('first');
    a.start();
    expect((await finished(await queueWith('v1', 'small'))).status).toBe('succeeded');

    // A new secret of the definition: the driver has nothing to change, the record takes the new inputs.
    await token('second');
    stalling = true;
    const id = await queueWith('v2', 'small');
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    expect((await finished(await queueWith('v3', 'large'))).status).toBe('succeeded');
    const before = await records();

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
  });

  it('stalled in a create that then fails: records no resource.failed event for the deployment', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const a = replica({
      runtime,
      logger,
      driver: replacing(new FakeResourceDriver(), 'create', (create) => async (inputs, ctx) => {
        if (!stalling) return create(inputs, ctx);
        await stalled.wait();
        throw new Error('the server went away');
      }),
    });
    const b = replica({ runtime, driver: new FakeResourceDriver() });
    a.start();
    expect((await finished(await queue(web('v1')))).status).toBe('succeeded');

    stalling = true;
    const id = await queue(web('v2', true));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    expect(await resourceEvents(id)).toEqual(['resource.provisioned']);

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await resourceEvents(id)).toEqual(['resource.provisioned']);
  });

  it('stalled just after its driver deleted a pruned resource: keeps the record of the one made since', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const shared = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: replacing(shared, 'delete', (remove) => async (id, inputs, ctx) => {
        await remove(id, inputs, ctx);
        if (stalling) await stalled.wait();
      }),
    });
    const b = replica({ runtime, driver: shared });
    a.start();
    expect((await finished(await queue(web('v1', true)))).status).toBe('succeeded');

    stalling = true;
    const id = await queue(web('v2'), { prune: true, allowDataLoss: true });
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    // The next deployment uses a cache again: a new one, at the same address.
    expect((await finished(await queue(web('v3', true)))).status).toBe('succeeded');
    const before = await records();
    expect(before.resources.map((row) => row.address)).toEqual(['web.cache']);

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
  });

  it('stalled just after its driver replaced a resource: keeps the record the lease holder stored since', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const shared = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: replacing(shared, 'create', (create) => async (inputs, ctx) => {
        const made = await create(inputs, ctx);
        if (stalling) await stalled.wait();
        return made;
      }),
    });
    const b = replica({ runtime, driver: shared });
    const named = (greeting: string, size: string) =>
      queue(webWith(greeting, { name: { type: 'dns', params: { size } } }));
    a.start();
    expect((await finished(await named('v1', 'small'))).status).toBe('succeeded');

    stalling = true;
    const id = await named('v2', 'large');
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    const before = await records();
    const deletes = shared.calls.filter((call) => call.method === 'delete').length;

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
    // What B made stays: A takes nothing back.
    expect(shared.calls.filter((call) => call.method === 'delete')).toHaveLength(deletes);
    expect([...shared.resources.keys()]).toEqual([before.resources[0]?.driver_id]);
  });
  it('stalled moving the environment off a runtime target: leaves it on the target the lease holder runs it on', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const local = new FakeRuntime({ serveHttp: false });
    const east = new FakeRuntime({ name: 'east', serveHttp: false });
    // A stalls once its driver has removed the workloads on the target the environment leaves.
    const eastOfA = Object.assign(Object.create(east) as FakeRuntime, {
      destroy: async (...args: Parameters<FakeRuntime['destroy']>) => {
        await east.destroy(...args);
        if (stalling) await stalled.wait();
      },
    });
    /** A replica's router: the `local` target runs on `local`, the docker target `east` on `onEast`. */
    const router = (onEast: RuntimeDriver) =>
      new RuntimeRouter(
        api.store,
        new RuntimeRegistry()
          .register({ type: 'process', fromConfig: () => local })
          .register({ type: 'docker', fromConfig: () => onEast }),
      );
    const routerOfA = router(eastOfA);
    const routerOfB = router(east);
    const driver = new FakeResourceDriver();
    const a = replica({ runtime: routerOfA, targets: routerOfA, driver, logger });
    const b = replica({ runtime: routerOfB, targets: routerOfB, driver });
    /** Makes the target `east` match the environment `envId`. */
    const eastMatches = async (envId: string) => {
      const applied = await api.call('POST', '/runtime-targets/apply', {
        targets: [
          { id: 'east', type: 'docker', config: { socketPath: '/run/east.sock' }, criteria: [{ envId }] },
        ],
      });
      expect(applied.statusCode, applied.body).toBe(200);
    };
    const recordedTarget = async () =>
      (
        await api.store.db
          .selectFrom('environments')
          .select('runtime_target')
          .where('app_id', '=', 'shop')
          .where('id', '=', 'dev')
          .executeTakeFirstOrThrow()
      ).runtime_target;
    const greetingsOn = (on: FakeRuntime) =>
      Object.fromEntries([...on.running(TARGET)].map(([name, w]) => [name, w.env.GREETING ?? '']));

    try {
      await eastMatches('dev');
      a.start();
      expect((await finished(await queue(web('v1')))).status).toBe('succeeded');
      expect(await recordedTarget()).toBe('east');

      // The environment is to move to the local target; A removes its workloads on east, then stalls.
      await eastMatches('nowhere');
      stalling = true;
      const id = await queue(web('v2'));
      await stalled.inCall;
      // By the time B takes over, east matches again: B keeps the environment there and runs v2 on it.
      await eastMatches('dev');
      await takeOver(b);
      const done = await finished(id);
      expect(done.status, done.reason ?? '').toBe('succeeded');
      expect(await recordedTarget()).toBe('east');
      expect(greetingsOn(east)).toEqual({ web: 'v2' });

      await resumeUntilStopped(a, stalled, lines, id);
      expect(await recordedTarget()).toBe('east');
      expect(greetingsOn(east)).toEqual({ web: 'v2' });
      expect(greetingsOn(local)).toEqual({});
    } finally {
      await eastMatches('nowhere');
    }
  });

  it('stalled checking a kept resource, which it then finds gone: takes back nothing it created', async () => {
    const { logger, lines } = keptLogger();
    const stalled = stall();
    let stalling = false;
    const shared = new FakeResourceDriver();
    const a = replica({
      runtime,
      logger,
      driver: replacing(shared, 'read', (read) => async (id, inputs, ctx) => {
        if (!stalling || inputs.scope.address !== 'web.queue') return read(id, inputs, ctx);
        await stalled.wait();
        return null;
      }),
    });
    const b = replica({ runtime, driver: shared });
    const queueOnly = { queue: { type: 'amqp' } };
    a.start();
    expect((await finished(await queue(webWith('v1', queueOnly)))).status).toBe('succeeded');

    // A creates the cache, then stalls reading the queue it keeps.
    stalling = true;
    const id = await queue(webWith('v2', { ...queueOnly, cache: { type: 'redis' } }));
    await stalled.inCall;
    await takeOver(b);
    expect((await finished(id)).status).toBe('succeeded');
    const before = await records();
    expect(before.resources.map((row) => row.address)).toEqual(['web.cache', 'web.queue']);

    await resumeUntilStopped(a, stalled, lines, id);
    expect(await records()).toEqual(before);
    expect([...shared.resources.keys()].sort()).toEqual(['shop/dev/web.cache', 'shop/dev/web.queue']);
  });
});
