import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DriverRegistry,
  sleep,
  type DriverContext,
  type ReadyResult,
  type ResourceDriver,
  type RuntimeTarget,
  type WaitReadyOptions,
  type WorkloadStatus,
} from '@pave/plugin-api';
import { FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, ScoreWorkload } from '@pave/core';
import { runDeployment, type OrchestratorDeps } from '../src/domain/deployments/orchestrator.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/**
 * A fake runtime that, like the process runtime for a workload without a readiness probe, says in its status
 * that the workload is `ready` (no detail) while waitReady still waits out the stability window.
 */
class StabilityWindowRuntime extends FakeRuntime {
  override async waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options?: WaitReadyOptions,
  ): Promise<ReadyResult> {
    await sleep(options?.stableMs ?? 0, ctx.signal);
    return super.waitReady(target, workload, ctx, options);
  }

  override async status(target: RuntimeTarget, ctx: DriverContext): Promise<WorkloadStatus[]> {
    return (await super.status(target, ctx)).map(({ detail: _detail, ...status }) => ({
      ...status,
      state: 'ready' as const,
    }));
  }
}

const worker: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'worker' },
  containers: { main: { image: 'fake', command: ['work'] } },
};

/*
 * The journal said "not ready yet after 10 s of the 60 s timeout: it is ready" for a workload without a
 * readiness probe that was up but still inside --min-ready: ready and not ready at once.
 */
describe.each(storeEngines)('the journal of a workload inside its --min-ready window, on %s', (engine) => {
  let api: DeployingApi;
  const runtime = new StabilityWindowRuntime({ serveHttp: false });
  const deps = (): OrchestratorDeps => ({
    store: api.store,
    runtime,
    box: api.box,
    resourceDrivers: new DriverRegistry<ResourceDriver>('resource'),
    logger: pino({ level: 'silent' }),
    readyProgressMs: 150,
  });

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: new FakeRuntime({ serveHttp: false }) });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, `${url}: ${response.body}`).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('says it is ready and staying up for --min-ready before it counts, not "not ready yet: it is ready"', async () => {
    const queued = await api.call('POST', '/apps/shop/envs/dev/deployments', {
      workloads: [{ spec: worker, dir: '/srv/app' }],
      timeoutSeconds: 30,
      minReadySeconds: 1,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = Number(queued.json().id);
    await runDeployment(deps(), id, new AbortController().signal, false);
    const deployment = (
      await api.call('GET', `/apps/shop/envs/dev/deployments/${id}`)
    ).json() as DeploymentDetail;

    expect(deployment.status).toBe('succeeded');
    const progress = deployment.journal.filter(
      (entry) => entry.step === 'wait ready' && entry.status === 'info',
    );
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const entry of progress) {
      expect(entry.workload).toBe('worker');
      expect(entry.message).toMatch(
        /^waited \d+ s of the 30 s timeout: ready, staying up for --min-ready 1s before it counts$/,
      );
      expect(entry.message).not.toMatch(/not ready yet|it is ready/);
    }
  });
});
