import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeRuntime } from '@pave/plugin-api/testing';
import type { DriverContext, RuntimeDriver } from '@pave/plugin-api';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { environmentTeardown } from '../src/domain/deployments/orchestrator.ts';
import { EnvironmentJanitor } from '../src/domain/janitor.ts';
import { resourceDriverRegistry } from '../src/resource-drivers.ts';
import { RuntimeRouter } from '../src/runtime-router.ts';
import { runtimeRegistry } from '../src/runtimes.ts';
import {
  execLoggingScript,
  idleRuntime,
  openDeployingApi,
  type DeployingApi,
  type ExecLoggingScript,
} from './support/deploying-api.ts';

/** A workload with one `dns` resource, which an exec script provisions and logs. */
const workload: ScoreWorkload = {
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image: 'registry.example.com/shop/api:1', command: ['serve'] } },
  resources: { name: { type: 'dns' } },
};

/**
 * Deleting an environment whose workloads its runtime cannot remove (it runs on a docker target whose socket
 * is gone): the deletion fails (502, naming the target and what the runtime said) and the environment is
 * kept with its workloads and its resources, whether a request deletes it, an app's forced deletion does or
 * the janitor does once it expired. Moving it off the target (a deployment to a target it matches) lets it be
 * deleted. The built-in local target runs a fake runtime here.
 */
describe.each(storeEngines)('deleting an environment whose workloads cannot be removed on %s', (engine) => {
  let api: DeployingApi;
  let exec: ExecLoggingScript;
  const local = new FakeRuntime({ serveHttp: false });

  const deploy = (env: string) =>
    api.deploy('shop', env, { workloads: [{ spec: workload, dir: '/srv/app' }], minReadySeconds: 0 });
  const exists = async (env: string) => (await api.call('GET', `/apps/shop/envs/${env}`)).statusCode === 200;
  const recorded = async (env: string) =>
    (
      await api.store.db
        .selectFrom('resources')
        .select('address')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', env)
        .execute()
    ).map((row) => row.address);
  const leaseOwner = async (env: string) =>
    (
      await api.store.db
        .selectFrom('environments')
        .select('lease_owner')
        .where('app_id', '=', 'shop')
        .where('id', '=', env)
        .executeTakeFirstOrThrow()
    ).lease_owner;
  /** Records shop/`env` as running on the docker target whose socket is gone, as after a deployment there. */
  const runOnGoneTarget = (env: string) =>
    api.store.db
      .updateTable('environments')
      .set({ runtime_target: 'docker-gone' })
      .where('app_id', '=', 'shop')
      .where('id', '=', env)
      .execute();

  beforeAll(async () => {
    api = await openDeployingApi(engine, { processRuntime: () => ({ isolated: () => local }), worker: true });
    exec = execLoggingScript(api.dataDir);
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const env of ['e1', 'e2', 'e3']) {
      const created = await api.call('POST', '/apps/shop/envs', { id: env, type: 'development' });
      expect(created.statusCode, created.body).toBe(201);
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
    const targets = await api.call('POST', '/runtime-targets/apply', {
      targets: [
        {
          id: 'docker-gone',
          type: 'docker',
          config: { socketPath: join(api.dataDir, 'no-such-docker.sock') },
          criteria: [{ envId: 'nowhere' }],
        },
      ],
    });
    expect(targets.statusCode, targets.body).toBe(200);
    for (const env of ['e1', 'e2']) expect((await deploy(env)).status).toBe('succeeded');
    await runOnGoneTarget('e2');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('answers 502 naming the target and the runtime, and keeps the environment with its resources', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await api.call('DELETE', '/apps/shop/envs/e2');
      expect(refused.statusCode, refused.body).toBe(502);
      const { detail, errors } = refused.json() as { detail: string; errors: Array<{ message: string }> };
      expect(detail).toMatch(
        /^could not remove the workloads of shop\/e2 from runtime target "docker-gone": /,
      );
      expect(detail).toContain('no-such-docker.sock');
      expect(detail).toContain('the environment is kept');
      expect(errors[0]?.message).toContain('pave targets get docker-gone');
      expect(errors[0]?.message).toContain('delete it again');
      expect(await exists('e2')).toBe(true);
      expect(await recorded('e2')).toEqual(['api.name']);
      expect(exec.requests('e2').map((request) => request.action)).not.toContain('delete');
      // The deletion gave the lease back: deleting it again is tried, not refused as under way.
      expect(await leaseOwner('e2')).toBeNull();
    }
  });

  it('keeps an expired one in a sweep of the janitor, logging why, and sweeps again without it looping', async () => {
    await api.store.db
      .updateTable('environments')
      .set({ expires_at: new Date(Date.now() - 60_000).toISOString() })
      .where('app_id', '=', 'shop')
      .where('id', '=', 'e2')
      .execute();
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
    const router = new RuntimeRouter(
      api.store,
      runtimeRegistry({ local: { isolated: () => local }, dataDir: api.dataDir }),
    );
    const drivers = resourceDriverRegistry({ dataDir: api.dataDir, pgliteScript: '/nonexistent/pglite.js' });
    const janitor = new EnvironmentJanitor({
      store: api.store,
      teardown: environmentTeardown(router, { store: api.store, box: api.box, drivers }, logger),
      logger,
      replicaId: 'test',
    });
    try {
      await janitor.sweep();
      await janitor.sweep();
      const failures = lines.filter(
        (line) => line.msg === 'could not delete an expired environment; retrying later',
      );
      expect(failures).toHaveLength(2);
      expect(JSON.stringify(failures[0])).toContain('docker-gone');
      expect(await exists('e2')).toBe(true);
      expect(await recorded('e2')).toEqual(['api.name']);
      expect(await leaseOwner('e2')).toBeNull();
    } finally {
      await api.store.db
        .updateTable('environments')
        .set({ expires_at: null })
        .where('app_id', '=', 'shop')
        .where('id', '=', 'e2')
        .execute();
    }
  });

  it("an app's forced deletion stops at it, says which, and keeps it and the app", async () => {
    const refused = await api.call('DELETE', '/apps/shop?force=true');
    expect(refused.statusCode, refused.body).toBe(502);
    expect(refused.json().detail).toContain('shop/e2');
    expect((await api.call('GET', '/apps/shop')).statusCode).toBe(200);
    expect(await exists('e1')).toBe(false);
    expect(await exists('e2')).toBe(true);
    expect(await recorded('e2')).toEqual(['api.name']);
  });

  it('is deleted once moved off the target by a deployment', async () => {
    const moved = await deploy('e2');
    expect(moved.status, moved.reason ?? '').toBe('succeeded');
    expect(
      moved.journal.some((e) => e.step === 'switch target' && /may still run there/.test(e.message)),
    ).toBe(true);
    const deleted = await api.call('DELETE', '/apps/shop/envs/e2');
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect(exec.requests('e2').map((request) => request.action)).toContain('delete');
  });
});

