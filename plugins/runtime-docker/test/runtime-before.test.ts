import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RenderedContainer, RenderedWorkload, RuntimeTarget } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/index.ts';
import {
  buildBusyboxImage,
  podman,
  podmanAvailable,
  startPodmanService,
  type PodmanService,
} from '../../../test/support/podman.ts';
import { testContext } from './support.ts';

/*
 * Found by a Score-conformance review: `containers.*.before` was ignored, so a `migrate` container that exits 0
 * with `before: { main: { ready: complete } }` started together with main, and its exit failed the deployment
 * (`container "migrate" exited with code 0`). On the engine, the containers others wait for must start first and
 * be what `ready` asks for (complete: exited 0; healthy: probe passes) before those start, and one that ran to
 * completion is neither restarted nor a failure.
 */

const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

describe.skipIf(!podmanAvailable())(
  "before on the DockerRuntime over Podman's Docker API (skipped without podman, busybox-static and root: see docs/runtimes.md)",
  () => {
    let service: PodmanService;
    let runtime: DockerRuntime;
    let image: string;
    let dataDir: string;
    let shared: string;
    const app = `db${run}`;
    const target: RuntimeTarget = { app, env: 'test' };

    const container = (name: string, script: string, extra: Partial<RenderedContainer> = {}) => ({
      name,
      image,
      command: ['/bin/sh', '-c', script],
      env: {},
      files: [],
      workingDir: '/',
      volumes: [{ source: shared, target: '/shared' }],
      ...extra,
    });
    const workload = (name: string, hash: string, containers: RenderedContainer[]): RenderedWorkload => ({
      name,
      hash,
      deploymentId: `dep-${hash}`,
      ports: [],
      containers,
    });
    const inspect = (name: string) =>
      JSON.parse(podman(['inspect', '--type', 'container', `pave-${app}-test-${name}`]))[0] as {
        State: { Status: string; ExitCode: number };
        RestartCount: number;
        HostConfig: { RestartPolicy: { Name: string } };
      };
    const names = () =>
      podman(['ps', '-a', '--filter', `label=dev.pave.app=${app}`, '--format', '{{.Names}}'])
        .split('\n')
        .filter(Boolean)
        .sort();

    beforeAll(async () => {
      service = await startPodmanService();
      image = buildBusyboxImage(`pave-runtime-docker-before-${run}`, 'v1');
      dataDir = mkdtempSync(join(tmpdir(), 'pave-docker-before-data-'));
      shared = mkdtempSync(join(tmpdir(), 'pave-docker-before-shared-'));
      runtime = DockerRuntime.fromConfig({ socketPath: service.socketPath, dataDir, stopGraceMs: 1_000 });
    }, 60_000);

    afterAll(async () => {
      await runtime?.destroy(target, testContext()).catch(() => {});
      for (const name of names()) podman(['rm', '-f', '-t', '0', name]);
      if (image) podman(['rmi', '-f', image]);
      await service?.stop();
      for (const dir of [dataDir, shared]) if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const migrating = (hash: string, migrate: string) =>
      workload('api', hash, [
        // main finds the migration's mark at once, or exits: it must start only after migrate completed.
        container('main', 'test -f /shared/migrated || { echo "not migrated"; exit 1; }; exec sleep 3600'),
        container('migrate', migrate, { before: { main: { ready: 'complete' } } }),
      ]);

    it('runs a container others wait for to completion first, then leaves it completed, not restarted', async () => {
      await runtime.deploy(
        target,
        migrating('m1', 'echo migrating; sleep 1; echo run >> /shared/runs; echo yes > /shared/migrated'),
        testContext(),
      );
      expect(await runtime.waitReady(target, 'api', testContext(), { stableMs: 1_500 })).toEqual({
        ready: true,
      });
      expect(inspect('api-migrate')).toMatchObject({
        State: { Status: 'exited', ExitCode: 0 },
        RestartCount: 0,
        HostConfig: { RestartPolicy: { Name: 'no' } },
      });
      const [status] = await runtime.status(target, testContext());
      expect(status).toMatchObject({ workload: 'api', state: 'ready', restarts: 0 });
      expect(status?.containers.find((entry) => entry.name === 'migrate')).toMatchObject({
        state: 'completed',
        lastExit: expect.stringMatching(/^exited with code 0 at /),
      });

      // The same version again keeps it as it is: the migration does not run again.
      await runtime.deploy(
        target,
        migrating('m1', 'echo migrating; sleep 1; echo run >> /shared/runs; echo yes > /shared/migrated'),
        testContext(),
      );
      expect(readFileSync(join(shared, 'runs'), 'utf8')).toBe('run\n');
    }, 60_000);

    it('fails the deploy with the exit code and last log lines when it exits otherwise, leaving the old version', async () => {
      const failing = migrating(
        'm2',
        'echo "applying 0042_orders"; echo "relation orders exists" >&2; exit 3',
      );
      await expect(runtime.deploy(target, failing, testContext())).rejects.toThrow(
        /container "migrate" exited with code 3[^]*container "main"[^]*relation orders exists/,
      );
      // Without ports the old version kept running while the new one migrated, and is back as it was.
      const [status] = await runtime.status(target, testContext());
      expect(status).toMatchObject({ hash: 'm1', state: 'ready' });
    }, 60_000);

    it('starts a container only once the one it waits for to be healthy passes its probe', async () => {
      const serving = workload('web', 'w1', [
        // main asks the cache on localhost at once, or exits: it must start only after the cache answers.
        container('main', 'wget -q -O - http://127.0.0.1:8081/ || exit 1; exec sleep 3600'),
        container(
          'cache',
          'sleep 1; mkdir -p /www; echo cached > /www/index.html; exec httpd -f -p 8081 -h /www',
          {
            before: { main: { ready: 'healthy' } },
            readinessProbe: {
              exec: { command: ['wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8081/'] },
            },
          },
        ),
      ]);
      await runtime.deploy(target, serving, testContext());
      expect(await runtime.waitReady(target, 'web', testContext(), { stableMs: 1_500 })).toEqual({
        ready: true,
      });
      expect(inspect('web-main')).toMatchObject({ State: { Status: 'running' }, RestartCount: 0 });
      expect(inspect('web-cache').HostConfig.RestartPolicy.Name).toBe('unless-stopped');
    }, 60_000);

    it('refuses before naming a container the workload lacks, changing nothing', async () => {
      const before = names();
      await expect(
        runtime.deploy(
          target,
          workload('bad', 'b1', [
            container('main', 'sleep 3600', { before: { mian: { ready: 'started' } } }),
          ]),
          testContext(),
        ),
      ).rejects.toMatchObject({
        name: 'InputError',
        errors: [{ path: 'containers.main.before.mian', message: expect.stringContaining('"mian"') }],
      });
      expect(names()).toEqual(before);
    });
  },
);
