import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRuntime } from '@pave/plugin-api/testing';
import type { EnvironmentStatus, ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { execLoggingScript, openDeployingApi } from './support/deploying-api.ts';
import type { DeployingApi, ExecLoggingScript } from './support/deploying-api.ts';

/** A workload with one `dns` resource, which an exec script provisions and logs. */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1', command: ['serve'] } },
  resources: { name: { type: 'dns' } },
};

/**
 * Runtime targets that cannot be reached: a docker target whose socket does not exist, and a kubernetes
 * target whose kubeconfig has no such context. A deployment to one fails in its reach-target phase with the
 * driver's words (never "internal error"), before it provisions anything, and leaves the other environments as
 * they were; `status` of an environment recorded on such a target answers; the environment can move off it.
 * The built-in local target runs a fake runtime here: what runs locally is not what these tests are about.
 */
describe.each(storeEngines)('deploying to a runtime target that cannot be reached on %s', (engine) => {
  let api: DeployingApi;
  let exec: ExecLoggingScript;

  /** Deploys the workload to shop/`env` and resolves with the finished deployment. */
  const deploy = (env: string) =>
    api.deploy('shop', env, { workloads: [{ spec: workload, dir: '/srv/app' }], minReadySeconds: 0 });
  const status = async (env: string) => {
    const response = await api.call('GET', `/apps/shop/envs/${env}/status`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as EnvironmentStatus;
  };
  /** The actions the exec script ran for shop/`env`, oldest first. */
  const actions = (env: string) => exec.requests(env).map((request) => request.action);
  const recorded = async (env: string) =>
    (
      await api.store.db
        .selectFrom('resources')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', env)
        .execute()
    ).map((row) => row.address);

  beforeAll(async () => {
    const local = new FakeRuntime({ serveHttp: false });
    api = await openDeployingApi(engine, { processRuntime: () => ({ isolated: () => local }), worker: true });
    exec = execLoggingScript(api.dataDir);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const env of ['dev', 'stage', 'other']) {
      expect((await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' })).statusCode).toBe(
        201,
      );
    }
    const applied = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'dns-exec',
          type: 'dns',
          driver: 'exec',
          driverInputs: { values: { command: [exec.script] } },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
    const kubeconfig = join(api.dataDir, 'kubeconfig.yaml');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: lab, cluster: { server: "https://127.0.0.1:1" } }]',
        'users: [{ name: lab, user: { token: t } }]',
        'contexts: [{ name: lab, context: { cluster: lab, user: lab } }]',
        'current-context: lab',
        '',
      ].join('\n'),
    );
    const targets = await api.call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'docker-gone',
          type: 'docker',
          config: { socketPath: join(api.dataDir, 'no-such-docker.sock') },
          criteria: [{ envId: 'dev' }],
        },
        {
          id: 'cluster',
          type: 'kubernetes',
          config: { kubeconfig, context: 'gone' },
          criteria: [{ envId: 'stage' }],
        },
      ],
    });
    expect(targets.statusCode, targets.body).toBe(200);
    expect((await deploy('other')).status).toBe('succeeded');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('a docker target whose socket is gone: failed naming the socket and the phase, nothing provisioned', async () => {
    const before = await status('other');
    const failed = await deploy('dev');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/^reach target failed \(docker\): .*no-such-docker\.sock/);
    expect(failed.reason).not.toMatch(/internal error/);
    expect(failed.journal.find((e) => e.step === 'reach target' && e.status === 'failed')?.message).toMatch(
      /no-such-docker\.sock/,
    );
    expect(failed.journal.some((e) => e.step === 'provision')).toBe(false);
    expect(actions('dev')).toEqual([]);
    expect(await recorded('dev')).toEqual([]);
    expect(await status('other')).toEqual(before);
    expect((await status('dev')).workloads).toEqual([]);
  });

  it('a kubernetes target whose context is gone: failed naming the context; status answers; the env moves off it', async () => {
    const failed = await deploy('stage');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/^reach target failed \(kubernetes\): .*no context "gone"/);
    expect(actions('stage')).toEqual([]);
    expect(await recorded('stage')).toEqual([]);

    // An environment that ran on the target before its context went away: `status` says so instead of a 500.
    await api.store.db
      .updateTable('environments')
      .set({ runtime_target: 'cluster' })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'stage')
      .execute();
    const unreachable = await status('stage');
    expect(unreachable.workloads).toEqual([]);
    expect(unreachable.target).toMatchObject({ id: 'cluster', reachable: false });
    expect(unreachable.target?.detail).toMatch(/no context "gone"/);

    // Move it off: the target stops matching it, the next deployment runs locally, then the target can go.
    const moved = await api.call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'cluster',
          type: 'kubernetes',
          config: { kubeconfig: join(api.dataDir, 'kubeconfig.yaml'), context: 'gone' },
          criteria: [{ envId: 'nowhere' }],
        },
      ],
    });
    expect(moved.statusCode, moved.body).toBe(200);
    const local = await deploy('stage');
    expect(local.status, local.reason ?? '').toBe('succeeded');
    expect(
      local.journal.some((e) => e.step === 'switch target' && /may still run there/.test(e.message)),
    ).toBe(true);
    expect(await status('stage')).toMatchObject({ target: { id: 'local', reachable: true } });
    expect((await api.call('DELETE', '/runtime-targets/cluster')).statusCode).toBe(204);
  });
});