/**
 * The control plane stopping while a runtime removes a deleted environment's workloads: the runtime is asked
 * to give up (its `ctx.signal` aborts) rather than the stop waiting for it, and the deletion answers 503 with
 * the environment kept, as when it stops while resources are deleted.
 */
describe.each(storeEngines)('stopping the control plane while workloads are removed on %s', (engine) => {
  let api: DeployingApi;
  const stopping = new AbortController();
  let destroying: () => void;
  const destroyStarted = new Promise<void>((resolve) => (destroying = resolve));
  const runtime: RuntimeDriver = {
    ...idleRuntime,
    name: 'slow',
    destroy: (_target, ctx: DriverContext) =>
      new Promise<void>((_resolve, reject) => {
        destroying();
        ctx.signal.addEventListener('abort', () => reject(new Error('removal aborted')), { once: true });
      }),
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime, api: { stopping: stopping.signal } });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('gives the removal up and answers 503, keeping the environment', async () => {
    const deleting = api.call('DELETE', '/apps/shop/envs/dev');
    await destroyStarted;
    stopping.abort();
    const answer = await deleting;
    expect(answer.statusCode, answer.body).toBe(503);
    expect(answer.json().detail).toContain('the control plane is stopping, so shop/dev was not deleted');
    expect((await api.call('GET', '/apps/shop/envs/dev')).statusCode).toBe(200);
  });
});
