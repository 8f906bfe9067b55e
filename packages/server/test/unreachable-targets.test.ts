import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRuntime } from '@pave/plugin-api/testing';
import type { DeploymentDetail, EnvironmentStatus, ScoreWorkload } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { resourceDriverRegistry } from '../src/resource-drivers.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { runtimeRegistry } from '../src/runtimes.ts';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

/** A workload with one `dns` resource, which an exec script provisions and logs. */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1', command: ['serve'] } },
  resources: { name: { type: 'dns' } },
};

/**
 * Runtime targets that cannot be reached: a docker target whose socket does not exist, and a kubernetes
 * target whose kubeconfig has no such context. A deployment to one fails in a named phase with the driver's
 * words (never "internal error"), takes back the resources it created, and leaves the other environments as
 * they were; `status` of an environment recorded on such a target answers; the environment can move off it.
 * The built-in local target runs a fake runtime here: what runs locally is not what these tests are about.
 */
describe.each(storeEngines)('deploying to a runtime target that cannot be reached on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let worker: DeploymentWorker;
  let token: string;
  let log: string;
  let dataDir: string;

  const call = (method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  /** Deploys the workload to shop/`env` and resolves with the finished deployment. */
  const deploy = async (env: string): Promise<DeploymentDetail> => {
    const queued = await call('POST', `/apps/shop/envs/${env}/deployments`, {
      workloads: [{ spec: workload, dir: '/srv/app' }],
      minReadySeconds: 0,
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    for (let attempt = 0; attempt < 300; attempt++) {
      const shown = (
        await call('GET', `/apps/shop/envs/${env}/deployments/${id}`)
      ).json() as DeploymentDetail;
      if (shown.status === 'succeeded' || shown.status === 'failed') return shown;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`deployment ${id} of shop/${env} did not finish in 15 s`);
  };
  const status = async (env: string) => {
    const response = await call('GET', `/apps/shop/envs/${env}/status`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as EnvironmentStatus;
  };
  /** The actions the exec script ran for shop/`env`, oldest first. */
  const actions = (env: string): string[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith(`${env} `))
          .map((line) => line.slice(env.length + 1))
      : [];
  const recorded = async (env: string) =>
    (
      await store.db
        .selectFrom('resources')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', env)
        .execute()
    ).map((row) => row.address);

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    dataDir = opened.location.dataDir;
    log = join(dataDir, 'dns.log');
    const script = join(dataDir, 'dns.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'cat > /dev/null',
        `printf '%s %s\\n' "$PAVE_ENV" "$PAVE_ACTION" >> '${log}'`,
        '[ "$PAVE_ACTION" = delete ] || printf \'{"values":{"host":"%s.example.test"}}\' "$PAVE_ENV"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    const resourceDrivers = resourceDriverRegistry({
      dataDir,
      pgliteScript: '/nonexistent/pglite-server.js',
    });
    const local = new FakeRuntime({ serveHttp: false });
    const runtime = new RuntimeRouter(store, runtimeRegistry({ local: { isolated: () => local }, dataDir }));
    worker = new DeploymentWorker({
      store,
      runtime,
      box,
      resourceDrivers,
      targets: runtime,
      logger: pino({ level: 'silent' }),
    });
    app = await buildApi({
      store,
      runtime,
      renderer: runtime,
      secrets: { box, keyring },
      resourceDrivers,
      onDeploymentQueued: () => worker.poke(),
    });
    worker.start();
    expect((await call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const env of ['dev', 'stage', 'other']) {
      expect((await call('POST', '/apps/shop/envs', { id: env, type: 'development' })).statusCode).toBe(201);
    }
    const applied = await call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'dns-exec',
          type: 'dns',
          driver: 'exec',
          driverInputs: { values: { command: [script] } },
          criteria: [{ appId: 'shop' }],
        },
      ],
    });
    expect(applied.statusCode, applied.body).toBe(200);
    const kubeconfig = join(dataDir, 'kubeconfig.yaml');
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
    const targets = await call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'docker-gone',
          type: 'docker',
          config: { socketPath: join(dataDir, 'no-such-docker.sock') },
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
    await worker?.stop();
    await app?.close();
    await cleanup?.();
  });

  it('a docker target whose socket is gone: failed naming the socket and the phase, its resources gone', async () => {
    const before = await status('other');
    const failed = await deploy('dev');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/^switch target failed \(docker\): .*no-such-docker\.sock/);
    expect(failed.reason).not.toMatch(/internal error/);
    expect(failed.journal.find((e) => e.step === 'switch target' && e.status === 'failed')?.message).toMatch(
      /no-such-docker\.sock/,
    );
    expect(actions('dev')).toEqual(['create', 'delete']);
    expect(await recorded('dev')).toEqual([]);
    expect(await status('other')).toEqual(before);
    expect((await status('dev')).workloads).toEqual([]);
  });

  it('a kubernetes target whose context is gone: failed naming the context; status answers; the env moves off it', async () => {
    const failed = await deploy('stage');
    expect(failed.status).toBe('failed');
    expect(failed.reason).toMatch(/^switch target failed \(kubernetes\): .*no context "gone"/);
    expect(await recorded('stage')).toEqual([]);

    // An environment that ran on the target before its context went away: `status` says so instead of a 500.
    await store.db
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
    const moved = await call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'cluster',
          type: 'kubernetes',
          config: { kubeconfig: join(dataDir, 'kubeconfig.yaml'), context: 'gone' },
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
    expect((await call('DELETE', '/runtime-targets/cluster')).statusCode).toBe(204);
  });
});
