import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  AuditEntry,
  Deployment,
  DeploymentDetail,
  EnvironmentStatus,
  Insights,
  PaveEvent,
  ScoreWorkload,
} from '@pave/core';
import { stopProcessWorkloads } from '@pave/runtime-process';
import { startServer, type RunningServer } from '../src/index.ts';
import {
  createTestStoreLocation,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';

/** The supervisor the process runtime starts workloads with (`npm test` builds it first). */
const SUPERVISOR = fileURLToPath(new URL('../../cli/dist/process-supervisor.js', import.meta.url));

/** Answers its GREETING (a secret value) on `/`; `/never` is never ready. */
const SERVER = `
require('node:http')
  .createServer((request, response) => {
    response.statusCode = request.url === '/never' ? 500 : 200;
    response.end(process.env.GREETING);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/** One workload `api`: the server above, or with `exitCode` a command that exits at once. */
const workload = (options: { exitCode?: number; readyPath?: string } = {}): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  service: { ports: { web: { port: 8080 } } },
  containers: {
    main: {
      image: 'node:20',
      command:
        options.exitCode === undefined
          ? ['node', '-e', SERVER]
          : ['node', '-e', `process.exit(${options.exitCode})`],
      variables: { GREETING: '${resources.env.GREETING}' },
      ...(options.readyPath ? { readinessProbe: { httpGet: { path: options.readyPath, port: 8080 } } } : {}),
    },
  },
  resources: { env: { type: 'environment' } },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A control plane that starts while the workloads of current sets are stopped (as after a reboot or `pave
 * down`) deploys those sets again by itself: one restart per environment, by `system`, that runs with the
 * values the current deployment ran with, needs no approval, and counts nowhere in DORA insights. A later
 * deployment that failed and was rolled back to the current set does not stop that. It leaves alone, saying so
 * in its log, environments whose later deployment failed and was not rolled back, and those that have one
 * queued or running. Real control planes, real processes, both stores; on PostgreSQL two replicas start
 * together and still queue one restart each.
 */
describe.each(storeEngines)('restarting stopped workloads when the control plane starts on %s', (engine) => {
  let location: TestStoreLocation;
  let appDir: string;
  let servers: RunningServer[] = [];
  let admin: string;
  let bob: string;
  /** What the control planes logged, line by line. */
  const log: string[] = [];

  const start = () =>
    startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir: location.dataDir,
      store: location.url,
      env: {},
      logDestination: new PassThrough().on('data', (chunk: Buffer) => log.push(...String(chunk).split('\n'))),
      supervisorScript: SUPERVISOR,
      janitorIntervalMs: 3_600_000,
    });
  /** Starts the control plane again: two replicas at once on PostgreSQL, one on SQLite. */
  const restartControlPlane = async () => {
    await closeAll();
    servers = await Promise.all(engine === 'postgres' ? [start(), start()] : [start()]);
  };
  const closeAll = async () => {
    await Promise.all(servers.map((server) => server.close()));
    servers = [];
  };
  const call = async (method: string, url: string, payload?: object, token = admin) => {
    const response = await servers[0]!.app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    return response.body ? response.json() : undefined;
  };
  const deployment = (env: string, id: string): Promise<DeploymentDetail> =>
    call('GET', `/apps/shop/envs/${env}/deployments/${id}`);
  const settled = async (env: string, id: string): Promise<DeploymentDetail> => {
    for (let attempt = 0; attempt < 600; attempt++) {
      const shown = await deployment(env, id);
      if (shown.status === 'succeeded' || shown.status === 'failed') return shown;
      await sleep(50);
    }
    throw new Error(`deployment ${id} of shop/${env} did not finish in 30 s`);
  };
  const queue = (env: string, spec: ScoreWorkload, extra: object = {}): Promise<Deployment> =>
    call('POST', `/apps/shop/envs/${env}/deployments`, {
      workloads: [{ spec, dir: appDir }],
      minReadySeconds: 0,
      ...extra,
    });
  const deploy = async (env: string, spec: ScoreWorkload) => settled(env, (await queue(env, spec)).id);
  const history = async (env: string): Promise<Deployment[]> =>
    (await call('GET', `/apps/shop/envs/${env}/deployments`)).items;
  const restarts = async (env: string) => (await history(env)).filter((d) => d.kind === 'restart');
  const greeting = async (env: string) => {
    const status: EnvironmentStatus = await call('GET', `/apps/shop/envs/${env}/status`);
    const response = await fetch(status.workloads[0]!.urls[0]!);
    return (await response.text()).trim();
  };

  beforeAll(async () => {
    location = await createTestStoreLocation(engine);
    appDir = mkdtempSync(join(tmpdir(), 'pave-restart-app-'));
    // Workloads run as an unprivileged user when Pave is root: it must reach its working directory.
    chmodSync(appDir, 0o755);
    servers = [await start()];
    admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    await call('PATCH', '/env-types/production', { requiresApproval: true });
    await call('POST', '/apps', { id: 'shop' });
    for (const [env, type] of [
      ['dev', 'development'],
      ['broken', 'development'],
      ['rolled', 'development'],
      ['busy', 'development'],
      ['prod', 'production'],
    ]) {
      await call('POST', '/apps/shop/envs', { id: env, type });
      await call('PATCH', `/apps/shop/envs/${env}/values`, {
        set: { GREETING: { value: `${env}-v1`, secret: true } },
      });
    }
    await call('POST', '/users', { username: 'bob', password: 'a long enough password' });
    await call('POST', '/roles', { role: 'viewer', user: 'bob', app: 'shop' });
    await call('POST', '/roles', { role: 'approver', user: 'bob', envType: 'production' });
    bob = (await call('POST', '/auth/login', { username: 'bob', password: 'a long enough password' }))
      .token as string;

    expect((await deploy('dev', workload())).status).toBe('succeeded');
    // Values set since the last deployment wait for the next one: a restart does not bring them in.
    await call('PATCH', '/apps/shop/envs/dev/values', {
      set: { GREETING: { value: 'dev-v2', secret: true } },
    });
    expect((await deploy('broken', workload())).status).toBe('succeeded');
    // broken: its failed deployment was not rolled back, so what runs there is uncertain.
    const failing = await queue('broken', workload({ exitCode: 3 }), { autoRollback: false });
    expect((await settled('broken', failing.id)).status).toBe('failed');
    // rolled: its failed deployment was rolled back to the set that succeeded before, which runs again.
    expect((await deploy('rolled', workload())).status).toBe('succeeded');
    const rolledBack = await deploy('rolled', workload({ exitCode: 3 }));
    expect([rolledBack.status, rolledBack.rolledBack]).toEqual(['failed', true]);
    const prod = await queue('prod', workload());
    expect(prod.status).toBe('awaiting-approval');
    await call('POST', `/approvals/${prod.id}/approve`, {}, bob);
    expect((await settled('prod', prod.id)).status).toBe('succeeded');
    expect((await deploy('busy', workload())).status).toBe('succeeded');
    // busy: one deployment never gets ready (it is still running when the control plane stops), one queued.
    const running = await queue('busy', workload({ readyPath: '/never' }), { timeoutSeconds: 300 });
    for (let attempt = 0; (await deployment('busy', running.id)).status !== 'running'; attempt++) {
      if (attempt === 200) throw new Error('the busy deployment did not start');
      await sleep(50);
    }
    await queue('busy', workload());
    expect(await greeting('dev')).toBe('dev-v1');

    // As `pave down` does: the control plane stops, then every workload and supervisor it left running.
    await closeAll();
    expect((await stopProcessWorkloads(location.dataDir)).length).toBeGreaterThan(0);
    await restartControlPlane();
  }, 120_000);

  afterAll(async () => {
    await closeAll();
    if (location) {
      await stopProcessWorkloads(location.dataDir);
      await location.cleanup();
    }
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 60_000);

  it('queues exactly one restart of the current set per environment whose workloads it found stopped', async () => {
    const [devRestart, ...moreDev] = await restarts('dev');
    expect(moreDev).toEqual([]);
    const current = (await history('dev')).find((d) => d.kind === 'deploy' && d.status === 'succeeded')!;
    expect(devRestart).toMatchObject({
      kind: 'restart',
      actor: 'system',
      message: 'restart: the workloads were not running when Pave started',
      source: { deploymentId: current.id },
    });
    const restarted = await settled('dev', devRestart!.id);
    expect(restarted.status).toBe('succeeded');
    expect(restarted.setId).toBe(current.setId);
    // It ran with the values (secrets included) the current deployment ran with, and left the newer ones.
    expect(restarted.valuesVersion).toBe(current.valuesVersion);
    expect(await greeting('dev')).toBe('dev-v1');
    const values = await call('GET', '/apps/shop/envs/dev/values?reveal=true');
    expect(JSON.stringify(values)).toContain('dev-v2');
  }, 60_000);

  it('restarts a production environment without asking for approval again', async () => {
    const [prodRestart, ...more] = await restarts('prod');
    expect(more).toEqual([]);
    expect(prodRestart!.status).not.toBe('awaiting-approval');
    expect((await settled('prod', prodRestart!.id)).status).toBe('succeeded');
    expect(await greeting('prod')).toBe('prod-v1');
    expect(await call('GET', '/approvals')).toMatchObject({ items: [] });
  }, 60_000);

  it('restarts an environment whose later deployment failed and was rolled back to its current set', async () => {
    const [rolledRestart, ...more] = await restarts('rolled');
    expect(more).toEqual([]);
    const current = (await history('rolled')).find((d) => d.kind === 'deploy' && d.status === 'succeeded')!;
    expect(rolledRestart!.source).toEqual({ deploymentId: current.id });
    expect((await settled('rolled', rolledRestart!.id)).status).toBe('succeeded');
    expect(await greeting('rolled')).toBe('rolled-v1');
  }, 60_000);

  it('leaves alone an environment whose later deployment failed and was not rolled back, saying so', async () => {
    expect(await restarts('broken')).toEqual([]);
    const [failed, current] = await history('broken');
    const warnings = log
      .filter((line) => line.includes('"env":"broken"') && line.includes('not restarting'))
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    // One line per control plane that started.
    expect(warnings).toHaveLength(engine === 'postgres' ? 2 : 1);
    expect(warnings[0]!.level).toBe(40);
    expect(warnings[0]!.msg).toContain(`shop/broken: deployment ${failed!.id} failed`);
    expect(warnings[0]!.msg).toContain(`pave rollback ${current!.id} --app shop --env broken`);
  });

  it('leaves alone an environment that has a deployment queued or running', async () => {
    expect(await restarts('busy')).toEqual([]);
    const busy = await history('busy');
    expect(busy.map((d) => d.status).slice(0, 2)).toEqual(['queued', 'running']);
  });

  it('audits the restart as system and emits the deployment events', async () => {
    const restart = (await restarts('dev'))[0]!;
    const audit: AuditEntry[] = (await call('GET', '/audit?app=shop&limit=500')).items;
    const entries = audit.filter((entry) => entry.action === 'deployment.restart');
    expect(entries.map((entry) => [entry.actor, entry.target]).sort()).toEqual(
      [
        ['system', `apps/shop/envs/dev/deployments/${restart.id}`],
        ['system', `apps/shop/envs/prod/deployments/${(await restarts('prod'))[0]!.id}`],
        ['system', `apps/shop/envs/rolled/deployments/${(await restarts('rolled'))[0]!.id}`],
      ].sort(),
    );
    const events: PaveEvent[] = (await call('GET', '/events?app=shop&env=dev&limit=500')).items;
    const about = events.filter(
      (event) => (event.data as { deploymentId?: string }).deploymentId === restart.id,
    );
    expect(about.map((event) => [event.type, event.actor, (event.data as { kind: string }).kind])).toEqual([
      ['deployment.queued', 'system', 'restart'],
      ['deployment.started', 'system', 'restart'],
      ['deployment.succeeded', 'system', 'restart'],
    ]);
  });

  it('does not count restarts in DORA insights', async () => {
    for (const env of ['dev', 'prod']) {
      const insights: Insights = await call('GET', `/apps/shop/insights?env=${env}`);
      // The environment's deploy, not its restart.
      expect(insights.deploymentFrequency.deployments).toBe(1);
      expect(insights.changeFailureRate).toMatchObject({ finished: 1, failures: 0 });
      expect(insights.series.reduce((sum, day) => sum + day.finished, 0)).toBe(1);
    }
  });

  it('a later start that finds the workloads running queues no restart', async () => {
    await restartControlPlane();
    expect(await restarts('dev')).toHaveLength(1);
    expect(await restarts('prod')).toHaveLength(1);
    expect(await greeting('dev')).toBe('dev-v1');
  }, 60_000);
});
