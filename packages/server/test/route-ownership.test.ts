import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RuntimeDriver, RuntimeTarget, WorkloadStatus } from '@pave/plugin-api';
import type { ScoreWorkload } from '@pave/core';
import { bootstrapAdmin, buildApi, type Store } from '../src/index.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { resourceDriverRegistry } from '../src/resource-drivers.ts';
import { DeploymentWorker } from '../src/domain/deployments/worker.ts';
import { claimRouteHost, reservedHostOwner, RouteTable } from '../src/domain/resources/routes.ts';
import { routeHosts } from '../src/store/migrations/0009_route_hosts.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

const PASSWORD = 'a long enough password';

/** Each workload is a real node process answering every request with who it is and the Authorization it got. */
const ECHO_SERVER = `
const http = require('node:http');
http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ served: process.env.SERVED, path: req.url, authorization: req.headers.authorization ?? null }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

/**
 * A runtime that runs each rendered workload as one echo process on its host port: what these tests need
 * from a runtime is a real listener behind each route, not the process runtime's supervisor.
 */
function echoRuntime(): RuntimeDriver & { stopAll(): Promise<void> } {
  const running = new Map<string, { child: ChildProcess; status: WorkloadStatus }>();
  const key = (target: RuntimeTarget, workload: string) => `${target.app}/${target.env}/${workload}`;
  const stop = async (name: string) => {
    const entry = running.get(name);
    running.delete(name);
    if (!entry || entry.child.exitCode !== null) return;
    const exited = new Promise((resolve) => entry.child.once('exit', resolve));
    entry.child.kill('SIGTERM');
    await exited;
  };
  const answers = (port: number) =>
    new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', timeout: 500 }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  return {
    name: 'echo',
    async deploy(target, workload) {
      await stop(key(target, workload.name));
      const port = workload.ports[0]!;
      const child = spawn(process.execPath, ['-e', ECHO_SERVER], {
        env: { PORT: String(port.hostPort), SERVED: key(target, workload.name) },
        stdio: 'ignore',
      });
      running.set(key(target, workload.name), {
        child,
        status: {
          workload: workload.name,
          state: 'running',
          restarts: 0,
          hash: workload.hash,
          deploymentId: workload.deploymentId,
          ports: workload.ports,
          containers: [],
        },
      });
    },
    async waitReady(target, workload) {
      const entry = running.get(key(target, workload));
      const port = entry?.status.ports[0]?.hostPort ?? 0;
      for (let attempt = 0; attempt < 100; attempt++) {
        if (await answers(port)) return { ready: true };
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return { ready: false, reason: `port ${port} did not answer in 5 s`, lastLogs: [] };
    },
    remove: async (target, workload) => stop(key(target, workload)),
    status: async (target) =>
      [...running.entries()]
        .filter(([name]) => name.startsWith(`${target.app}/${target.env}/`))
        .map(([, entry]) => entry.status),
    async destroy(target) {
      for (const name of [...running.keys()]) {
        if (name.startsWith(`${target.app}/${target.env}/`)) await stop(name);
      }
    },
    async stopAll() {
      for (const name of [...running.keys()]) await stop(name);
    },
  };
}

/** A Score workload serving port 8080 behind one `route` resource. */
const routed = (name: string, host: string, path: string): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name },
  containers: { main: { image: 'node:20' } },
  service: { ports: { web: { port: 8080 } } },
  resources: { route: { type: 'route', params: { host, path, port: 8080 } } },
});

describe.each(storeEngines)('route hosts belong to one environment on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let worker: DeploymentWorker;
  const runtime = echoRuntime();
  const tokens: Record<string, string> = {};

  const call = (token: string, method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  /** Deploys `workload` to app/env as `user` and resolves with the finished deployment. */
  const deploy = async (user: string, target: string, workload: ScoreWorkload) => {
    const queued = await call(tokens[user]!, 'POST', `/apps/${target}/deployments`, {
      workloads: [{ spec: workload, dir: '/srv/app' }],
    });
    expect(queued.statusCode, queued.body).toBe(202);
    const id = queued.json().id as string;
    for (let attempt = 0; attempt < 200; attempt++) {
      const shown = (await call(tokens.admin!, 'GET', `/apps/${target}/deployments/${id}`)).json();
      if (shown.status === 'succeeded' || shown.status === 'failed') {
        return shown as {
          status: string;
          reason: string | null;
          journal: Array<{ step: string; message: string }>;
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`deployment ${id} of ${target} did not finish in 10 s`);
  };
  /** A request through Pave's reverse proxy for `host` and `path`, carrying a bearer credential. */
  const viaProxy = async (host: string, path: string) => {
    const response = await app.inject({
      method: 'GET',
      url: path,
      headers: { host, authorization: 'Bearer users-session-credential' },
    });
    return { status: response.statusCode, served: response.statusCode === 200 ? response.json() : undefined };
  };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const dataDir = opened.location.dataDir;
    tokens.admin = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
    const keyring = keyringSource(dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await box.init();
    const resourceDrivers = resourceDriverRegistry({
      dataDir,
      pgliteScript: '/nonexistent/pglite-server.js',
    });
    worker = new DeploymentWorker({
      store,
      runtime,
      box,
      resourceDrivers,
      logger: pino({ level: 'silent' }),
    });
    app = await buildApi({
      store,
      runtime,
      secrets: { box },
      resourceDrivers,
      routes: new RouteTable(store.db, 0),
      onDeploymentQueued: () => worker.poke(),
    });
    for (const id of ['alpha', 'beta']) {
      expect((await call(tokens.admin, 'POST', '/apps', { id })).statusCode).toBe(201);
      for (const env of ['dev', 'stage']) {
        await call(tokens.admin, 'POST', `/apps/${id}/envs`, { id: env, type: 'development' });
      }
    }
    // alina works on alpha only, bob on beta only: neither may learn that the other's app exists.
    for (const [username, appId] of [
      ['alina', 'alpha'],
      ['bob', 'beta'],
    ] as const) {
      await call(tokens.admin, 'POST', '/users', { username, password: PASSWORD });
      await call(tokens.admin, 'POST', '/roles', { role: 'developer', user: username, app: appId });
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
  });
  afterAll(async () => {
    await worker?.stop();
    await app?.close();
    await runtime.stopAll();
    await cleanup?.();
  });

  it('refuses a route on a host reserved for another app, so its traffic and credentials stay there', async () => {
    const beta = await deploy('bob', 'beta/envs/dev', routed('api', 'api.dev.beta.localhost', '/'));
    expect(beta.status, beta.reason ?? '').toBe('succeeded');

    // The reproduction: alpha declares the longer path /login on beta's host.
    const hijack = await deploy(
      'alina',
      'alpha/envs/dev',
      routed('login', 'api.dev.beta.localhost', '/login'),
    );
    expect(hijack.status).toBe('failed');
    expect(hijack.reason).toContain('workloads.login.resources.route.params.host');
    expect(hijack.reason).toContain(
      'host api.dev.beta.localhost is reserved for environment "dev" of app "beta"',
    );
    expect(hijack.reason).toContain('.dev.alpha.localhost');

    const login = await viaProxy('api.dev.beta.localhost', '/login');
    expect(login.served).toEqual({
      served: 'beta/dev/api',
      path: '/login',
      authorization: 'Bearer users-session-credential',
    });
    // Reserved even before its environment routes it: beta/stage's hosts are not alpha's to take.
    const unclaimed = await deploy(
      'alina',
      'alpha/envs/dev',
      routed('login', 'www.stage.beta.localhost', '/'),
    );
    expect(unclaimed.status).toBe('failed');
    expect(unclaimed.reason).toContain('reserved for environment "stage" of app "beta"');
  });

  it('gives any other host to the first environment that routes it, whatever path the others ask for', async () => {
    const first = await deploy('alina', 'alpha/envs/dev', routed('portal', 'portal.localhost', '/'));
    expect(first.status, first.reason ?? '').toBe('succeeded');
    // The journal names the route, not a URL: the proxy's port is wherever Pave listens, which it does not know
    // here (http://portal.localhost/ would point at port 80).
    const routesLine = first.journal.find((entry) => entry.step === 'routes')?.message;
    expect(routesLine).toMatch(/^portal\.localhost\/ -> 127\.0\.0\.1:\d+$/);

    // bob has no role on alpha: the refusal does not name it.
    const other = await deploy('bob', 'beta/envs/dev', routed('admin', 'portal.localhost', '/admin'));
    expect(other.status).toBe('failed');
    expect(other.reason).toContain('host portal.localhost is owned by another app');
    expect(other.reason).not.toContain('alpha');

    // The admin sees alpha, and another environment of the same app is refused too.
    const sibling = await deploy('admin', 'alpha/envs/stage', routed('portal', 'portal.localhost', '/v2'));
    expect(sibling.status).toBe('failed');
    expect(sibling.reason).toContain('belongs to app "alpha", environment "dev"');

    expect((await viaProxy('portal.localhost', '/admin')).served).toMatchObject({
      served: 'alpha/dev/portal',
    });
    expect((await viaProxy('portal.localhost', '/v2')).served).toMatchObject({ served: 'alpha/dev/portal' });
  });

  it('keeps the host for its environment across redeployments, and frees it when the environment goes', async () => {
    const again = await deploy('alina', 'alpha/envs/dev', routed('portal', 'portal.localhost', '/app'));
    expect(again.status, again.reason ?? '').toBe('succeeded');
    expect((await viaProxy('portal.localhost', '/app/x')).served).toMatchObject({
      served: 'alpha/dev/portal',
    });

    expect((await call(tokens.admin!, 'DELETE', '/apps/alpha/envs/dev')).statusCode).toBe(204);
    const freed = await deploy('bob', 'beta/envs/dev', routed('admin', 'portal.localhost', '/admin'));
    expect(freed.status, freed.reason ?? '').toBe('succeeded');
    expect((await viaProxy('portal.localhost', '/admin')).served).toMatchObject({ served: 'beta/dev/admin' });
  });

  it('frees a host its environment stops routing', async () => {
    const moved = await deploy('bob', 'beta/envs/dev', routed('admin', 'admin.dev.beta.localhost', '/'));
    expect(moved.status, moved.reason ?? '').toBe('succeeded');
    const taken = await deploy('alina', 'alpha/envs/stage', routed('portal', 'portal.localhost', '/'));
    expect(taken.status, taken.reason ?? '').toBe('succeeded');
    expect((await viaProxy('portal.localhost', '/')).served).toMatchObject({ served: 'alpha/stage/portal' });
  });

  it('lets exactly one of two concurrent claims of a host win', async () => {
    const target = (app: string) => ({ app, env: 'dev', envType: 'development' });
    const results = await Promise.allSettled([
      claimRouteHost(store.db, target('alpha'), 'race.localhost', 'a'),
      claimRouteHost(store.db, target('beta'), 'race.localhost', 'b'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const owner = await store.db
      .selectFrom('route_hosts')
      .selectAll()
      .where('host', '=', 'race.localhost')
      .execute();
    expect(owner).toHaveLength(1);
  });

  it('claims the hosts of routes recorded before claims existed, dropping a recorded hijack', async () => {
    await store.db.schema.dropTable('route_hosts').execute();
    await store.db.deleteFrom('routes').execute();
    const route = (host: string, path: string, app: string, env: string) => ({
      host,
      path,
      app_id: app,
      env_id: env,
      workload: 'w',
      host_port: 1,
    });
    await store.db
      .insertInto('routes')
      .values([
        route('api.dev.shop.localhost', '/', 'shop', 'dev'),
        route('api.dev.shop.localhost', '/login', 'evil', 'dev'),
        route('shared.localhost', '/', 'blog', 'dev'),
        route('shared.localhost', '/x', 'zoo', 'dev'),
        route('orphan.dev.gone.localhost', '/', 'evil', 'dev'),
      ])
      .execute();
    await routeHosts.up(store.db as never, engine);
    const claims = await store.db
      .selectFrom('route_hosts')
      .select(['host', 'app_id', 'env_id'])
      .orderBy('host')
      .execute();
    expect(claims).toEqual([
      { host: 'api.dev.shop.localhost', app_id: 'shop', env_id: 'dev' },
      { host: 'shared.localhost', app_id: 'blog', env_id: 'dev' },
    ]);
    const left = await store.db
      .selectFrom('routes')
      .select(['host', 'path', 'app_id'])
      .orderBy('host')
      .orderBy('path')
      .execute();
    expect(left).toEqual([
      { host: 'api.dev.shop.localhost', path: '/', app_id: 'shop' },
      { host: 'shared.localhost', path: '/', app_id: 'blog' },
    ]);
  });
});

describe('hosts reserved for an environment', () => {
  it('reserves <env>.<app>.localhost and every host under it, and nothing else', () => {
    expect(reservedHostOwner('api.dev.beta.localhost')).toEqual({ app: 'beta', env: 'dev' });
    expect(reservedHostOwner('a.b.DEV.Beta.localhost')).toEqual({ app: 'beta', env: 'dev' });
    expect(reservedHostOwner('dev.beta.localhost')).toEqual({ app: 'beta', env: 'dev' });
    expect(reservedHostOwner('portal.localhost')).toBeUndefined();
    expect(reservedHostOwner('api.dev.beta.example.com')).toBeUndefined();
  });
});
