import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  type DriverContext,
  type RenderedWorkload,
  type ResourceDriver,
  type RuntimeTarget,
} from '@pave/plugin-api';
import { FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import { runDeployment, type OrchestratorDeps } from '../src/domain/deployments/orchestrator.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * A runtime that says something at each level while it deploys, as the process runtime warns about files; and
 * then fails, as the docker runtime does after logging why it could not clean up, when `fail` is set.
 */
class TalkativeRuntime extends FakeRuntime {
  refuse = false;
  override async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext) {
    ctx.logger.debug('a debug line');
    ctx.logger.info('started container main');
    ctx.logger.warn('file /config.yaml is at $PAVE_FILES_DIR/config.yaml');
    ctx.logger.error('could not remove the previous version');
    if (this.refuse) throw new Error('the engine refused the container');
    return super.deploy(target, workload, ctx);
  }
}

const web: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'web' },
  containers: { main: { image: 'fake', command: ['serve'] } },
};

/*
 * A runtime's warnings (the process runtime's about files and volumes it cannot place without the sandbox) went
 * to the server's log only: `pave deploy --wait` said succeeded and nothing else.
 */
describe.each(storeEngines)("a runtime's warnings in the deployment's journal, on %s", (engine) => {
  let api: DeployingApi;
  const runtime = new TalkativeRuntime({ serveHttp: false });
  const deps = (): OrchestratorDeps => ({
    store: api.store,
    runtime,
    box: api.box,
    resourceDrivers: new DriverRegistry<ResourceDriver>('resource'),
    logger: pino({ level: 'silent' }),
  });

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: new FakeRuntime({ serveHttp: false }) });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('journals its warn and error lines under the phase, and not its info or debug lines', async () => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: web, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = Number(queued.json().id);
    await runDeployment(deps(), id, new AbortController().signal, false);
    const deployment: DeploymentDetail = (
      await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)
    ).json();
    expect(deployment.status).toBe('succeeded');
    const said = deployment.journal
      .filter((entry) => entry.step === 'start' && entry.status === 'info')
      .map((entry) => entry.message);
    expect(said).toEqual([
      'file /config.yaml is at $PAVE_FILES_DIR/config.yaml',
      'could not remove the previous version',
    ]);
  });

  it('journals them before the failure they explain', async () => {
    runtime.refuse = true;
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: { ...web, metadata: { name: 'web-2' } }, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = Number(queued.json().id);
    await runDeployment(deps(), id, new AbortController().signal, false);
    const deployment: DeploymentDetail = (
      await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)
    ).json();
    expect(deployment.status).toBe('failed');
    const start = deployment.journal
      .filter((entry) => entry.step === 'start' && entry.status !== 'started')
      .map((entry) => [entry.status, entry.message.split('\n')[0]]);
    // (What follows is the rollback to the previous set, which this runtime refuses too.)
    expect(start.slice(0, 3)).toEqual([
      ['info', 'file /config.yaml is at $PAVE_FILES_DIR/config.yaml'],
      ['info', 'could not remove the previous version'],
      ['failed', expect.stringContaining('the engine refused the container')],
    ]);
  });
});
