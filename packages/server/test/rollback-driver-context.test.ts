import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  type DriverContext,
  type ResourceDriver,
  type ResourceInputs,
  type RuntimeDriver,
  type RuntimeTarget,
} from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import {
  DeploymentInterrupted,
  destroyWorkloads,
  runDeployment,
  type OrchestratorDeps,
} from '../src/domain/deployments/orchestrator.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** A first deployment's workload that crashes as it starts, with a resource the deployment creates. */
const crashing: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { main: { image: 'fake', command: ['serve'], variables: { FAKE_EXIT_CODE: '1' } } },
  resources: { cache: { type: 'redis' } },
};

/**
 * A driver call that waits until its context's signal aborts (or the test lets it go): `entered` resolves
 * once a deployment is in it, `stopped` once its signal aborted while it waited.
 */
function hangingCall() {
  let enter: () => void = () => undefined;
  const entered = new Promise<void>((resolve) => (enter = resolve));
  let stop: () => void = () => undefined;
  const stopped = new Promise<'aborted'>((resolve) => (stop = () => resolve('aborted')));
  const released: Array<() => void> = [];
  const call = async (ctx: DriverContext): Promise<void> => {
    enter();
    await new Promise<void>((resolve) => {
      released.push(resolve);
      if (ctx.signal.aborted) resolve();
      else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    if (!ctx.signal.aborted) return;
    stop();
    throw new Error('stopped: the call was aborted');
  };
  return { call, entered, stopped, release: () => released.forEach((resolve) => resolve()) };
}

/**
 * DriverContext (packages/plugin-api/src/context.ts) promises a driver's signal aborts when the control plane
 * stops or loses the environment's lease, and that what a deleting resource driver logs is journaled as its
 * provisioning and pruning lines are. That holds for the calls a failed deployment's rollback makes too:
 * stopping the workloads it started (runtime `remove`) and deleting the resources it created (`delete`).
 */
describe.each(storeEngines)('the driver calls of a rollback on %s', (engine) => {
  let api: DeployingApi;
  let runtime: FakeRuntime;
  let resources: FakeResourceDriver;

  const deps = (extra: { runtime?: RuntimeDriver; resources?: ResourceDriver } = {}): OrchestratorDeps => {
    const chosen = extra.runtime ?? runtime;
    return {
      store: api.store,
      runtime: chosen,
      box: api.box,
      resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(extra.resources ?? resources),
      targets: { plan: async () => ({ runtime: chosen, moving: false }), commit: async () => undefined },
      logger: pino({ level: 'silent' }),
    };
  };
  const queue = async (): Promise<number> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: crashing, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    return Number(queued.json().id);
  };
  const detail = async (id: number): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  /** Resolves 'aborted' when `stopped` does within 5 s (the rollback's own timeouts are a minute and more). */
  const promptly = (stopped: Promise<'aborted'>) =>
    Promise.race([stopped, sleep(5_000).then(() => 'still waiting' as const)]);

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
    await api?.cleanup();
  });
  beforeEach(async () => {
    // Each test runs the environment's first deployment: with no set to restore, its rollback stops what it
    // started, then deletes what it created.
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    runtime = new FakeRuntime({ serveHttp: false });
    resources = new FakeResourceDriver();
  });

  it('journals what the drivers say while they stop the workloads and delete the resources', async () => {
    const saying = Object.assign(Object.create(runtime) as FakeRuntime, {
      remove: (target: RuntimeTarget, workload: string, ctx: DriverContext) => {
        ctx.logger.warn(`driver warning: removing ${workload}`);
        return runtime.remove(target, workload, ctx);
      },
    });
    const deleting = Object.assign(Object.create(resources) as FakeResourceDriver, {
      delete: (id: string, inputs: ResourceInputs, ctx: DriverContext) => {
        ctx.logger.info('driver line: deleting', { address: inputs.scope.address });
        return resources.delete(id, inputs, ctx);
      },
    });
    const id = await queue();
    await runDeployment(
      deps({ runtime: saying, resources: deleting }),
      id,
      new AbortController().signal,
      false,
    );
    const failed = await detail(id);
    expect(failed).toMatchObject({ status: 'failed', rolledBack: false });
    expect(resources.resources.size).toBe(0);
    const entries = failed.journal.map((entry) => `${entry.step}: ${entry.message}`);
    expect(entries).toContain('rollback: driver warning: removing web');
    expect(entries).toContain('provision: web.cache: driver line: deleting');
    // In order: what the runtime said before the rollback's outcome it explains.
    expect(entries.indexOf('rollback: driver warning: removing web')).toBeLessThan(
      entries.findIndex((entry) => entry.startsWith('rollback: no previous set to restore')),
    );
  });

  it('stops stopping the workloads once the deployment’s signal aborts', async () => {
    const hanging = hangingCall();
    const removing = Object.assign(Object.create(runtime) as FakeRuntime, {
      remove: (_target: RuntimeTarget, _workload: string, ctx: DriverContext) => hanging.call(ctx),
    });
    const id = await queue();
    const stopping = new AbortController();
    const run = runDeployment(deps({ runtime: removing }), id, stopping.signal, false);
    // Settled (either way) before the test ends, whatever it asserts.
    const settled = run.then(
      () => 'resolved' as const,
      (error: unknown) => error,
    );
    try {
      await hanging.entered;
      stopping.abort();
      expect(await promptly(hanging.stopped)).toBe('aborted');
    } finally {
      hanging.release();
    }
    // Interrupted, as a stop at any other point of the run is: the deployment is not finished but left to be
    // resumed (queued here, as no worker took it up: the test runs it itself).
    expect(await settled).toBeInstanceOf(DeploymentInterrupted);
    expect((await detail(id)).status).toBe('queued');
  });

  it('stops deleting the resources once the deployment’s signal aborts', async () => {
    const hanging = hangingCall();
    const deleting = Object.assign(Object.create(resources) as FakeResourceDriver, {
      delete: (_id: string, _inputs: ResourceInputs, ctx: DriverContext) => hanging.call(ctx),
    });
    const id = await queue();
    const stopping = new AbortController();
    const run = runDeployment(deps({ resources: deleting }), id, stopping.signal, false);
    const settled = run.then(
      () => 'resolved' as const,
      (error: unknown) => error,
    );
    try {
      await hanging.entered;
      stopping.abort();
      expect(await promptly(hanging.stopped)).toBe('aborted');
    } finally {
      hanging.release();
    }
    expect(await settled).toBeInstanceOf(DeploymentInterrupted);
    expect((await detail(id)).status).toBe('queued');
    // The resource it could not delete is still recorded, for the resumed run to take back.
    expect([...resources.resources.keys()].some((key) => key.includes('cache'))).toBe(true);
  });
});

/**
 * Taking down a deleted environment's workloads gives the runtime a logger that masks the environment's
 * secrets: a line the runtime writes is logged masked, and does not break the call.
 */
describe('destroying the workloads of a deleted environment', () => {
  it('logs what the runtime says, masked, and lets it finish', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
    const fake = new FakeRuntime({ serveHttp: false });
    let finished = false;
    const runtime = Object.assign(Object.create(fake) as FakeRuntime, {
      destroy: async (target: RuntimeTarget, ctx: DriverContext) => {
        ctx.logger.warn('driver warning: removing the container given hunter2', { given: 'hunter2' });
        await fake.destroy(target, ctx);
        finished = true;
      },
    });
    await destroyWorkloads(
      runtime,
      logger,
      [{ app: 'shop', env: 'dev' }],
      async () => (text) => text.split('hunter2').join('***'),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(finished).toBe(true);
    expect(lines.filter((line) => line.msg === 'could not remove workloads')).toEqual([]);
    expect(lines.find((line) => String(line.msg).startsWith('driver warning:'))).toMatchObject({
      msg: 'driver warning: removing the container given ***',
      given: '***',
    });
  });
});
