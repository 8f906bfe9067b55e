import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppStatus, ScoreWorkload } from '@pave/core';
import type { RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1', command: ['serve'] } },
};

/**
 * A runtime that deploys nothing and reports, per environment, what the test says runs there: a workload
 * that vanished behind Pave's back, one that crash-loops, or a target that does not answer.
 */
function reportingRuntime(reports: Record<string, WorkloadStatus[] | Error>): RuntimeDriver {
  return {
    name: 'reporting',
    deploy: async (target) => {
      if (target.env === 'fresh') throw new Error('image registry.example.com/shop/api:1 not found');
    },
    waitReady: async () => ({ ready: true }),
    remove: async () => undefined,
    destroy: async () => undefined,
    status: async (target) => {
      const report = reports[target.env] ?? [];
      if (report instanceof Error) throw report;
      return report;
    },
  };
}

const crashLooping: WorkloadStatus = {
  workload: 'api',
  state: 'crash-looping',
  restarts: 5,
  hash: 'h',
  deploymentId: '1',
  ports: [],
  containers: [],
};

describe.each(storeEngines)('the status of every environment of an app at once on %s', (engine) => {
  let api: DeployingApi;
  const reports: Record<string, WorkloadStatus[] | Error> = {};

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: reportingRuntime(reports), worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const [id, type] of [
      ['dev', 'development'],
      ['gone', 'development'],
      ['prod', 'production'],
      ['stage', 'staging'],
      ['emptied', 'development'],
      ['fresh', 'development'],
    ]) {
      expect((await api.call('POST', '/apps/shop/envs', { id, type })).statusCode).toBe(201);
    }
    for (const env of ['dev', 'gone']) {
      const deployed = await api.deploy('shop', env, {
        workloads: [{ spec: workload, dir: '/srv/app' }],
        minReadySeconds: 0,
      });
      expect(deployed.status).toBe('succeeded');
    }
    // Its first deployment fails: nothing is deployed there yet.
    const failed = await api.deploy('shop', 'fresh', {
      workloads: [{ spec: workload, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(failed.status).toBe('failed');
    // Deployed, then every workload removed: its desired state is to run nothing.
    for (const body of [{ workloads: [{ spec: workload, dir: '/srv/app' }] }, { remove: ['api'] }]) {
      expect((await api.deploy('shop', 'emptied', { ...body, minReadySeconds: 0 })).status).toBe('succeeded');
    }
    reports.dev = [crashLooping];
    reports.stage = new Error('connect ENOENT /var/run/docker.sock');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('gives each environment its type and health, and the app the worst of them', async () => {
    const response = await api.call('GET', '/apps/shop/status');
    expect(response.statusCode, response.body).toBe(200);
    const status = response.json() as AppStatus;
    expect(status.health).toBe('degraded');
    expect(
      status.environments.map((env) => [env.envId, env.type, env.restricted, env.health, env.healthDetail]),
    ).toEqual([
      ['dev', 'development', false, 'degraded', 'api: crash-looping (5 restarts)'],
      // Nothing runs because nothing is meant to: healthy, as an Argo CD application without resources is.
      ['emptied', 'development', false, 'healthy', undefined],
      // The first deployment failed: with nothing deployed and nothing running, health cannot be known.
      ['fresh', 'development', false, 'unknown', 'nothing deployed yet'],
      // Deployed and succeeded, yet the runtime runs nothing of it: sync and health disagree.
      ['gone', 'development', false, 'degraded', 'api: missing (deployed, but not running)'],
      ['prod', 'production', true, 'unknown', 'nothing deployed yet'],
      [
        'stage',
        'staging',
        false,
        'unknown',
        'the runtime target cannot be reached: connect ENOENT /var/run/docker.sock',
      ],
    ]);
    const fresh = status.environments.find((env) => env.envId === 'fresh');
    expect([fresh?.currentDeployment, fresh?.latestDeployment?.status]).toEqual([null, 'failed']);
    const gone = status.environments.find((env) => env.envId === 'gone');
    expect(gone?.latestDeployment?.status).toBe('succeeded');
    expect(status.environments.find((env) => env.envId === 'prod')?.latestDeployment).toBeNull();
    expect(status.environments[0]?.workloads[0]).toMatchObject({
      workload: 'api',
      health: 'degraded',
      healthDetail: 'api: crash-looping (5 restarts)',
      routes: [],
    });
  });

  // Found by a review of the CLI: an app with no environments was healthy, and `status --exit-code` exited 0.
  it('says the health of an app without environments is unknown: nothing is deployed anywhere', async () => {
    expect((await api.call('POST', '/apps', { id: 'bare' })).statusCode).toBe(201);
    const status = (await api.call('GET', '/apps/bare/status')).json();
    expect(status).toMatchObject({ appId: 'bare', health: 'unknown', environments: [] });
  });

  it('answers 404 with a problem for an app that does not exist', async () => {
    const response = await api.call('GET', '/apps/nope/status');
    expect(response.statusCode).toBe(404);
    expect(response.json().detail).toMatch(/nope/);
  });
});
