import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLine, RenderedPort, RenderedWorkload, RuntimeTarget } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/index.ts';
import {
  buildBusyboxImage,
  podman,
  podmanAvailable,
  startPodmanService,
  type PodmanService,
} from '../../../test/support/podman.ts';
import { eventually, freePort, httpText, port, testContext, workload } from './support.ts';

const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** The test app: busybox httpd answering with $GREETING on $PORT, /healthz for the readiness probe. */
const SERVE_SH = [
  '#!/bin/sh',
  'mkdir -p /www',
  'echo "$GREETING" > /www/index.html',
  'echo ok > /www/healthz',
  'echo "listening on $PORT"',
  'exec httpd -f -p "$PORT" -h /www',
  '',
].join('\n');

/** Asks the API every 0.3 s and logs a numbered answer, so lost or repeated log lines show. */
const WORKER_LOOP =
  'i=0; while true; do i=$((i+1)); echo "tick $i heard: $(wget -qO- http://$API_HOST:$API_PORT/)"; sleep 0.3; done';

describe.skipIf(!podmanAvailable())(
  "DockerRuntime on Podman's Docker API (skipped without podman, busybox-static and root: see docs/runtimes.md)",
  () => {
    let service: PodmanService;
    let runtime: DockerRuntime;
    let image: string;
    let dataDir: string;
    let volumeDir: string;
    let apiPort: RenderedPort;
    const app = `dk${run}`;
    const target: RuntimeTarget = { app, env: 'test' };
    const ctx = testContext();

    const containerNames = (filter = `label=dev.pave.app=${app}`) =>
      podman(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])
        .trim()
        .split('\n')
        .filter(Boolean)
        .sort();
    const containerOf = (name: string) =>
      JSON.parse(podman(['inspect', '--type', 'container', name]))[0] as {
        Id: string;
        State: { StartedAt: string };
        Config: { Labels: Record<string, string> };
      };
    const workloadContainers = (name: string) =>
      containerNames(`label=dev.pave.workload=${name}`).filter((entry) => entry.includes(app));
    const networks = () =>
      podman(['network', 'ls', '--format', '{{.Name}}'])
        .split('\n')
        .filter((name) => name.includes(app));
    const api = (greeting: string, hash: string): RenderedWorkload =>
      workload(
        'api',
        hash,
        {
          image,
          command: ['/app/serve.sh'],
          env: { GREETING: greeting, PORT: '8080' },
          readinessProbe: { httpGet: { port: apiPort.hostPort, path: '/healthz' } },
          resources: { limits: { memory: '64Mi', cpu: '500m' } },
        },
        [apiPort],
      );
    const worker = (hash: string, extra: Record<string, string> = {}): RenderedWorkload => {
      const address = runtime.serviceAddress(target, 'api', apiPort);
      return workload('worker', hash, {
        image,
        command: ['/bin/sh', '-c'],
        args: [WORKER_LOOP],
        env: { API_HOST: address.hostname, API_PORT: String(address.port), ...extra },
      });
    };
    const collect = async (lines: AsyncIterable<LogLine>) => {
      const all: LogLine[] = [];
      for await (const line of lines) all.push(line);
      return all;
    };
    const ticks = (lines: LogLine[]) =>
      lines.flatMap((line) => {
        const match = /^tick (\d+) heard: (.*)$/.exec(line.line);
        return match ? [{ tick: Number(match[1]), heard: match[2] ?? '' }] : [];
      });

    beforeAll(async () => {
      service = await startPodmanService();
      image = buildBusyboxImage(`pave-runtime-docker-${run}`, 'v1', { '/app/serve.sh': SERVE_SH });
      dataDir = mkdtempSync(join(tmpdir(), 'pave-docker-data-'));
      volumeDir = mkdtempSync(join(tmpdir(), 'pave-docker-volume-'));
      mkdirSync(join(volumeDir, 'public'));
      writeFileSync(join(volumeDir, 'public', 'page.txt'), 'from the volume\n');
      apiPort = port('web', 8080, await freePort());
      runtime = DockerRuntime.fromConfig({ socketPath: service.socketPath, dataDir, stopGraceMs: 2_000 });
    }, 60_000);

    afterAll(async () => {
      for (const env of ['test', 'other'])
        await runtime?.destroy({ app, env }, testContext()).catch(() => {});
      for (const name of containerNames()) podman(['rm', '-f', '-t', '0', name]);
      for (const name of networks()) podman(['network', 'rm', '-f', name]);
      if (image) podman(['rmi', '-f', image]);
      await service?.stop();
      for (const dir of [dataDir, volumeDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('deploys a workload that answers on 127.0.0.1 at its host port, named and labelled for its environment', async () => {
      await runtime.deploy(target, api('hello', 'h1'), ctx);
      expect(await runtime.waitReady(target, 'api', ctx)).toEqual({ ready: true });
      expect(await httpText(`http://127.0.0.1:${apiPort.hostPort}/`)).toBe('200 hello');
      expect(containerNames()).toEqual([`pave-${app}-test-api-main`]);
      expect(networks()).toEqual([`pave-${app}-test`]);
      expect(containerOf(`pave-${app}-test-api-main`).Config.Labels).toMatchObject({
        'dev.pave.app': app,
        'dev.pave.env': 'test',
        'dev.pave.workload': 'api',
        'dev.pave.container': 'main',
        'dev.pave.deployment': 'dep-h1',
        'dev.pave.hash': 'h1',
      });
    });

    it('lets a second workload reach the first by its service address on the environment network', async () => {
      expect(runtime.serviceAddress(target, 'api', apiPort)).toEqual({ hostname: 'api', port: 8080 });
      await runtime.deploy(target, worker('w1'), ctx);
      // It has no readiness probe: a short stability window keeps the test fast.
      expect(await runtime.waitReady(target, 'worker', ctx, { stableMs: 300 })).toEqual({ ready: true });
      await eventually(
        async () => {
          const lines = await collect(
            runtime.logs(target, { workload: 'worker', tail: 5, follow: false }, ctx),
          );
          return ticks(lines).some((tick) => tick.heard === 'hello') ? true : undefined;
        },
        10_000,
        'the worker to hear the API',
      );
    });

    it('keeps a workload whose hash is unchanged running as it is', async () => {
      const before = containerOf(`pave-${app}-test-api-main`);
      await runtime.deploy(target, api('hello', 'h1'), ctx);
      const after = containerOf(`pave-${app}-test-api-main`);
      expect(after.Id).toBe(before.Id);
      expect(after.State.StartedAt).toBe(before.State.StartedAt);
    });

    it('reports both workloads, ready, with their published ports', async () => {
      const statuses = await runtime.status(target, ctx);
      expect(statuses.map((status) => [status.workload, status.state, status.hash])).toEqual([
        ['api', 'ready', 'h1'],
        ['worker', 'ready', 'w1'],
      ]);
      expect(statuses[0]?.ports).toEqual([apiPort]);
      expect(statuses[0]?.deploymentId).toBe('dep-h1');
      expect(statuses[0]?.containers).toMatchObject([{ name: 'main', state: 'running', restarts: 0 }]);
      expect(statuses[1]?.ports).toEqual([]);
    });

    it('tails the last lines of a log and follows it without losing or repeating a line', async () => {
      // The worker logs a line a tick: on a fast machine this test can come before its third.
      const tail = await eventually(
        async () => {
          const lines = await collect(
            runtime.logs(target, { workload: 'worker', tail: 3, follow: false }, ctx),
          );
          return lines.length >= 3 ? lines : undefined;
        },
        10_000,
        'three lines in the worker log',
      );
      expect(tail).toHaveLength(3);
      expect(tail[0]).toMatchObject({ workload: 'worker', container: 'main', stream: 'stdout' });
      expect(Date.parse(tail[0]?.at ?? '')).toBeGreaterThan(Date.now() - 60_000);

      const controller = new AbortController();
      const followed: LogLine[] = [];
      const done = (async () => {
        const follow = testContext({ signal: controller.signal });
        for await (const line of runtime.logs(
          target,
          { workload: 'worker', tail: 4, follow: true },
          follow,
        )) {
          followed.push(line);
          if (followed.length >= 10) controller.abort();
        }
      })();
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      controller.abort();
      await done;
      const numbers = ticks(followed).map((tick) => tick.tick);
      expect(numbers.length).toBeGreaterThanOrEqual(10);
      // Consecutive: the 4 tailed lines, then every later one exactly once.
      expect(numbers).toEqual(numbers.map((_, index) => (numbers[0] ?? 0) + index));
    });

    it('replaces the running version when the hash changes: new answer, new hash label', async () => {
      const before = containerOf(`pave-${app}-test-api-main`);
      await runtime.deploy(target, api('bonjour', 'h2'), ctx);
      expect(await runtime.waitReady(target, 'api', ctx)).toEqual({ ready: true });
      expect(await httpText(`http://127.0.0.1:${apiPort.hostPort}/`)).toBe('200 bonjour');
      const after = containerOf(`pave-${app}-test-api-main`);
      expect(after.Id).not.toBe(before.Id);
      expect(after.Config.Labels['dev.pave.hash']).toBe('h2');
      expect(workloadContainers('api')).toEqual([`pave-${app}-test-api-main`]);
      // The worker reaches the new container by the same name.
      await eventually(
        async () => {
          const lines = await collect(
            runtime.logs(target, { workload: 'worker', tail: 3, follow: false }, ctx),
          );
          return ticks(lines).some((tick) => tick.heard === 'bonjour') ? true : undefined;
        },
        10_000,
        'the worker to hear the new version',
      );
    });

    it('starts a new version of a workload without ports before removing the old one, and keeps the old one when the new one fails', async () => {
      const first = containerOf(`pave-${app}-test-worker-main`);
      // The engine refuses the new version's second container (a memory limit below its minimum):
      // the deployment fails part way. (A name held by a container of another program is refused before
      // anything changes: see isolation.test.ts.)
      const broken = worker('w-broken');
      broken.containers.push({
        ...broken.containers[0]!,
        name: 'sidecar',
        resources: { limits: { memory: '1Ki' } },
      });
      await expect(runtime.deploy(target, broken, ctx)).rejects.toThrow(
        /(creating|starting) container "sidecar" failed/,
      );
      expect(workloadContainers('worker')).toEqual([`pave-${app}-test-worker-main`]);
      expect(containerOf(`pave-${app}-test-worker-main`).Id).toBe(first.Id);

      await runtime.deploy(target, worker('w2', { EXTRA: 'yes' }), ctx);
      const second = containerOf(`pave-${app}-test-worker-main`);
      expect(second.Id).not.toBe(first.Id);
      expect(second.Config.Labels['dev.pave.hash']).toBe('w2');
      expect(workloadContainers('worker')).toEqual([`pave-${app}-test-worker-main`]);
    });

    it('asks the engine again when a read lost a race with an exiting process, a bounded number of times', async () => {
      // In front of Podman's socket, a proxy fails container listings and inspections the way Podman 4.3 does
      // when a container's process exits while it looks (seen in CI with a crash-looping container), and
      // forwards everything else.
      const proxyDir = mkdtempSync(join(tmpdir(), 'pave-docker-proxy-'));
      const socketPath = join(proxyDir, 'engine.sock');
      const failures = { list: 0, inspect: 0 };
      const proxy = createServer((request, response) => {
        const path = request.url ?? '/';
        const kind = /\/containers\/json(\?|$)/.test(path)
          ? 'list'
          : /\/containers\/[^/]+\/json(\?|$)/.test(path)
            ? 'inspect'
            : null;
        if (kind && failures[kind] > 0) {
          failures[kind] -= 1;
          response.writeHead(500, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              cause: 'no such process',
              message: 'read /proc/4242/cgroup: no such process',
              response: 500,
            }),
          );
          return;
        }
        const upstream = httpRequest(
          { socketPath: service.socketPath, path, method: request.method, headers: request.headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        upstream.on('error', (error) => response.destroy(error));
        request.pipe(upstream);
      });
      await new Promise<void>((resolve) => proxy.listen(socketPath, resolve));
      const raced = workload('raced', 'r1', { image, command: ['/bin/sh', '-c', 'sleep 300'] });
      try {
        await runtime.deploy(target, raced, ctx);
        const behind = DockerRuntime.fromConfig({ socketPath, dataDir, stopGraceMs: 2_000 });
        // Two listings and an inspection fail: each is asked again, and status answers as if none had.
        failures.list = 2;
        failures.inspect = 1;
        const statuses = await behind.status(target, ctx);
        expect(statuses.map((status) => status.workload)).toContain('raced');
        expect(failures).toEqual({ list: 0, inspect: 0 });
        // Three in a row: the engine's answer reaches the caller, naming what failed.
        failures.list = 3;
        await expect(behind.status(target, ctx)).rejects.toThrow(
          'listing containers failed: read /proc/4242/cgroup: no such process',
        );
      } finally {
        await runtime.remove(target, 'raced', ctx);
        await new Promise((resolve) => proxy.close(resolve));
        rmSync(proxyDir, { recursive: true, force: true });
      }
    });

    it('reports a container that exits as not ready, with its exit code and last log lines', async () => {
      await runtime.deploy(
        target,
        workload('crasher', 'c1', {
          image,
          command: ['/bin/sh', '-c', 'echo starting up; echo "something broke" >&2; sleep 0.2; exit 3'],
        }),
        ctx,
      );
      const result = await runtime.waitReady(target, 'crasher', ctx);
      expect(result).toMatchObject({
        ready: false,
        reason: expect.stringMatching(/container "main" exited with code 3/),
      });
      if (result.ready) return;
      expect(result.lastLogs).toContain('something broke');
      expect(result.lastLogs.length).toBeLessThanOrEqual(20);
      // Once the engine has restarted it (Podman then shows exit code 0), the code still comes out right.
      const name = `pave-${app}-test-crasher-main`;
      await eventually(
        () =>
          Number(podman(['inspect', '--format', '{{.RestartCount}}', name]).trim()) >= 2 ? true : undefined,
        10_000,
        'the engine to restart the crashing container',
      );
      const later = await runtime.waitReady(target, 'crasher', ctx);
      expect(later).toMatchObject({ ready: false, reason: expect.stringMatching(/exited with code 3/) });
      if (!later.ready)
        expect(later.lastLogs.filter((entry) => entry === 'something broke').length).toBeGreaterThan(1);
      const status = (await runtime.status(target, ctx)).find((entry) => entry.workload === 'crasher');
      expect(status?.state).toBe('crash-looping');
      await runtime.remove(target, 'crasher', ctx);
    });

    it('does not count a container without a probe as ready when it exits inside the stability window', async () => {
      const exitLater = (hash: string) =>
        workload('flaky', hash, {
          image,
          command: ['/bin/sh', '-c', 'echo working; sleep 1.5; echo "lost the connection" >&2; exit 3'],
        });
      await runtime.deploy(target, exitLater('f1'), ctx);
      const started = Date.now();
      const result = await runtime.waitReady(target, 'flaky', ctx, { stableMs: 3_000 });
      expect(result).toMatchObject({
        ready: false,
        reason: expect.stringMatching(/^container "main" exited with code 3/),
      });
      if (result.ready) return;
      expect(result.lastLogs).toEqual(expect.arrayContaining(['working', 'lost the connection']));
      // Said when the container exited, not when waiting timed out (after 60 s here).
      expect(Date.now() - started).toBeLessThan(10_000);
      await runtime.remove(target, 'flaky', ctx);

      // The same container, given a window it lasts through, is ready.
      await runtime.deploy(target, exitLater('f2'), ctx);
      expect(await runtime.waitReady(target, 'flaky', ctx, { stableMs: 500 })).toEqual({ ready: true });
      await runtime.remove(target, 'flaky', ctx);
    });

    it('counts a container with a probe as ready as soon as the probe passes, whatever the stability window', async () => {
      await runtime.deploy(
        target,
        workload('probed', 'p1', {
          image,
          command: ['/bin/sh', '-c', 'touch /ready; while true; do sleep 1; done'],
          readinessProbe: { exec: { command: ['/bin/sh', '-c', 'test -f /ready'] } },
        }),
        ctx,
      );
      const started = Date.now();
      expect(await runtime.waitReady(target, 'probed', ctx, { stableMs: 60_000 })).toEqual({ ready: true });
      expect(Date.now() - started).toBeLessThan(10_000);
      await runtime.remove(target, 'probed', ctx);
    });

    it('runs exec readiness probes inside the container and stops waiting when the signal aborts', async () => {
      await runtime.deploy(
        target,
        workload('waiter', 'x1', {
          image,
          command: ['/bin/sh', '-c', 'while true; do sleep 1; done'],
          readinessProbe: { exec: { command: ['/bin/sh', '-c', 'test -f /ready'] } },
        }),
        ctx,
      );
      const started = Date.now();
      const waiting = await runtime.waitReady(
        target,
        'waiter',
        testContext({ signal: AbortSignal.timeout(1_000) }),
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(waiting).toMatchObject({ ready: false });
      if (!waiting.ready)
        expect(waiting.reason).toMatch(
          /timed out after \d+ s: .*readiness probe \/bin\/sh: exited with code 1/,
        );
      expect((await runtime.status(target, ctx)).find((entry) => entry.workload === 'waiter')?.state).toBe(
        'running',
      );
      podman(['exec', `pave-${app}-test-waiter-main`, 'sh', '-c', 'echo > /ready']);
      expect(await runtime.waitReady(target, 'waiter', ctx)).toEqual({ ready: true });
      expect((await runtime.status(target, ctx)).find((entry) => entry.workload === 'waiter')?.state).toBe(
        'ready',
      );
      await runtime.remove(target, 'waiter', ctx);
    });

    it('mounts files (with their modes) and volumes into the container', async () => {
      const other: RuntimeTarget = { app, env: 'other' };
      const staticPort = port('web', 8080, await freePort());
      await runtime.deploy(
        other,
        workload(
          'static',
          's1',
          {
            image,
            command: ['/app/serve.sh'],
            env: { GREETING: 'static', PORT: '8080' },
            files: [
              { target: '/www/config.txt', content: 'from a file\n', mode: '0644' },
              { target: '/www/secret.txt', content: 'c2VjcmV0Cg==', binary: true },
            ],
            volumes: [{ source: join(volumeDir, 'public'), target: '/www/data', readOnly: true }],
          },
          [staticPort],
        ),
        ctx,
      );
      expect(await runtime.waitReady(other, 'static', ctx)).toEqual({ ready: true });
      const url = `http://127.0.0.1:${staticPort.hostPort}`;
      expect(await httpText(`${url}/config.txt`)).toBe('200 from a file');
      expect(await httpText(`${url}/secret.txt`)).toBe('200 secret');
      expect(await httpText(`${url}/data/page.txt`)).toBe('200 from the volume');
      const files = join(dataDir, 'runtime/docker', app, 'other/static/main/files/www');
      expect(statSync(join(files, 'config.txt')).mode & 0o777).toBe(0o644);
      expect(statSync(join(files, 'secret.txt')).mode & 0o777).toBe(0o600);

      await runtime.remove(other, 'static', ctx);
      expect(containerNames(`label=dev.pave.env=other`).filter((name) => name.includes(app))).toEqual([]);
      expect(() => statSync(join(dataDir, 'runtime/docker', app, 'other/static'))).toThrow();
      await runtime.remove(other, 'static', ctx); // removing what is not there succeeds
      expect(await runtime.status(other, ctx)).toEqual([]);
    });

    it('refuses the `.` image (with the reason check gives) and an image it cannot pull, leaving nothing behind', async () => {
      const dot = workload('dotted', 'd1', { image: '.' });
      const [reason] = runtime.check(dot).map((failure) => failure.reason);
      expect(reason).toMatch(/build one .* and deploy it with `pave deploy --image web:dev`/);
      await expect(runtime.deploy(target, dot, ctx)).rejects.toMatchObject({
        name: 'InputError',
        message: `the docker runtime cannot run workload "dotted": ${reason}`,
        errors: [{ path: 'containers.main.image', message: reason }],
      });
      const missing = workload('missing', 'm1', { image: `localhost/pave-no-such-image-${run}:never` });
      await expect(runtime.deploy(target, missing, ctx)).rejects.toThrow(
        new RegExp(`image "localhost/pave-no-such-image-${run}:never".*no registry may be reachable`),
      );
      expect(workloadContainers('missing')).toEqual([]);
    });

    it('destroys every container and the network of the environment, and may be called again', async () => {
      await runtime.destroy(target, ctx);
      expect(containerNames(`label=dev.pave.env=test`).filter((name) => name.includes(app))).toEqual([]);
      expect(networks()).toEqual([`pave-${app}-other`]);
      expect(await runtime.status(target, ctx)).toEqual([]);
      await runtime.destroy(target, ctx);
    });
  },
);
