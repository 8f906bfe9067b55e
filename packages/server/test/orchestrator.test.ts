import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DriverRegistry, type ResourceDriver } from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import {
  DeploymentInterrupted,
  runDeployment,
  type EnvironmentTargets,
  type OrchestratorDeps,
} from '../src/domain/deployments/orchestrator.ts';
import type { PhaseName } from '../src/domain/deployments/phases/phase.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const TARGET = { app: 'shop', env: 'dev' };

/** A workload the fake runtime runs: it answers with `greeting`; `extra` adds variables and resources. */
function web(
  greeting: string,
  extra: { variables?: Record<string, string>; resources?: ScoreWorkload['resources'] } = {},
): ScoreWorkload {
  return {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'web' },
    containers: {
      main: {
        image: 'fake',
        command: ['serve'],
        variables: { GREETING: greeting, DB: '${resources.db.name}', ...extra.variables },
      },
    },
    resources: { db: { type: 'postgres' }, ...extra.resources },
  };
}

const worker: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'worker' },
  containers: { main: { image: 'fake', command: ['work'] } },
};

/**
 * The deployment orchestrator with in-memory fake drivers, on a real store: every phase that throws ends the
 * deployment as failed naming the phase, with the previous set running again and no resource the failed run
 * created left behind. Each test queues through the API and runs the deployment directly (no worker), so it
 * takes milliseconds.
 */
