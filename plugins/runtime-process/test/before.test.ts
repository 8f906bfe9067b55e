import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { RenderedContainer, RenderedWorkload, RuntimeTarget } from '@pave/plugin-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../src/index.ts';
import { freePort, port, testContext } from './support.ts';

/*
 * Found by a Score-conformance review: `containers.*.before` was ignored. A `migrate` container that exits 0
 * with `before: { main: { ready: complete } }` was started together with main, restarted as a crash, and its
 * exit failed the deployment (`container "migrate" exited with code 0`). The containers others wait for must
 * start first and be what `ready` asks for before those start; one that completed is not restarted.
 *
 * The supervisor host is bundled here from this source (not packages/cli/dist), since it is what runs a
 * container to completion.
 */

let root: string;
let dataDir: string;
let app: string;
let shared: string;
let supervisorScript: string;
let counter = 0;
const targets: RuntimeTarget[] = [];

const SCRIPTS: Record<string, string> = {
  // Appends a run, then marks the migration done (or fails with FAIL_WITH).
  'migrate.cjs': `
const fs = require('node:fs');
const path = require('node:path');
console.log('applying 0042_orders');
fs.appendFileSync(path.join(process.env.SHARED, 'runs'), 'run\\n');
setTimeout(() => {
  if (process.env.FAIL_WITH) { console.error('relation orders already exists'); process.exit(Number(process.env.FAIL_WITH)); }
  fs.writeFileSync(path.join(process.env.SHARED, 'migrated'), 'yes');
  console.log('migrated');
}, 300);
`,
  // Exits at once unless the migration is done: it must start after it.
  'main.cjs': `
const fs = require('node:fs');
const path = require('node:path');
if (!fs.existsSync(path.join(process.env.SHARED, 'migrated'))) { console.error('not migrated'); process.exit(1); }
console.log('serving');
setInterval(() => {}, 1000);
`,
  // Listens on $PORT after a while.
  'cache.cjs': `
const http = require('node:http');
setTimeout(() => http.createServer((req, res) => res.end('cached')).listen(Number(process.env.PORT), '127.0.0.1'), 400);
`,
  // Exits at once unless the cache answers: it must start once the cache is healthy.
  'client.cjs': `
const net = require('node:net');
const socket = net.connect(Number(process.env.PORT), '127.0.0.1');
socket.on('connect', () => { console.log('cache answers'); socket.end(); setInterval(() => {}, 1000); });
socket.on('error', () => { console.error('no cache'); process.exit(1); });
`,
};

/** A runtime that would restart an exited process after 100 ms: a completed one must not be. */
function newRuntime(): ProcessRuntime {
  return ProcessRuntime.fromConfig({
    dataDir,
    supervisorScript,
    readyTimeoutMs: 15_000,
    stopGraceMs: 1_000,
    restartBackoff: { initialMs: 100, maxMs: 100, resetAfterMs: 10_000 },
  });
}

function newTarget(): RuntimeTarget {
  counter += 1;
  const target = { app: 'shop', env: `before-${process.pid}-${counter}` };
  targets.push(target);
  return target;
}

function container(name: string, script: string, extra: Partial<RenderedContainer> = {}): RenderedContainer {
  return {
    name,
    image: 'node:20',
    command: [process.execPath, join(app, script)],
    env: { SHARED: shared, ...extra.env },
    files: [],
    workingDir: app,
    ...extra,
    ...(extra.env ? { env: { SHARED: shared, ...extra.env } } : {}),
  };
}

function workload(name: string, hash: string, containers: RenderedContainer[], ports = []): RenderedWorkload {
  return { name, hash, deploymentId: `dep-${hash}`, ports, containers };
}

