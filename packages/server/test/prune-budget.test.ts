import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  type DriverContext,
  type ResourceDriver,
  type ResourceInputs,
} from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import {
  runDeployment,
  type EnvironmentTargets,
  type OrchestratorDeps,
} from '../src/domain/deployments/orchestrator.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * A fake resource driver whose deletes take `deleteMs` unless their `ctx.signal` aborts first (then they
 * reject with its reason, as a driver that stops promptly does); `aborted` records whether one did.
 */
class SlowDeletes extends FakeResourceDriver {
  deleteMs = 0;
  aborted: unknown[] = [];
  /** Called when a delete begins. */
  onDelete: () => void = () => {};

  override async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    this.onDelete();
    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        this.aborted.push(ctx.signal.reason);
        reject(ctx.signal.reason as Error);
      };
      const timer = setTimeout(resolve, this.deleteMs);
      if (ctx.signal.aborted) stop();
      else ctx.signal.addEventListener('abort', stop, { once: true });
    });
    await super.delete(id, inputs, ctx);
  }
}

const worker = (resources: ScoreWorkload['resources'] = {}): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'worker' },
  containers: { main: { image: 'fake', command: ['work'] } },
  resources,
});

/**
 * Prune (`--prune`) deletes the resources a set no longer uses after its workloads are ready: its driver calls
 * get a budget of their own, not what is left of the readiness timeout (`--timeout`), and still stop with the
 * deployment; its journal entries are under `prune`.
 */
describe.each(storeEngines)('pruning resources on %s', (engine) => {
  let api: DeployingApi;
  let runtime: FakeRuntime;
  let resources: SlowDeletes;
  const targets: EnvironmentTargets = {
    async plan() {
      return { runtime, moving: false };
    },
    async commit() {},
  };
  const deps = (): OrchestratorDeps => ({
    store: api.store,
    runtime,
    box: api.box,
    resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(resources),
    targets,
    logger: pino({ level: 'silent' }),
  });
  const deploy = async (
    workloads: ScoreWorkload[],
    body: Record<string, unknown>,
    signal = new AbortController().signal,
  ): Promise<DeploymentDetail> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: workloads.map((spec) => ({ spec, dir: '/srv/app' })),
      minReadySeconds: 0,
      ...body,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = Number(queued.json().id);
    await runDeployment(deps(), id, signal, false).catch(() => undefined);
    return (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  };
  const recorded = async () =>
    (
      await api.store.db
        .selectFrom('resources')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', 'dev')
        .execute()
    ).map((row) => row.address);

  beforeAll(async () => {
    api = await openDeployingApi(engine, {
      runtime: new FakeRuntime({ serveHttp: false }),
      resourceDrivers: [new FakeResourceDriver()],
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'fake-thing',
          type: 'thing',
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
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    runtime = new FakeRuntime({ serveHttp: false });
    resources = new SlowDeletes();
    const first = await deploy([worker({ jobs: { type: 'thing' } })], {});
    expect(first.status, first.reason ?? '').toBe('succeeded');
    expect(await recorded()).toEqual(['worker.jobs']);
  });

  it('gives its deletes a budget of their own: a delete longer than --timeout still completes', async () => {
    // The readiness timeout (1 s, started before the workloads switch) runs out while the delete runs.
    resources.deleteMs = 1_500;
    const pruned = await deploy([worker()], { prune: true, timeoutSeconds: 1 });
    expect(pruned.status, pruned.reason ?? '').toBe('succeeded');
    expect(resources.aborted).toEqual([]);
    expect(pruned.journal.filter((e) => e.status === 'failed')).toEqual([]);
    expect(await recorded()).toEqual([]);
  });

  it('still stops its deletes when the deployment stops (the control plane stopping)', async () => {
    resources.deleteMs = 60_000;
    const stop = new AbortController();
    resources.onDelete = () => stop.abort();
    await deploy([worker()], { prune: true }, stop.signal);
    expect(resources.aborted).toHaveLength(1);
    expect((resources.aborted[0] as Error).name).not.toBe('TimeoutError');
    expect(await recorded()).toEqual(['worker.jobs']);
  });

  it('journals its deletes under prune, not provision', async () => {
    const pruned = await deploy([worker()], { prune: true });
    expect(pruned.status, pruned.reason ?? '').toBe('succeeded');
    const deleting = pruned.journal.filter((e) => /worker\.jobs/.test(e.message));
    expect(deleting.map((e) => [e.step, e.status, e.message])).toEqual([
      ['prune', 'started', 'worker.jobs (thing): deleting with fake'],
      ['prune', 'succeeded', 'worker.jobs: deleted'],
    ]);
  });
});