describe.each(storeEngines)('the deployment orchestrator with fake drivers on %s', (engine) => {
  let api: DeployingApi;
  let runtime: FakeRuntime;
  let resources: FakeResourceDriver;
  /** Makes the target match fail (the plan phase) while set. */
  let unreachableTarget: string | null = null;

  const targets: EnvironmentTargets = {
    async plan() {
      if (unreachableTarget) throw new Error(unreachableTarget);
      return { runtime, moving: false };
    },
    async commit() {},
  };
  const deps = (extra: Partial<OrchestratorDeps> = {}): OrchestratorDeps => ({
    store: api.store,
    runtime,
    box: api.box,
    resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(resources),
    targets,
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  /** Queues a deployment of `workloads` (and removals, and other body fields) and resolves with its id. */
  const queue = async (
    workloads: ScoreWorkload[],
    body: { remove?: string[]; prune?: boolean; allowDataLoss?: boolean } = {},
  ): Promise<number> => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      ...(workloads.length ? { workloads: workloads.map((spec) => ({ spec, dir: '/srv/app' })) } : {}),
      ...body,
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    return Number(queued.json().id);
  };
  const detail = async (id: number): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  /** Queues and runs a deployment to its end; resolves with its record. */
  const deploy = async (
    workloads: ScoreWorkload[],
    body: Parameters<typeof queue>[1] = {},
  ): Promise<DeploymentDetail> => {
    const id = await queue(workloads, body);
    await runDeployment(deps(), id, new AbortController().signal, false);
    return detail(id);
  };
  /** The addresses of the resources the store records for shop/dev. */
  const recorded = async () =>
    (
      await api.store.db
        .selectFrom('resources')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', 'dev')
        .execute()
    )
      .map((row) => row.address)
      .sort();
  const greetings = () =>
    Object.fromEntries([...runtime.running(TARGET)].map(([name, w]) => [name, w.env.GREETING ?? '']));

  beforeAll(async () => {
    // The API's runtime and resource driver serve its routes (deleting an environment among them); the tests
    // run their deployments with fresh fakes of their own.
    api = await openDeployingApi(engine, {
      runtime: new FakeRuntime({ serveHttp: false }),
      resourceDrivers: [new FakeResourceDriver()],
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: ['postgres', 'redis'].map((type) => ({
        id: `fake-${type}`,
        type,
        driver: 'fake',
        driverInputs: { values: {} },
        criteria: [{ appId: 'shop' }],
      })),
    });
    expect(applied.statusCode, applied.body).toBe(200);
  });
  afterAll(async () => {
    await api?.cleanup();
  });
  beforeEach(async () => {
    // Every test starts on a fresh environment with one successful deployment (web v1 and worker).
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    runtime = new FakeRuntime({ serveHttp: false });
    resources = new FakeResourceDriver();
    unreachableTarget = null;
    const first = await deploy([web('v1'), worker]);
    expect(first.status, first.reason ?? '').toBe('succeeded');
  });

  it('deploys a set: provisions its resources once and runs every workload', async () => {
    const second = await deploy([web('v2')]);
    expect(second.status, second.reason ?? '').toBe('succeeded');
    expect(greetings()).toEqual({ web: 'v2', worker: '' });
    expect(resources.calls.filter((c) => c.method === 'create')).toHaveLength(1);
    expect(await recorded()).toEqual(['web.db']);
  });

  it('rolls back after a failed probe: the exit code in the reason, the previous set running again', async () => {
    const failed = await deploy([web('v2', { variables: { FAKE_EXIT_CODE: '3' } })]);
    expect(failed).toMatchObject({ status: 'failed', rolledBack: true });
    expect(failed.reason).toMatch(/^wait ready failed \(fake\): web: container "main" exited with code 3/);
    expect(failed.journal.find((e) => e.step === 'wait ready' && e.status === 'failed')?.message).toMatch(
      /something broke/,
    );
    expect(greetings()).toEqual({ web: 'v1', worker: '' });
  });

  /** How each phase is made to throw, with a set that also adds a resource (`cache`) the run creates. */
  const throwIn: Array<[PhaseName, () => void, string[]]> = [
    ['plan', () => (unreachableTarget = 'target "edge" is unreachable'), []],
    ['provision', () => resources.fail('create', { address: 'web.cache', message: 'quota exceeded' }), []],
    ['reach target', () => runtime.fail('status', { message: 'socket /run/nope.sock is gone' }), []],
    ['remove', () => runtime.fail('remove', { message: 'permission denied' }), ['worker']],
    // Once: the rollback that follows calls the runtime again, and must be able to restore the previous set.
    ['start', () => runtime.fail('deploy', { workload: 'web', message: 'image pull failed', times: 1 }), []],
    ['wait ready', () => runtime.fail('waitReady', { message: 'lost the engine', times: 1 }), []],
  ];
  it.each(throwIn)(
    'a throw in phase %s fails the deployment naming the phase; the previous set runs, no orphan resource',
    async (phase, inject, remove) => {
      inject();
      const failed = await deploy([web('v2', { resources: { cache: { type: 'redis' } } })], { remove });
      expect(failed.status).toBe('failed');
      expect(failed.reason).toMatch(new RegExp(`^${phase} failed`));
      expect(failed.journal.some((e) => e.step === phase && e.status === 'failed')).toBe(true);
      runtime.heal();
      resources.heal();
      expect(greetings()).toEqual({ web: 'v1', worker: '' });
      expect(await recorded()).toEqual(['web.db']);
      expect([...resources.resources.keys()].filter((id) => id.includes('cache'))).toEqual([]);
    },
  );
  // The routes phase only writes the store, and prune failures are journaled without failing a deployment
  // whose workloads already run (tested below); render fails on a placeholder no output satisfies.
  it('a render failure names the placeholder; nothing changed, so the previous set keeps running', async () => {
    const failed = await deploy([web('v2', { variables: { BAD: '${resources.db.nope}' } })]);
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/^render failed: .*resource "db" has no output "nope"/);
    expect(greetings()).toEqual({ web: 'v1', worker: '' });
  });

  it('a prune failure is journaled and the deployment still succeeds', async () => {
    const withJobs = await deploy([{ ...worker, resources: { jobs: { type: 'redis' } } }]);
    expect(withJobs.status, withJobs.reason ?? '').toBe('succeeded');
    resources.fail('delete', { message: 'busy' });
    const pruned = await deploy([], { remove: ['worker'], prune: true, allowDataLoss: true });
    expect(pruned.status, pruned.reason ?? '').toBe('succeeded');
    expect(pruned.journal.some((e) => e.step === 'prune' && e.status === 'failed')).toBe(true);
    expect(await recorded()).toContain('worker.jobs');
  });

  it('a provisioning failure takes back what the run created, and the resources that existed stay', async () => {
    resources.fail('create', { address: 'web.queue', message: 'no capacity' });
    const failed = await deploy([
      web('v2', { resources: { cache: { type: 'redis' }, queue: { type: 'redis' } } }),
    ]);
    expect(failed.reason).toMatch(/^provision failed: .*no capacity/);
    expect(await recorded()).toEqual(['web.db']);
    expect(resources.calls.filter((c) => c.method === 'delete').map((c) => c.inputs.scope.address)).toEqual([
      'web.cache',
    ]);
    expect(greetings()).toEqual({ web: 'v1', worker: '' });
  });

  it('a failed first deployment stops what it started and deletes what it created', async () => {
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    // The API deleted the environment with its own drivers: these start empty, as the environment does.
    runtime = new FakeRuntime({ serveHttp: false });
    resources = new FakeResourceDriver();
    const failed = await deploy([web('v1', { variables: { FAKE_EXIT_CODE: '1' } }), worker]);
    expect(failed).toMatchObject({ status: 'failed', rolledBack: false });
    expect(failed.journal.find((e) => e.step === 'rollback')?.message).toMatch(
      /stopped what this deployment started/,
    );
    expect(runtime.running(TARGET).size).toBe(0);
    expect(await recorded()).toEqual([]);
    expect(resources.resources.size).toBe(0);
  });

  it('waits the environment type’s stability window unless the deployment names its own', async () => {
    const patched = await api.call('PATCH', '/env-types/development', { minReadySeconds: 7 });
    expect(patched.statusCode, patched.body).toBe(200);
    try {
      const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [{ spec: web('v2'), dir: '/srv/app' }],
      });
      expect(queued.statusCode, queued.body).toBe(202);
      const id = Number(queued.json().id);
      await runDeployment(deps(), id, new AbortController().signal, false);
      const planned = (await detail(id)).journal.find((e) => e.step === 'plan');
      expect(planned?.message).toMatch(/must run 7 s$/);
      const own = await deploy([web('v3')]);
      expect(own.journal.find((e) => e.step === 'plan')?.message).toMatch(/must run 0 s$/);
    } finally {
      await api.call('PATCH', '/env-types/development', { minReadySeconds: null });
    }
  });

  it('a replica that lost its lease does not finish the deployment: it is left to be resumed', async () => {
    const id = await queue([web('v2')]);
    await expect(
      runDeployment(
        deps({ replicaId: 'a-replica-without-the-lease' }),
        id,
        new AbortController().signal,
        false,
      ),
    ).rejects.toBeInstanceOf(DeploymentInterrupted);
    expect((await detail(id)).status).toBe('queued');
  });

  it('a deployment resumed after a crash skips the resources the first run made', async () => {
    const interrupted = new AbortController();
    // The control plane "crashes" right after the new resource is created.
    const crashing = Object.assign(Object.create(resources) as FakeResourceDriver, {
      create: async (...args: Parameters<FakeResourceDriver['create']>) => {
        const made = await resources.create(...args);
        interrupted.abort();
        return made;
      },
    });
    const id = await queue([web('v2', { resources: { cache: { type: 'redis' } } })]);
    await expect(
      runDeployment(
        deps({ resourceDrivers: new DriverRegistry<ResourceDriver>('resource').register(crashing) }),
        id,
        interrupted.signal,
        false,
      ),
    ).rejects.toBeInstanceOf(DeploymentInterrupted);
    await runDeployment(deps(), id, new AbortController().signal, true);
    const resumed = await detail(id);
    expect(resumed.status, resumed.reason ?? '').toBe('succeeded');
    expect(resumed.journal.some((e) => e.step === 'resume')).toBe(true);
    expect(resources.calls.filter((c) => c.method === 'create').map((c) => c.inputs.scope.address)).toEqual([
      'web.db',
      'web.cache',
    ]);
    expect(greetings()).toEqual({ web: 'v2', worker: '' });
  });

  /**
   * A control plane that dies in a driver call: `dies` is the call, which never returns, so nothing of the
   * run after it happens; `death` resolves once the run is in it.
   */
  const mortal = () => {
    let died: () => void = () => undefined;
    const death = new Promise<void>((resolve) => (died = resolve));
    const dies = () => {
      died();
      return new Promise<never>(() => undefined);
    };
    return { death, dies };
  };
  const registryOf = (driver: ResourceDriver) =>
    new DriverRegistry<ResourceDriver>('resource').register(driver);
  /** The fake resource driver, but the control plane dies creating the resource at `address`. */
  const dyingOn = (address: string, dies: () => Promise<never>) =>
    Object.assign(Object.create(resources) as FakeResourceDriver, {
      create: (...args: Parameters<FakeResourceDriver['create']>) =>
        args[0].scope.address === address ? dies() : resources.create(...args),
    });
  /** The fake runtime as the environment's target, but the control plane dies waiting for its workloads. */
  const dyingWaiting = (dies: () => Promise<never>): Partial<OrchestratorDeps> => {
    const dying = Object.assign(Object.create(runtime) as FakeRuntime, { waitReady: dies });
    return { runtime: dying, targets: { ...targets, plan: async () => ({ runtime: dying, moving: false }) } };
  };

  /**
   * Where the control plane dies during a deployment of web v2 with two new resources (cache, queue), and
   * what makes the run that resumes it fail: it must end as a run that was never interrupted would have.
   */
  const resumedFailures: Array<
    [string, (dies: () => Promise<never>) => Partial<OrchestratorDeps>, () => void]
  > = [
    [
      'creating the second resource, and the resumed run cannot create it',
      (dies) => ({ resourceDrivers: registryOf(dyingOn('web.queue', dies)) }),
      () => resources.fail('create', { address: 'web.queue', message: 'no capacity' }),
    ],
    [
      'creating the second resource, and the resumed run fails waiting for the workloads',
      (dies) => ({ resourceDrivers: registryOf(dyingOn('web.queue', dies)) }),
      () => runtime.fail('waitReady', { message: 'lost the engine', times: 1 }),
    ],
    [
      'waiting for the workloads it started, and the resumed run fails waiting for them',
      (dies) => dyingWaiting(dies),
      () => runtime.fail('waitReady', { message: 'lost the engine', times: 1 }),
    ],
  ];
  it.each(resumedFailures)(
    'a deployment resumed after the control plane died %s: the previous set runs, what it created is deleted',
    async (_where, dying, inject) => {
      const id = await queue([
        web('v2', { resources: { cache: { type: 'redis' }, queue: { type: 'redis' } } }),
      ]);
      const { death, dies } = mortal();
      void runDeployment(deps(dying(dies)), id, new AbortController().signal, false);
      await death;
      inject();
      await runDeployment(deps(), id, new AbortController().signal, true);
      expect((await detail(id)).status).toBe('failed');
      expect(greetings()).toEqual({ web: 'v1', worker: '' });
      expect(await recorded()).toEqual(['web.db']);
      expect([...resources.resources.keys()].filter((id) => /cache|queue/.test(id))).toEqual([]);
    },
  );

  it('a first deployment resumed after the control plane died, failing again, stops what it started and deletes what it created', async () => {
    await api.call('DELETE', '/apps/shop/envs/dev');
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    runtime = new FakeRuntime({ serveHttp: false });
    resources = new FakeResourceDriver();
    const id = await queue([web('v1', { resources: { cache: { type: 'redis' } } }), worker]);
    const { death, dies } = mortal();
    void runDeployment(deps(dyingWaiting(dies)), id, new AbortController().signal, false);
    await death;
    expect(runtime.running(TARGET).size).toBe(2);
    runtime.fail('waitReady', { workload: 'web', message: 'lost the engine' });
    await runDeployment(deps(), id, new AbortController().signal, true);
    expect(await detail(id)).toMatchObject({ status: 'failed', rolledBack: false });
    expect(runtime.running(TARGET).size).toBe(0);
    expect(await recorded()).toEqual([]);
    expect(resources.resources.size).toBe(0);
  });
});