function stateOf(target: RuntimeTarget, workloadName: string, containerName: string) {
  const file = join(
    dataDir,
    'runtime',
    'process',
    target.app,
    target.env,
    workloadName,
    'state',
    `${containerName}.json`,
  );
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : null;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pave-process-before-'));
  dataDir = join(root, 'data');
  app = join(root, 'app');
  mkdirSync(app);
  for (const [name, content] of Object.entries(SCRIPTS)) writeFileSync(join(app, name), content);
  supervisorScript = join(root, 'dist', 'process-supervisor.js');
  await build({
    entryPoints: [fileURLToPath(new URL('../src/supervisor/main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: supervisorScript,
    logLevel: 'warning',
  });
});

afterEach(async () => {
  const runtime = newRuntime();
  for (const target of targets.splice(0)) await runtime.destroy(target, testContext());
  if (shared) rmSync(shared, { recursive: true, force: true });
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('before in the process runtime', () => {
  const migrating = (hash: string, failWith?: string) =>
    workload('api', hash, [
      container('main', 'main.cjs'),
      container('migrate', 'migrate.cjs', {
        before: { main: { ready: 'complete' } },
        ...(failWith ? { env: { FAIL_WITH: failWith } } : {}),
      }),
    ]);

  it('runs a container others wait for to completion first, and does not restart it after', async () => {
    shared = mkdtempSync(join(root, 'shared-'));
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(target, migrating('m1'), testContext());
    expect(await runtime.waitReady(target, 'api', testContext(), { stableMs: 500 })).toEqual({ ready: true });

    // The supervisor recorded it as exited for good: no restart is coming.
    expect(stateOf(target, 'api', 'migrate')).toMatchObject({
      status: 'exited',
      restarts: 0,
      nextRestartAt: null,
      lastExit: { code: 0, signal: null },
    });
    const [status] = await runtime.status(target, testContext());
    expect(status).toMatchObject({ workload: 'api', state: 'ready', restarts: 0 });
    expect(status?.containers).toEqual([
      expect.objectContaining({ name: 'main', state: 'running' }),
      expect.objectContaining({
        name: 'migrate',
        state: 'completed',
        lastExit: expect.stringMatching(/^exited with code 0 at /),
      }),
    ]);

    // The same version again keeps it as it is: the migration does not run again.
    await runtime.deploy(target, migrating('m1'), testContext());
    expect(readFileSync(join(shared, 'runs'), 'utf8')).toBe('run\n');
    expect(await runtime.waitReady(target, 'api', testContext(), { stableMs: 0 })).toEqual({ ready: true });
  }, 30_000);

  it('fails the deploy with the exit code and the last log lines when it exits otherwise, starting nothing after it', async () => {
    shared = mkdtempSync(join(root, 'shared-'));
    const runtime = newRuntime();
    const target = newTarget();
    await expect(runtime.deploy(target, migrating('m2', '3'), testContext())).rejects.toThrow(
      /container "migrate" exited with code 3[^]*container "main"[^]*relation orders already exists/,
    );
    expect(stateOf(target, 'api', 'main')).toBeNull();
    expect(await runtime.status(target, testContext())).toEqual([]);
    expect(readFileSync(join(shared, 'runs'), 'utf8')).toBe('run\n');
  }, 30_000);

  it('starts a container once the one it waits for to be healthy passes its readiness probe', async () => {
    shared = mkdtempSync(join(root, 'shared-'));
    const runtime = newRuntime();
    const target = newTarget();
    const web = port('web', await freePort());
    const serving = workload(
      'web',
      'w1',
      [
        container('main', 'client.cjs'),
        container('cache', 'cache.cjs', {
          before: { main: { ready: 'healthy' } },
          readinessProbe: { httpGet: { port: web.hostPort, path: '/' } },
        }),
      ],
      [web] as never,
    );
    await runtime.deploy(target, serving, testContext());
    expect(await runtime.waitReady(target, 'web', testContext(), { stableMs: 500 })).toEqual({ ready: true });
    expect(stateOf(target, 'web', 'main')).toMatchObject({ status: 'running', restarts: 0 });
  }, 30_000);

  it('refuses before naming a container the workload lacks, starting nothing', async () => {
    shared = mkdtempSync(join(root, 'shared-'));
    const runtime = newRuntime();
    const target = newTarget();
    await expect(
      runtime.deploy(
        target,
        workload('bad', 'b1', [container('main', 'main.cjs', { before: { mian: { ready: 'started' } } })]),
        testContext(),
      ),
    ).rejects.toMatchObject({
      name: 'InputError',
      errors: [{ path: 'containers.main.before.mian', message: expect.stringContaining('"mian"') }],
    });
    expect(await runtime.status(target, testContext())).toEqual([]);
  });
});
