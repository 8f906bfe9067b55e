import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail } from '@pave/core';
import { stopProcessWorkloads } from '@pave/runtime-process';
import { startServer, type RunningServer } from '../src/index.ts';
import {
  createTestStoreLocation,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';

/** The supervisor the process runtime starts workloads with (`npm test` builds it first). */
const SUPERVISOR = fileURLToPath(new URL('../../cli/dist/process-supervisor.js', import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How long the slow delete takes: ten minutes, and a number no other process sleeps for. */
const SLOW_DELETE_SECONDS = 607;

/** Whether the slow delete's `sleep` runs. */
const slowDeleteRuns = (): boolean => {
  try {
    execFileSync('pgrep', ['-f', `^sleep ${SLOW_DELETE_SECONDS}$`]);
    return true;
  } catch {
    return false;
  }
};

/**
 * Stopping the control plane while an environment is deleted: the deletion's drivers are asked to give up
 * (an `exec` delete that would run ten minutes is stopped) and no further delete is begun, the request answers 503 saying the environment is
 * kept, the stop does not wait for the drivers, and the environment, kept with its resource, is deleted by a
 * control plane started again. Real control planes (startServer, as `pave up`), the process runtime, a real
 * exec command, both stores.
 */
describe.each(storeEngines)('stopping the control plane while an environment is deleted on %s', (engine) => {
  let location: TestStoreLocation;
  // The exec command, and the file that makes it slow: outside the data directory and outside /tmp, which a
  // sandboxed command sees neither of.
  let execDir: string;
  let server: RunningServer | undefined;
  let admin: string;

  const start = () =>
    startServer({
      port: 0,
      host: '127.0.0.1',
      dataDir: location.dataDir,
      store: location.url,
      env: {},
      logDestination: new PassThrough().resume(),
      supervisorScript: SUPERVISOR,
      janitorIntervalMs: 3_600_000,
    });
  /** Sends a request over the server's socket (not injected: stopping waits for requests on sockets). */
  const request = (method: string, path: string, body?: object) =>
    fetch(`${server!.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const ok = async (method: string, path: string, body?: object) => {
    const response = await request(method, path, body);
    const text = await response.text();
    expect(response.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? (JSON.parse(text) as unknown) : undefined;
  };

  /** Deploys workload `api`, with a redis (static) and a dns name (exec) using its host, and waits for it. */
  const deploy = async (app: string, env: string) => {
    const queued = (await ok('POST', `/apps/${app}/envs/${env}/deployments`, {
      workloads: [
        {
          dir: execDir,
          spec: {
            apiVersion: 'score.dev/v1b1',
            metadata: { name: 'api' },
            containers: {
              main: { image: 'node:20', command: ['node', '-e', 'setInterval(() => {}, 1000)'] },
            },
            resources: {
              cache: { type: 'redis' },
              name: { type: 'dns', params: { near: '${resources.cache.host}' } },
            },
          },
        },
      ],
      minReadySeconds: 0,
    })) as DeploymentDetail;
    for (let attempt = 0; ; attempt++) {
      const shown = (await ok(
        'GET',
        `/apps/${app}/envs/${env}/deployments/${queued.id}`,
      )) as DeploymentDetail;
      if (shown.status === 'succeeded') return;
      expect(shown.status, shown.reason ?? '').not.toBe('failed');
      if (attempt > 600) throw new Error('the deployment did not finish in 30 s');
      await sleep(50);
    }
  };
  /** Sends `method path`, stops the control plane once the slow delete runs, and resolves with the answer. */
  const stopWhileDeleting = async (method: string, path: string) => {
    writeFileSync(join(execDir, 'slow'), '');
    const deleting = request(method, path);
    for (let attempt = 0; !slowDeleteRuns(); attempt++) {
      if (attempt > 600) throw new Error('the exec delete did not start in 30 s');
      await sleep(50);
    }
    // The stop neither waits ten minutes for the command nor leaves the request unanswered (the test's limit
    // is a minute).
    await server!.close();
    server = undefined;
    const answer = await deleting;
    // The command was stopped, not left running.
    await expect.poll(slowDeleteRuns).toBe(false);
    rmSync(join(execDir, 'slow'));
    return { status: answer.status, body: (await answer.json()) as { detail: string; errors: unknown[] } };
  };

  beforeAll(async () => {
    location = await createTestStoreLocation(engine);
    execDir = mkdtempSync('/var/tmp/pave-stop-delete-exec-');
    // Workloads and exec commands run as an unprivileged user when Pave is root.
    chmodSync(execDir, 0o755);
    const script = join(execDir, 'dns.sh');
    // Provisions a host at once; deleting takes ten minutes (a `sleep` of its own, to be found) while `slow` exists.
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'cat > /dev/null',
        'if [ "$PAVE_ACTION" = delete ]; then',
        `  [ -e '${join(execDir, 'slow')}' ] && exec sleep ${SLOW_DELETE_SECONDS}`,
        '  exit 0',
        'fi',
        'printf \'{"values":{"host":"%s.example.test"}}\' "$PAVE_ENV"',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);

    server = await start();
    admin = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
    await ok('POST', '/resource-definitions/apply', {
      definitions: [
        { id: 'dns-exec', type: 'dns', driver: 'exec', driverInputs: { values: { command: [script] } } },
        // Deleted after the dns name (made before it, as the name's params use its host), by a driver that
        // does not watch the signal: begun after the stop, its delete would run in full.
        {
          id: 'cache-static',
          type: 'redis',
          driver: 'static',
          driverInputs: {
            values: { host: 'cache.internal', port: '6379', username: 'default' },
            secrets: {
              password: 'cache-password',
              url: 'redis://default:cache-password@cache.internal:6379',
            },
          },
        },
      ],
    });
    for (const [app, env] of [
      ['shop', 'dev'],
      ['blog', 'b1'],
    ] as const) {
      await ok('POST', '/apps', { id: app });
      await ok('POST', `/apps/${app}/envs`, { id: env, type: 'development' });
      await deploy(app, env);
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    if (location) {
      await stopProcessWorkloads(location.dataDir);
      await location.cleanup();
    }
    rmSync(execDir, { recursive: true, force: true });
  }, 60_000);

  it('gives the deletion up, answers 503 and keeps the environment, which a restarted control plane deletes', async () => {
    const answer = await stopWhileDeleting('DELETE', '/apps/shop/envs/dev');
    expect(answer).toEqual({
      status: 503,
      body: expect.objectContaining({
        detail:
          'the control plane is stopping, so shop/dev was not deleted: it is kept with the resources not ' +
          'deleted yet',
        errors: [
          {
            path: 'path.env',
            message: 'delete it again once Pave runs (an expired one is deleted at the next sweep)',
          },
        ],
      }),
    });

    server = await start();
    const kept = (await ok('GET', '/apps/shop/envs/dev/resources')) as { items: Array<{ address: string }> };
    // Neither was deleted: the stop came during the first delete, and the second was not begun.
    expect(kept.items.map((resource) => resource.address).sort()).toEqual(['api.cache', 'api.name']);
    expect((await request('DELETE', '/apps/shop/envs/dev')).status).toBe(204);
    expect((await request('GET', '/apps/shop/envs/dev')).status).toBe(404);
  }, 60_000);

  it('keeps an app whose deletion the stop cut short, and says how to finish it', async () => {
    const answer = await stopWhileDeleting('DELETE', '/apps/blog?force=true');
    expect(answer).toEqual({
      status: 503,
      body: expect.objectContaining({
        detail:
          'the control plane is stopping, so blog/b1 was not deleted: it is kept with the resources not ' +
          'deleted yet; app blog is kept',
        errors: [
          { path: 'path.app', message: 'delete it again once Pave runs (pave apps delete blog --force)' },
        ],
      }),
    });

    server = await start();
    expect((await request('GET', '/apps/blog/envs/b1')).status).toBe(200);
    expect((await request('DELETE', '/apps/blog?force=true')).status).toBe(204);
    expect((await request('GET', '/apps/blog')).status).toBe(404);
  }, 60_000);
});
