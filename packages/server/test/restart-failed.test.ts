import type { DeploymentDetail } from '@pave/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverContext, RenderedWorkload, RuntimeDriver, RuntimeTarget } from '@pave/plugin-api';
import { FAKE_EXIT_CODE, FakeResourceDriver, FakeRuntime } from '@pave/plugin-api/testing';
import { driverContext, type LevelLogger } from '../src/domain/deployments/orchestrator.ts';
import { queueRestarts } from '../src/domain/deployments/restart.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** The fake runtime, which can be made to refuse every workload that would not crash: a rollback then fails. */
class RefusingRuntime extends FakeRuntime {
  refuseHealthy = false;
  override async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext) {
    if (this.refuseHealthy && workload.containers[0]?.env[FAKE_EXIT_CODE] === undefined) {
      throw new Error('the host is out of memory');
    }
    return super.deploy(target, workload, ctx);
  }
}

/** One workload `web`; `crash` makes it exit as it starts, so its deployment fails. */
const body = (options: { crash?: boolean; autoRollback?: boolean; resources?: object } = {}) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'web' },
        containers: {
          main: {
            image: 'fake',
            command: ['serve'],
            ...(options.crash ? { variables: { [FAKE_EXIT_CODE]: '3' } } : {}),
          },
        },
        ...(options.resources ? { resources: options.resources } : {}),
      },
      dir: '/srv/app',
    },
  ],
  minReadySeconds: 0,
  ...(options.autoRollback !== undefined ? { autoRollback: options.autoRollback } : {}),
});

/*
 * After a reboot or `pave down`, an environment whose later deployment failed is restarted when that failure
 * left its current set running as before: the failed deployment was rolled back to it (the journal says the
 * previous set is back and ready), or changed no workload. When the failure left the environment uncertain (no
 * rollback, or one that failed too), it stays stopped, and the server's log says so once, with what to do.
 */
describe.each(storeEngines)('restarting an environment whose later deployment failed, on %s', (engine) => {
  let api: DeployingApi;
  const runtime = new RefusingRuntime({ serveHttp: false });
  const resources = new FakeResourceDriver();
  const current = new Map<string, DeploymentDetail>();
  const failed = new Map<string, DeploymentDetail>();

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, resourceDrivers: [resources], worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const defined = await api.call('POST', '/resource-definitions/apply', {
      definitions: [{ id: 'fake-cache', type: 'cache', driver: 'fake', criteria: [{ appId: 'shop' }] }],
    });
    expect(defined.statusCode, defined.body).toBe(200);
    const failing: Record<string, Parameters<typeof body>[0]> = {
      'rolled-back': { crash: true },
      'rollback-off': { crash: true, autoRollback: false },
      'rollback-failed': { crash: true },
      // Its resource cannot be created: it fails before it changes any workload.
      untouched: { resources: { cache: { type: 'cache' } } },
    };
    for (const [env, failure] of Object.entries(failing)) {
      const created = await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' });
      expect(created.statusCode, created.body).toBe(201);
      const ok = await api.deploy('shop', env, body());
      expect(ok.status, ok.reason ?? '').toBe('succeeded');
      current.set(env, ok);
      runtime.refuseHealthy = env === 'rollback-failed';
      if (env === 'untouched') resources.fail('create');
      try {
        const broken = await api.deploy('shop', env, body(failure));
        expect(broken.status).toBe('failed');
        failed.set(env, broken);
      } finally {
        runtime.refuseHealthy = false;
        resources.heal();
      }
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  /** Starts as after `pave down`: every workload reports stopped. Resolves with the restarts and warnings. */
  const start = async () => {
    const stopped: RuntimeDriver = {
      ...idleRuntime,
      status: async () =>
        [{ workload: 'web', state: 'stopped', detail: 'its supervisor went away' }] as never,
    };
    const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const ignore = () => undefined;
    const logger: LevelLogger = {
      debug: ignore,
      info: ignore,
      error: ignore,
      warn: ((fields: Record<string, unknown>, message: string) =>
        warnings.push({ message, fields })) as never,
    };
    const ctx = driverContext(logger, AbortSignal.timeout(10_000));
    try {
      const queued = await queueRestarts(api.store, api.box, stopped, ctx, 'start:test');
      return { queued, warnings };
    } finally {
      ctx.dispose();
    }
  };

  it('records the failures as the rollback ended', () => {
    expect(failed.get('rolled-back')!.rolledBack).toBe(true);
    expect(failed.get('rolled-back')!.journal.map((entry) => entry.message)).toContain(
      'the previous set is back and ready',
    );
    expect(failed.get('rollback-off')!.rolledBack).toBe(false);
    expect(failed.get('rollback-failed')!.rolledBack).toBe(false);
    expect(
      failed
        .get('rollback-failed')!
        .journal.map((entry) => entry.message)
        .join('\n'),
    ).toContain('the previous set did not come back');
    expect(failed.get('untouched')!.journal.map((entry) => entry.message)).toContain(
      'no workload was changed: the previous deployment keeps running',
    );
  });

  it('restarts the set a failed deployment was rolled back to, or never changed, and warns about the rest', async () => {
    const { queued, warnings } = await start();
    expect(queued.map((deployment) => [deployment.envId, deployment.source.deploymentId]).sort()).toEqual(
      [
        ['rolled-back', current.get('rolled-back')!.id],
        ['untouched', current.get('untouched')!.id],
      ].sort(),
    );
    // One warning per environment left stopped, naming it, the failure and what to do.
    const skipped = warnings.filter((warning) => warning.fields.env !== undefined);
    expect(skipped.map((warning) => warning.fields.env).sort()).toEqual(['rollback-failed', 'rollback-off']);
    for (const warning of skipped) {
      const env = warning.fields.env as string;
      expect(warning.fields.app).toBe('shop');
      expect(warning.message).toContain(`shop/${env}`);
      expect(warning.message).toContain(`deployment ${failed.get(env)!.id} failed`);
      expect(warning.message).toContain(`pave rollback ${current.get(env)!.id} --app shop --env ${env}`);
    }
  });

  // Found by a newcomer's review: a first deployment that failed before it changed anything said "the
  // previous deployment keeps running", of a deployment that never was.
  it('says nothing was deployed before when a first deployment fails before it changes anything', async () => {
    expect((await api.call('POST', '/apps/shop/envs', { id: 'first', type: 'development' })).statusCode).toBe(
      201,
    );
    resources.fail('create');
    try {
      const broken = await api.deploy('shop', 'first', body({ resources: { cache: { type: 'cache' } } }));
      expect(broken.status).toBe('failed');
      const said = broken.journal.map((entry) => entry.message);
      expect(said).toContain('no workload was changed: nothing was deployed here before');
      expect(said.join('\n')).not.toContain('the previous deployment keeps running');
    } finally {
      resources.heal();
    }
  });
});
