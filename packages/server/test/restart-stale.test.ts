import type { DeploymentDetail } from '@pave/core';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeDriver } from '@pave/plugin-api';
import { FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import { eventually } from '../../../test/support/processes.ts';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { driverContext } from '../src/domain/deployments/orchestrator.ts';
import { queueRestarts } from '../src/domain/deployments/restart.ts';
import { insertDeployment } from '../src/domain/deployments/service.ts';
import { systemContext } from '../src/domain/context.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const body = (name: string) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name },
        containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
      },
      dir: '/srv/app',
    },
  ],
});

/*
 * A restart is queued at start for the environment's current deployment. If another deployment becomes current
 * before the worker takes the restart up (an approval that lands meanwhile, on another replica), running the
 * restart would put the older set back over the approved change, unapproved: it must not run.
 */
describe.each(storeEngines)('a restart the environment moved on from on %s', (engine) => {
  let api: DeployingApi;

  const detail = async (id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  const run = async (until: () => Promise<boolean>) => {
    const worker = new DeploymentWorker({
      store: api.store,
      runtime: idleRuntime,
      box: api.box,
      resourceDrivers: undefined as never,
      logger: pino({ level: 'silent' }),
    });
    worker.start();
    try {
      for (let i = 0; i < 200 && !(await until()); i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await worker.stop();
    }
  };
  const deploy = async (name: string) => {
    const response = await api.call('POST', '/apps/shop/envs/dev/deployments', body(name));
    expect(response.statusCode, response.body).toBe(202);
    const id = response.json().id as string;
    await run(async () => (await detail(id)).status === 'succeeded');
    return detail(id);
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
    for (const [url, payload] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      expect((await api.call('POST', url, payload)).statusCode).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('is cancelled, saying why, and leaves the newer set running', async () => {
    const first = await deploy('v1');
    // The restart the control plane queued at start, for the deployment then current.
    const restart = await api.store.transaction((tx) =>
      insertDeployment(
        tx,
        systemContext('system', 'start:test'),
        { app: 'shop', env: 'dev' },
        'restart',
        { setId: first.setId!, fromDeploymentId: first.id, timeoutSeconds: 60, autoRollback: true },
        'restart: the workloads were not running when Pave started',
      ),
    );
    // A newer deployment (an approval that landed meanwhile) runs first: it has the lower id in the queue's
    // order here because the restart waits behind it.
    await api.store.db
      .updateTable('deployments')
      .set({ status: 'awaiting-approval' })
      .where('id', '=', Number(restart.id))
      .execute();
    const second = await deploy('v2');
    await api.store.db
      .updateTable('deployments')
      .set({ status: 'queued' })
      .where('id', '=', Number(restart.id))
      .execute();
    await run(async () => !['queued', 'running'].includes((await detail(restart.id)).status));

    const skipped = await detail(restart.id);
    expect(skipped.status).toBe('cancelled');
    expect(skipped.reason).toContain(`deployment ${second.id}`);
    const audit = (await api.call('GET', '/audit?app=shop&limit=500')).json().items as Array<{
      action: string;
      actor: string;
      target: string;
    }>;
    expect(audit.filter((entry) => entry.action === 'deployment.cancel')).toMatchObject([
      { actor: 'system', target: `apps/shop/envs/dev/deployments/${restart.id}` },
    ]);
    const environment = await api.store.db
      .selectFrom('environments')
      .select(['current_deployment_id', 'current_set_id'])
      .where('app_id', '=', 'shop')
      .where('id', '=', 'dev')
      .executeTakeFirstOrThrow();
    expect(environment).toEqual({ current_deployment_id: Number(second.id), current_set_id: second.setId });
  });

  it('is queued only for the process runtime: elsewhere a stopped workload was stopped on purpose', async () => {
    // On kubernetes a workload reports stopped when it is scaled to zero (kubectl scale, a night-time
    // downscaler), which a restart at every start of Pave would undo.
    expect(
      (await api.call('POST', '/apps/shop/envs', { id: 'cluster', type: 'development' })).statusCode,
    ).toBe(201);
    const applied = await api.call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'lab',
          type: 'kubernetes',
          config: { kubeconfig: '/nonexistent/kubeconfig', context: 'lab' },
          criteria: [{ envId: 'cluster' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
    const current = await detail(
      (await api.call('GET', '/apps/shop/envs/dev/deployments')).json().items[0].id,
    );
    for (const env of ['dev', 'cluster']) {
      await api.store.db
        .updateTable('environments')
        .set({
          current_deployment_id: Number(current.id),
          current_set_id: current.setId!,
          runtime_target: env === 'cluster' ? 'lab' : null,
        })
        .where('app_id', '=', 'shop')
        .where('id', '=', env)
        .execute();
    }
    await api.store.db
      .updateTable('deployments')
      .set({ status: 'succeeded' })
      .where('id', '=', Number(current.id))
      .execute();
    // Every workload of every environment reports stopped.
    const stopped: RuntimeDriver = {
      ...idleRuntime,
      status: async () => [{ workload: 'v2', state: 'stopped', detail: '' }] as never,
    };
    const ctx = driverContext(pino({ level: 'silent' }), AbortSignal.timeout(10_000));
    try {
      const queued = await queueRestarts(api.store, api.box, stopped, ctx, 'start:test');
      expect(queued.map((deployment) => deployment.envId)).toEqual(['dev']);
    } finally {
      ctx.dispose();
    }
  });

  it('goes on past an environment it cannot check, saying so', async () => {
    // The restart the test before queued is done with.
    await api.store.db
      .updateTable('deployments')
      .set({ status: 'cancelled' })
      .where('kind', '=', 'restart')
      .execute();
    expect((await api.call('POST', '/apps/shop/envs', { id: 'aaa', type: 'development' })).statusCode).toBe(
      201,
    );
    const dev = await api.store.db
      .selectFrom('environments')
      .select('current_deployment_id')
      .where('app_id', '=', 'shop')
      .where('id', '=', 'dev')
      .executeTakeFirstOrThrow();
    // Looked at first, and its current set cannot be read.
    await api.store.db
      .updateTable('environments')
      .set({ current_deployment_id: dev.current_deployment_id, current_set_id: 'gone' })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'aaa')
      .execute();
    const stopped: RuntimeDriver = {
      ...idleRuntime,
      status: async () => [{ workload: 'v2', state: 'stopped', detail: '' }] as never,
    };
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const ctx = driverContext(logger, AbortSignal.timeout(10_000));
    try {
      const queued = await queueRestarts(api.store, api.box, stopped, ctx, 'start:test');
      expect(queued.map((deployment) => deployment.envId)).toEqual(['dev']);
    } finally {
      ctx.dispose();
    }
    const warnings = lines.map((line) => JSON.parse(line)).filter((line) => line.level === 40);
    expect(warnings).toMatchObject([
      { env: 'aaa', msg: 'cannot tell whether the workloads of an environment run; not restarting them' },
    ]);

    // A runtime that answers no list for one environment (a plugin breaking its contract) is the same.
    await api.store.db
      .updateTable('deployments')
      .set({ status: 'cancelled' })
      .where('kind', '=', 'restart')
      .execute();
    const silent: RuntimeDriver = {
      ...idleRuntime,
      status: async (target) =>
        (target.env === 'aaa' ? undefined : [{ workload: 'v2', state: 'stopped', detail: '' }]) as never,
    };
    lines.length = 0;
    const again = driverContext(logger, AbortSignal.timeout(10_000));
    try {
      const queued = await queueRestarts(api.store, api.box, silent, again, 'start:test');
      expect(queued.map((deployment) => deployment.envId)).toEqual(['dev']);
    } finally {
      again.dispose();
    }
    expect(lines.map((line) => JSON.parse(line)).filter((line) => line.level === 40)).toMatchObject([
      { env: 'aaa', error: 'the runtime answered no list of workloads' },
    ]);
  });
});

/** The fake driver whose `diff` can be made to fail, or to wait until the test lets it go on. */
class ControlledDiff extends FakeResourceDriver {
  failing = false;
  held: Promise<void> | undefined;
  reached: (() => void) | undefined;
  override async diff(...args: Parameters<FakeResourceDriver['diff']>) {
    this.reached?.();
    await this.held;
    if (this.failing) {
      this.calls.push({ method: 'diff', id: args[0], inputs: args[2], olds: args[1] });
      throw new Error('the backend is unreachable');
    }
    return super.diff(...args);
  }
}

/*
 * A restart deploys the current set again and changes nothing. A resource definition changed (or deleted with
 * --force) since that set was deployed would reach the environment through it, unapproved and uncounted: the
 * restart must not run then, and says why. Checking asks drivers, which may fail or take a while: the restart
 * must still end, once, and only resources the set uses count.
 */
describe.each(storeEngines)('checking a restart before it runs, on %s', (engine) => {
  let api: DeployingApi;
  let driver: ControlledDiff;

  const detail = async (id: string): Promise<DeploymentDetail> =>
    (await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)).json();
  const settle = (id: string) =>
    eventually(
      async () => {
        const shown = await detail(id);
        return ['queued', 'running'].includes(shown.status) ? undefined : shown;
      },
      15_000,
      `deployment ${id} to end`,
    );
  const define = async (id: string, type: string, values: Record<string, string>) => {
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [{ id, type, driver: 'fake', driverInputs: { values }, criteria: [{ appId: 'shop' }] }],
    });
    expect(applied.statusCode, applied.body).toBe(200);
  };
  const deploy = async (resources: Record<string, { type: string }>) => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [
        {
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'web' },
            containers: { main: { image: 'fake', command: ['serve'] } },
            resources,
          },
          dir: '/srv/app',
        },
      ],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const done = await settle(queued.json().id);
    expect(done.status, done.reason ?? '').toBe('succeeded');
    return done;
  };
  const queueRestartOf = (current: DeploymentDetail) =>
    api.store.transaction((tx) =>
      insertDeployment(
        tx,
        systemContext('system', 'start:test'),
        { app: 'shop', env: 'dev' },
        'restart',
        { setId: current.setId!, fromDeploymentId: current.id, timeoutSeconds: 60, autoRollback: true },
        'restart: the workloads were not running when Pave started',
      ),
    );

  beforeAll(async () => {
    driver = new ControlledDiff();
    api = await openDeployingApi(engine, {
      runtime: new FakeRuntime({ serveHttp: false }),
      resourceDrivers: [driver],
      worker: true,
    });
    for (const [url, payload] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      expect((await api.call('POST', url, payload)).statusCode).toBe(201);
    }
    await define('fake-redis', 'redis', { region: 'east' });
    await define('fake-dns', 'dns', {});
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('is cancelled, naming what would change, when a definition changed or went since', async () => {
    const current = await deploy({ cache: { type: 'redis' } });
    await define('fake-redis', 'redis', { region: 'west' });
    const changed = await settle((await queueRestartOf(current)).id);
    expect(changed.status).toBe('cancelled');
    expect(changed.reason).toContain('web.cache');
    expect(driver.calls.filter((call) => call.method === 'update')).toEqual([]);

    expect((await api.call('DELETE', '/resource-definitions/fake-redis?force=true')).statusCode).toBe(204);
    const gone = await settle((await queueRestartOf(current)).id);
    expect(gone.status, gone.reason ?? '').toBe('cancelled');
    expect(gone.reason).toContain('web.cache');
    await define('fake-redis', 'redis', { region: 'east' });
  });

  it('ends a restart whose check fails, once, and the next deployment runs', async () => {
    const current = await deploy({ cache: { type: 'redis' } });
    await define('fake-redis', 'redis', { region: 'west' });
    driver.failing = true;
    const diffs = () => driver.calls.filter((call) => call.method === 'diff').length;
    const before = diffs();
    try {
      const restart = await settle((await queueRestartOf(current)).id);
      expect(restart.status).toBe('cancelled');
      expect(restart.reason).toContain('the backend is unreachable');
      // Checked once, not again and again.
      expect(diffs() - before).toBe(1);
    } finally {
      driver.failing = false;
    }
    await deploy({ cache: { type: 'redis' } });
  });

  it('does not count a resource the set no longer uses, whose definition went', async () => {
    await deploy({ cache: { type: 'redis' }, names: { type: 'dns' } });
    // Deployed without it: the dns resource is kept, unused.
    const current = await deploy({ cache: { type: 'redis' } });
    expect((await api.call('DELETE', '/resource-definitions/fake-dns?force=true')).statusCode).toBe(204);
    const restart = await settle((await queueRestartOf(current)).id);
    expect(restart.status, restart.reason ?? '').toBe('succeeded');
  });

  it('is cancelled once when a person cancels it while its check waits on a driver', async () => {
    const current = await deploy({ cache: { type: 'redis' } });
    await define('fake-redis', 'redis', { region: 'north' });
    let release: () => void = () => undefined;
    driver.held = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (driver.reached = resolve));
    try {
      const restart = await queueRestartOf(current);
      await reached;
      const cancelled = await api.call('POST', `/apps/shop/envs/dev/deployments/${restart.id}/cancel`);
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      release();
      const shown = await settle(restart.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const events = (await api.call('GET', '/events?app=shop&env=dev&limit=500')).json().items as Array<{
        type: string;
        data: { deploymentId?: string };
      }>;
      expect(
        events.filter((e) => e.type === 'deployment.cancelled' && e.data.deploymentId === restart.id),
      ).toHaveLength(1);
      expect((await detail(restart.id)).journal.filter((entry) => entry.step === 'cancel')).toHaveLength(1);
      expect(shown.reason).toContain('cancelled by admin');
    } finally {
      driver.reached = undefined;
      driver.held = undefined;
      release();
    }
  });
});
