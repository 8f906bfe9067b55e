import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentStatus } from '@pave/core';
import { makeAppDir } from '../support/app-dir.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually, processesIn } from '../support/processes.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

// An app that keeps one value in its embedded Redis: PUT /?value=V stores it, GET / answers it.
const SERVER_JS = `
const http = require('node:http');
const Redis = require('ioredis');
const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
const key = process.env.REDIS_PREFIX + 'value';
http
  .createServer(async (request, response) => {
    try {
      const url = new URL(request.url, 'http://localhost');
      if (url.pathname === '/healthz') return response.end('ok\\n');
      if (request.method === 'PUT') await redis.set(key, url.searchParams.get('value'));
      response.end(\`\${await redis.get(key)}\\n\`);
    } catch (error) {
      response.statusCode = 500;
      response.end(\`\${error.message}\\n\`);
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: api
service:
  ports:
    web:
      port: 8080
containers:
  main:
    image: node:20
    command: ['node', 'server.js']
    variables:
      REDIS_URL: \${resources.cache.url}
      REDIS_PREFIX: \${resources.cache.prefix}
    readinessProbe:
      httpGet:
        path: /healthz
        port: 8080
resources:
  cache:
    type: redis
`;

describe('pave down', () => {
  let location: TestStoreLocation;
  let appDir: string;
  let server: PaveProcess | undefined;
  const pave = (...args: string[]) => runPave(args, clientEnv(server!.url, location.dataDir));
  const ok = async (...args: string[]) => {
    const result = await pave(...args);
    expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    return result;
  };
  const deploy = () =>
    ok('deploy', '-f', join(appDir, 'score.yaml'), '--app', 'shop', '--env', 'dev', '--wait');
  const apiUrl = async () => {
    const status = JSON.parse(
      (await ok('status', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as EnvironmentStatus;
    return status.workloads[0]!.urls[0]!;
  };
  /** The processes Pave left running: the workload's, the supervisor host's and redis-server's, by pid. */
  const leftRunning = () => ({
    workload: processesIn(appDir).map((p) => p.pid),
    supervisor: processesIn(join(location.dataDir, 'runtime', 'process')).map((p) => p.pid),
    // redis-server works in its --dir.
    redis: processesIn(join(location.dataDir, 'resources', 'redis', 'data')).map((p) => p.pid),
  });

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    appDir = makeAppDir('pave-down-');
    writeFileSync(join(appDir, 'server.js'), SERVER_JS);
    writeFileSync(join(appDir, 'package.json'), '{ "type": "commonjs" }\n');
    writeFileSync(join(appDir, 'score.yaml'), SCORE);
    // The app requires ioredis: let it find the repository's.
    symlinkSync(fileURLToPath(new URL('../../node_modules', import.meta.url)), join(appDir, 'node_modules'));
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    await ok('apps', 'create', 'shop');
    await ok('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    await deploy();
    const stored = await fetch(`${await apiUrl()}/?value=blue`, { method: 'PUT' });
    expect((await stored.text()).trim()).toBe('blue');
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    if (location) {
      await runPave(['down', '--data-dir', location.dataDir]);
      await location.cleanup();
    }
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  }, 60_000);

  it('refuses a directory that is not a Pave data directory, naming where it came from', async () => {
    const notPave = mkdtempSync(join(tmpdir(), 'pave-down-not-'));
    try {
      writeFileSync(join(notPave, 'notes.txt'), 'mine\n');
      const byFlag = await runPave(['down', '--data-dir', notPave]);
      expect(byFlag.code).toBe(2);
      expect(byFlag.stderr).toContain(
        `--data-dir: nothing to stop in ${notPave}: it is not a Pave data directory`,
      );
      const byVariable = await runPave(['down'], { PAVE_DATA_DIR: join(notPave, 'missing') });
      expect(byVariable.code).toBe(2);
      expect(byVariable.stderr).toContain(
        `PAVE_DATA_DIR: nothing to stop in ${join(notPave, 'missing')}: it does not exist`,
      );
      for (const result of [byFlag, byVariable]) expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(notPave, 'notes.txt'))).toBe(true);
    } finally {
      rmSync(notPave, { recursive: true, force: true });
    }
  });

  it('refuses while pave up serves the data directory, naming its pid, and stops nothing', async () => {
    const before = leftRunning();
    const result = await runPave(['down', '--data-dir', location.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`pave up (pid ${server!.child.pid}) is serving ${location.dataDir}`);
    expect(result.stderr).toContain('Ctrl-C');
    expect(leftRunning()).toEqual(before);
    expect((await (await fetch(await apiUrl())).text()).trim()).toBe('blue');
  });

  it('stops the workload, its supervisor and the embedded redis-server pave up left running, keeping the data', async () => {
    const running = leftRunning();
    expect(running.workload.length).toBeGreaterThan(0);
    expect(running.supervisor).toHaveLength(1);
    expect(running.redis).toHaveLength(1);
    await server!.stop();
    server = undefined;
    // They outlive pave up: that is what pave down is for.
    expect(leftRunning()).toEqual(running);

    const down = await runPave(['down', '--data-dir', location.dataDir]);
    expect(down.code, down.stderr).toBe(0);
    const lines = down.stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^stopped container main of workload shop\/dev\/api \(pid \d+\)$/),
      `stopped process supervisor (pid ${running.supervisor[0]})`,
      `stopped redis-server (pid ${running.redis[0]})`,
      expect.stringMatching(/^Stopped 3 processes; all data in .* is kept\./),
    ]);
    expect(leftRunning()).toEqual({ workload: [], supervisor: [], redis: [] });
    for (const kept of ['pave.db', 'resources/redis/data', 'runtime/process/shop/dev/api/workload.json']) {
      expect(existsSync(join(location.dataDir, kept)), kept).toBe(true);
    }

    const again = await runPave(['down', '-o', 'json'], { PAVE_DATA_DIR: location.dataDir });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ dataDir: location.dataDir, stopped: [] });
    const plain = await runPave(['down', '--data-dir', location.dataDir]);
    expect(plain.stdout).toBe(
      `Nothing was running on ${location.dataDir}: no workloads or embedded resource servers.\n`,
    );
  }, 60_000);

  // As after a reboot: the process runtime cannot restart a container by itself (its environment is never
  // written to disk), so the control plane deploys the current set again, as a restart by `system`.
  it('the next pave up starts the workloads pave down stopped by itself', async () => {
    server = await startPave(['--data-dir', location.dataDir]);
    const status = await eventually(
      async () => {
        const shown = JSON.parse(
          (await pave('status', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
        ) as EnvironmentStatus;
        const restarted = shown.currentDeployment?.kind === 'restart';
        return restarted && shown.workloads[0]?.state === 'ready' ? shown : undefined;
      },
      30_000,
      'the workload to run again',
    );
    expect(status.currentDeployment).toMatchObject({
      kind: 'restart',
      actor: 'system',
      status: 'succeeded',
      message: 'restart: the workloads were not running when Pave started',
    });
    expect((await (await fetch(status.workloads[0]!.urls[0]!)).text()).trim()).toBe('blue');
    expect(leftRunning().redis).toHaveLength(1);
    const insights = JSON.parse(
      (await ok('insights', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as { deploymentFrequency: { deployments: number } };
    expect(insights.deploymentFrequency.deployments).toBe(1);
  }, 60_000);

  it('after the next pave up, deploying again runs the app with the data it kept', async () => {
    server ??= await startPave(['--data-dir', location.dataDir]);
    await deploy();
    expect((await (await fetch(await apiUrl())).text()).trim()).toBe('blue');
    expect(leftRunning().redis).toHaveLength(1);
  }, 60_000);
});
