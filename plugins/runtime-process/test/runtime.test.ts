import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { LogLine, RuntimeTarget, WorkloadStatus } from '@pave/plugin-api';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime, type ProcessRuntimeConfig } from '../src/index.ts';
import {
  CONTROL_PLANE,
  bundleFiles,
  copySupervisor,
  FIXTURES,
  freePort,
  httpText,
  isAlive,
  nodeWorkload,
  port,
  testContext,
  waitFor,
} from './support.ts';

let root: string;
let dataDir: string;
let fixtures: string;
const targets: RuntimeTarget[] = [];
const strangers: ChildProcess[] = [];
let counter = 0;
/** A bundled control plane that deploys one workload, waits until it is ready, then dies (see beforeAll). */
let controlPlaneScript: string;
let supervisorScript: string;

/** A runtime with short delays, so crash loops and stops fit in a test. */
function newRuntime(overrides: Partial<ProcessRuntimeConfig> = {}): ProcessRuntime {
  return ProcessRuntime.fromConfig({
    dataDir,
    supervisorScript,
    readyTimeoutMs: 15_000,
    stopGraceMs: 2_000,
    restartBackoff: { initialMs: 200, maxMs: 2_000, resetAfterMs: 10_000 },
    ...overrides,
  });
}

/** A short stability window for workloads without a probe, so the tests that only need them running stay fast. */
const SHORT_WINDOW = { stableMs: 300 };
/** The supervisor host exits about 2 s after it last supervised a container; this allows for a busy machine. */
const HOST_GONE_MS = 8_000;

/** The supervisor hosts of this file's data directory, by pid (their title names their socket). */
/** Whether `numbers`, in any order, are consecutive integers, each once. */
function consecutive(numbers: number[]): boolean {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.every((n, index) => n === sorted[0]! + index);
}

function supervisorHosts(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(`pave-supervisor ${hostSocket()}`);
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(isAlive);
}

/** The socket of the supervisor host of this file's data directory. */
function hostSocket(): string {
  return join(dataDir, 'runtime', 'process', 'supervisor.sock');
}

/** Fields of /proc/<pid>/stat after the command: [state, ppid, pgrp, session, …]. */
function procStat(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A fresh app/env for one test; afterEach destroys it. */
function newTarget(): RuntimeTarget {
  counter += 1;
  const target = { app: 'shop', env: `test-${process.pid}-${counter}` };
  targets.push(target);
  return target;
}

function workloadDir(target: RuntimeTarget, workload: string): string {
  return join(dataDir, 'runtime', 'process', target.app, target.env, workload);
}

function stateOf(target: RuntimeTarget, workload: string, container = 'main') {
  return JSON.parse(
    readFileSync(join(workloadDir(target, workload), 'state', `${container}.json`), 'utf8'),
  ) as {
    supervisor: { pid: number; startTime: number };
    child: { pid: number; startTime: number } | null;
  };
}

async function statusOf(
  runtime: ProcessRuntime,
  target: RuntimeTarget,
  workload: string,
): Promise<WorkloadStatus> {
  const status = (await runtime.status(target, testContext())).find((entry) => entry.workload === workload);
  if (!status) throw new Error(`no status for ${workload}`);
  return status;
}

async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const result: LogLine[] = [];
  for await (const line of lines) result.push(line);
  return result;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((entry) => join(dir, entry))
    .filter((path) => statSync(path).isFile());
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pave-process-runtime-'));
  supervisorScript = await copySupervisor(join(root, 'dist'));
  dataDir = join(root, 'data');
  fixtures = join(root, 'app');
  mkdirSync(fixtures);
  for (const [name, content] of Object.entries(FIXTURES)) writeFileSync(join(fixtures, name), content);
  controlPlaneScript = join(root, 'control-plane.mjs');
  await build({
    stdin: {
      contents: CONTROL_PLANE,
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: controlPlaneScript,
    // Bundled CommonJS dependencies (yaml) call require(): give the ES module one.
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
});

afterEach(async () => {
  const runtime = newRuntime();
  for (const target of targets.splice(0)) await runtime.destroy(target, testContext());
  for (const stranger of strangers.splice(0)) stranger.kill('SIGKILL');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('ProcessRuntime', () => {
  it('runs a workload that answers on its host port with its environment, ports and files', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const [web, admin] = [await freePort(), await freePort()];
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      env: { MESSAGE: 'hello from api' },
      ports: [port('web', web), port('admin-api', admin)],
      container: { files: [{ target: '/etc/app/config.txt', content: 'mode=test' }] },
    });

    const warnings: string[] = [];
    const deploying = testContext();
    await runtime.deploy(target, workload, {
      ...deploying,
      logger: { ...deploying.logger, warn: (message: string) => warnings.push(message) },
    });
    expect(await runtime.waitReady(target, 'api', testContext(), SHORT_WINDOW)).toEqual({ ready: true });
    // The file is not at its Score target, and the deployment says where it is instead.
    expect(warnings).toEqual([
      'container "main" of api: the process runtime does not place files and volumes at their Score targets: ' +
        'file /etc/app/config.txt is at $PAVE_FILES_DIR/etc/app/config.txt',
    ]);

    expect(await httpText(web)).toBe('hello from api');
    expect(JSON.parse(await httpText(web, '/ports'))).toEqual({
      PORT: String(web),
      PORT_ADMIN_API: String(admin),
    });
    expect(await httpText(web, '/file')).toBe('mode=test');
    const file = join(workloadDir(target, 'api'), 'files', 'main', 'etc', 'app', 'config.txt');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const status = await statusOf(runtime, target, 'api');
    expect(status).toMatchObject({
      state: 'ready',
      restarts: 0,
      hash: workload.hash,
      deploymentId: 'dep-api',
    });
    expect(status.ports.map((entry) => entry.hostPort)).toEqual([web, admin]);
    expect(status.containers[0]).toMatchObject({ name: 'main', state: 'running', restarts: 0 });
    expect(isAlive(status.containers[0]?.pid ?? -1)).toBe(true);
  });

  it('keeps the running processes when the same version is deployed again', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      env: { MESSAGE: 'v1' },
      ports: [port('web', await freePort())],
    });
    await runtime.deploy(target, workload, testContext());
    const before = (await statusOf(runtime, target, 'api')).containers[0]?.pid;

    await runtime.deploy(target, { ...workload, deploymentId: 'dep-again' }, testContext());
    expect(await runtime.waitReady(target, 'api', testContext(), SHORT_WINDOW)).toEqual({ ready: true });

    expect((await statusOf(runtime, target, 'api')).containers[0]?.pid).toBe(before);
  });

  it('replaces the processes when the environment changes, on the same host port', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const web = await freePort();
    const v1 = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      env: { MESSAGE: 'v1' },
      ports: [port('web', web)],
    });
    const v2 = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      env: { MESSAGE: 'v2' },
      ports: [port('web', web)],
    });
    await runtime.deploy(target, v1, testContext());
    expect(await runtime.waitReady(target, 'api', testContext(), SHORT_WINDOW)).toEqual({ ready: true });
    const before = (await statusOf(runtime, target, 'api')).containers[0]?.pid ?? -1;

    await runtime.deploy(target, v2, testContext());
    expect(await runtime.waitReady(target, 'api', testContext(), SHORT_WINDOW)).toEqual({ ready: true });

    expect(await httpText(web)).toBe('v2');
    expect(isAlive(before)).toBe(false);
    expect(await statusOf(runtime, target, 'api')).toMatchObject({
      state: 'ready',
      hash: v2.hash,
      restarts: 0,
    });
  });

  it('reports a process that exits at start as not ready, with its exit code and last log lines', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('migrate', { dir: fixtures, script: 'exit3.cjs', ports: [port('web', await freePort())] }),
      testContext(),
    );

    const result = await runtime.waitReady(target, 'migrate', testContext());

    expect(result).toMatchObject({
      ready: false,
      reason: 'container "main" exited with code 3',
    });
    expect(result.ready === false && result.lastLogs).toEqual(
      expect.arrayContaining(['connecting to the database', 'cannot connect to the database']),
    );
  });

  it('reports a process killed by a signal as not ready, with the signal', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('native', { dir: fixtures, script: 'segv.cjs' }),
      testContext(),
    );

    const result = await runtime.waitReady(target, 'native', testContext());

    expect(result).toMatchObject({
      ready: false,
      reason: 'container "main" killed by SIGSEGV',
    });
  });

  it('restarts a crashing process with growing delays and shows the crash loop in status', async () => {
    const runtime = newRuntime({ restartBackoff: { initialMs: 300, maxMs: 5_000, resetAfterMs: 10_000 } });
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'crash.cjs', env: { CRASH_AFTER_MS: '200' } }),
      testContext(),
    );

    // Each run lasts 200 ms; the pause before the next one doubles (300, 600, 1200 ms).
    const starts = await waitFor(
      async () => {
        const lines = await collect(
          runtime.logs(target, { workload: 'worker', follow: false }, testContext()),
        );
        const times = lines
          .filter((line) => line.line.startsWith('started at '))
          .map((line) => Number(line.line.slice('started at '.length)));
        return times.length >= 4 ? times : null;
      },
      15_000,
      'four starts',
    );
    const status = await statusOf(runtime, target, 'worker');

    expect(status.state).toBe('crash-looping');
    expect(status.restarts).toBeGreaterThanOrEqual(3);
    expect(status.containers[0]).toMatchObject({
      state: 'crash-looping',
      lastExit: expect.stringMatching(/^exited with code 1 at /),
    });
    expect(status.detail).toMatch(/container "main" exited with code 1/);
    const gaps = starts.slice(1).map((start, index) => start - (starts[index] ?? 0));
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    // Process start-up time varies on a busy machine, so compare the first and third pause (900 ms apart).
    expect(gaps[2]).toBeGreaterThan((gaps[0] ?? 0) + 500);
  });

  it('waits for an httpGet readiness probe that fails at first, and times out on one that keeps failing', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const [slow, never] = [await freePort(), await freePort()];
    const probe = (hostPort: number) => ({ httpGet: { port: hostPort, path: '/health' } });
    const started = Date.now();
    await runtime.deploy(
      target,
      nodeWorkload('slow', {
        dir: fixtures,
        script: 'flaky-health.cjs',
        env: { HEALTHY_AFTER_MS: '1000' },
        ports: [port('web', slow)],
        container: { readinessProbe: probe(slow) },
      }),
      testContext(),
    );
    await runtime.deploy(
      target,
      nodeWorkload('never', {
        dir: fixtures,
        script: 'flaky-health.cjs',
        env: { HEALTHY_AFTER_MS: '600000' },
        ports: [port('web', never)],
        container: { readinessProbe: probe(never) },
      }),
      testContext(),
    );

    expect(await runtime.waitReady(target, 'slow', testContext())).toEqual({ ready: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);

    const result = await runtime.waitReady(
      target,
      'never',
      testContext({ signal: AbortSignal.timeout(1_500) }),
    );
    expect(result).toMatchObject({
      ready: false,
      reason: expect.stringMatching(/^timed out after \d+ s: .*GET \/health.*: 500$/),
    });
  });

  it('waits for an exec readiness probe run with the container environment', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const check = "process.exit(require('fs').existsSync(process.env.PAVE_FILES_DIR + '/ready') ? 0 : 1)";
    const started = Date.now();
    await runtime.deploy(
      target,
      nodeWorkload('job', {
        dir: fixtures,
        script: 'ready-later.cjs',
        container: { readinessProbe: { exec: { command: [process.execPath, '-e', check] } } },
      }),
      testContext(),
    );

    expect(await runtime.waitReady(target, 'job', testContext())).toEqual({ ready: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('does not count a process without a probe as ready when it exits inside the stability window', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const started = Date.now();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'exit-later.cjs', env: { EXIT_AFTER_MS: '1500' } }),
      testContext(),
    );

    const result = await runtime.waitReady(target, 'worker', testContext(), { stableMs: 3_000 });

    expect(result).toMatchObject({
      ready: false,
      reason: 'container "main" exited with code 3',
    });
    expect(result.ready === false && result.lastLogs).toEqual(
      expect.arrayContaining(['working', 'lost the connection']),
    );
    // Said when the process exited, not when waiting timed out (after 15 s here).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('counts a process without a probe as ready once it has run for the stability window', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const started = Date.now();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'exit-later.cjs', env: { EXIT_AFTER_MS: '1500' } }),
      testContext(),
    );

    expect(await runtime.waitReady(target, 'worker', testContext(), { stableMs: 500 })).toEqual({
      ready: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  it('counts a probed process as ready as soon as its probe passes, whatever the stability window', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const web = await freePort();
    const started = Date.now();
    await runtime.deploy(
      target,
      nodeWorkload('api', {
        dir: fixtures,
        script: 'flaky-health.cjs',
        env: { HEALTHY_AFTER_MS: '0' },
        ports: [port('web', web)],
        container: { readinessProbe: { httpGet: { port: web, path: '/health' } } },
      }),
      testContext(),
    );

    expect(await runtime.waitReady(target, 'api', testContext(), { stableMs: 60_000 })).toEqual({
      ready: true,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('shows the last lines of the logs in time order, then follows new ones until aborted', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'worker.cjs' }),
      testContext(),
    );
    await waitFor(
      async () => (await collect(runtime.logs(target, { follow: false }, testContext()))).length >= 12,
      10_000,
      'twelve lines',
    );

    const tail = await collect(
      runtime.logs(target, { workload: 'worker', tail: 5, follow: false }, testContext()),
    );
    expect(tail).toHaveLength(5);
    // stdout and stderr are two pipes: a busy supervisor may read a stderr line after the stdout line written
    // after it, and time-stamps lines as it reads them. So the numbers are checked as a set: none lost, none twice.
    expect(consecutive(tail.map((line) => Number(line.line.split(' ')[1])))).toBe(true);
    expect(tail[0]).toMatchObject({ workload: 'worker', container: 'main' });
    expect(new Set(tail.map((line) => line.stream))).toEqual(new Set(['stdout', 'stderr']));
    expect([...tail].sort((a, b) => a.at.localeCompare(b.at))).toEqual(tail);

    const abort = new AbortController();
    const followed: LogLine[] = [];
    const lastTailed = Number(tail[4]?.line.split(' ')[1]);
    for await (const line of runtime.logs(
      target,
      { workload: 'worker', tail: 1, follow: true },
      testContext({ signal: abort.signal }),
    )) {
      followed.push(line);
      if (followed.length === 11) abort.abort();
    }
    const numbers = followed.map((line) => Number(line.line.split(' ')[1]));
    expect(Math.min(...numbers)).toBeGreaterThanOrEqual(lastTailed);
    expect(numbers).toHaveLength(11);
    expect(consecutive(numbers), `followed ${numbers.join(' ')}`).toBe(true);
  });

  it('rotates a full log file and follows it across rotations without losing a line', async () => {
    const runtime = newRuntime({ maxLogBytes: 8_000 });
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('chatty', { dir: fixtures, script: 'fast-worker.cjs' }),
      testContext(),
    );
    const abort = new AbortController();
    const numbers: number[] = [];
    const options = { workload: 'chatty', tail: 0, follow: true };
    for await (const line of runtime.logs(target, options, testContext({ signal: abort.signal }))) {
      numbers.push(Number(line.line.split(' ')[1]));
      if (numbers.length === 400) abort.abort();
    }

    expect(numbers).toEqual(numbers.map((_, index) => (numbers[0] ?? 0) + index));
    const logs = join(workloadDir(target, 'chatty'), 'logs');
    expect(statSync(join(logs, 'main.jsonl')).size).toBeLessThanOrEqual(8_000);
    expect(statSync(join(logs, 'main.jsonl.1')).size).toBeLessThanOrEqual(8_000);
    // A file holds about 75 lines: the last 60 often span the rotated file and the current one.
    const tail = await collect(
      runtime.logs(target, { workload: 'chatty', tail: 60, follow: false }, testContext()),
    );
    const tailed = tail.map((line) => Number(line.line.split(' ')[1]));
    expect(tailed).toHaveLength(60);
    expect(tailed).toEqual(tailed.map((_, index) => (tailed[0] ?? 0) + index));
  });

  it('keeps workloads running when the control plane dies, and a new one adopts them', async () => {
    const target = newTarget();
    const web = await freePort();
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      env: { MESSAGE: 'still here' },
      ports: [port('web', web)],
    });
    // So that the dying control plane starts the supervisor host, no host from an earlier test may be left.
    await waitFor(() => supervisorHosts().length === 0, HOST_GONE_MS, 'no supervisor host');
    // The first control plane is a separate process that deploys and then is killed with SIGKILL.
    const first = spawn(
      process.execPath,
      [controlPlaneScript, JSON.stringify({ config: { dataDir, supervisorScript }, target, workload })],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    first.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const signal = await new Promise<string | null>((resolve) =>
      first.once('exit', (_code, exitSignal) => resolve(exitSignal)),
    );
    expect({ output, signal }).toEqual({ output: 'ready\n', signal: 'SIGKILL' });
    const { supervisor, child } = stateOf(target, 'api');

    const restarted = newRuntime();
    const ctx = testContext();
    await restarted.adopt(ctx);

    expect(ctx.logged.join('\n')).toMatch(/"adopted":1/);
    const status = await statusOf(restarted, target, 'api');
    expect(status).toMatchObject({ state: 'ready', hash: workload.hash, restarts: 0 });
    expect(status.containers[0]?.pid).toBe(child?.pid);
    expect(isAlive(supervisor.pid)).toBe(true);
    expect(await httpText(web)).toBe('still here');
    expect(await restarted.waitReady(target, 'api', testContext(), SHORT_WINDOW)).toEqual({ ready: true });
    await restarted.deploy(target, workload, testContext());
    expect((await statusOf(restarted, target, 'api')).containers[0]?.pid).toBe(child?.pid);
  });

  it('does not adopt a process that reuses a recorded pid with another start time', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'worker.cjs' }),
      testContext(),
    );
    const state = stateOf(target, 'worker');
    // The supervisor and its process die without a trace…
    process.kill(state.supervisor.pid, 'SIGKILL');
    process.kill(-(state.child?.pid ?? 0), 'SIGKILL');
    await waitFor(
      () => !isAlive(state.supervisor.pid) && !isAlive(state.child?.pid ?? 0),
      5_000,
      'processes gone',
    );
    // …and another program gets their pid (simulated: a stranger's pid with the recorded start times).
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    strangers.push(stranger);
    const pid = stranger.pid ?? -1;
    const stateFile = join(workloadDir(target, 'worker'), 'state', 'main.json');
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, { pid: number }>;
    writeFileSync(
      stateFile,
      JSON.stringify({ ...saved, supervisor: { ...saved.supervisor, pid }, child: { ...saved.child, pid } }),
    );

    const restarted = newRuntime();
    const ctx = testContext();
    await restarted.adopt(ctx);
    await restarted.remove(target, 'worker', testContext());

    expect(ctx.logged.join('\n')).toMatch(/"adopted":0,"stopped":1/);
    expect(isAlive(pid)).toBe(true);
  });

  it('reports as stopped a workload whose recorded supervisor pid now belongs to another process', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'worker.cjs' }),
      testContext(),
    );
    const state = stateOf(target, 'worker');
    process.kill(state.supervisor.pid, 'SIGKILL');
    await waitFor(() => !isAlive(state.supervisor.pid), 5_000, 'supervisor gone');
    const stateFile = join(workloadDir(target, 'worker'), 'state', 'main.json');
    const saved = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(stateFile, JSON.stringify({ ...saved, supervisor: { pid: process.pid, startTime: 1 } }));

    const status = await statusOf(runtime, target, 'worker');

    expect(status.state).toBe('stopped');
    expect(status.detail).toMatch(/supervisor is gone/);
    expect(await runtime.waitReady(target, 'worker', testContext())).toMatchObject({ ready: false });
    await runtime.remove(target, 'worker', testContext());
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(state.child?.pid ?? -1)).toBe(false);
  });

  it('supervises every container of the data directory from one host, started once by concurrent deploys', async () => {
    const target = newTarget();
    await waitFor(() => supervisorHosts().length === 0, HOST_GONE_MS, 'no supervisor host');
    const marker = `secret-${process.pid}-${Date.now()}-host`;
    // Two runtimes (as two control planes would) deploy five workloads at once, one with two containers.
    const runtimes = [newRuntime(), newRuntime()];
    const workloads = ['a', 'b', 'c', 'd'].map((name) =>
      nodeWorkload(name, { dir: fixtures, script: 'worker.cjs', env: { TOKEN: marker } }),
    );
    const pair = nodeWorkload('pair', { dir: fixtures, script: 'worker.cjs' });
    pair.containers.push({ ...pair.containers[0]!, name: 'sidecar' });
    await Promise.all(
      [...workloads, pair].map((workload, index) =>
        runtimes[index % 2]!.deploy(target, workload, testContext()),
      ),
    );

    const states = [
      ...['a', 'b', 'c', 'd', 'pair'].map((name) => stateOf(target, name)),
      stateOf(target, 'pair', 'sidecar'),
    ];
    const hosts = supervisorHosts();
    expect(hosts).toHaveLength(1);
    expect(new Set(states.map((state) => state.supervisor.pid))).toEqual(new Set(hosts));
    expect(new Set(states.map((state) => state.child?.pid)).size).toBe(6);
    expect(states.every((state) => isAlive(state.child?.pid ?? -1))).toBe(true);
    // Detached: the leader of its own session, with neither the configuration nor its secrets on its command line.
    const host = hosts[0]!;
    expect(procStat(host)[3]).toBe(String(host));
    const cmdline = readFileSync(`/proc/${host}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(marker);
    expect(statSync(hostSocket()).mode & 0o777).toBe(0o600);
    for (const name of ['a', 'pair']) {
      expect(await runtimes[1]!.waitReady(target, name, testContext(), SHORT_WINDOW)).toEqual({
        ready: true,
      });
    }
  });

  it('reports the containers of a killed supervisor host as stopped, and adopt stops what it left', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    for (const name of ['a', 'b']) {
      await runtime.deploy(
        target,
        nodeWorkload(name, { dir: fixtures, script: 'worker.cjs' }),
        testContext(),
      );
    }
    const [a, b] = [stateOf(target, 'a'), stateOf(target, 'b')];
    expect(a.supervisor).toEqual(b.supervisor);

    process.kill(a.supervisor.pid, 'SIGKILL');
    await waitFor(() => !isAlive(a.supervisor.pid), 5_000, 'supervisor host gone');

    // Its processes still run, but nothing supervises them: status says so, for every container.
    expect([a.child?.pid ?? -1, b.child?.pid ?? -1].map(isAlive)).toEqual([true, true]);
    const statuses = await runtime.status(target, testContext());
    expect(statuses.map((status) => [status.workload, status.state])).toEqual([
      ['a', 'stopped'],
      ['b', 'stopped'],
    ]);
    expect(statuses.map((status) => status.detail)).toEqual([
      'container "main" is not running: its supervisor is gone',
      'container "main" is not running: its supervisor is gone',
    ]);
    const ctx = testContext();
    await newRuntime().adopt(ctx);
    expect(ctx.logged.join('\n')).toMatch(/"adopted":0,"stopped":2/);
    expect([a.child?.pid ?? -1, b.child?.pid ?? -1].map(isAlive)).toEqual([false, false]);

    // The next deploy starts a new host (over the killed one's socket).
    await runtime.deploy(
      target,
      nodeWorkload('a', { dir: fixtures, script: 'server.cjs', ports: [port('web', await freePort())] }),
      testContext(),
    );
    expect(await runtime.waitReady(target, 'a', testContext(), SHORT_WINDOW)).toEqual({ ready: true });
    expect(stateOf(target, 'a').supervisor.pid).not.toBe(a.supervisor.pid);
  });

  it('keeps its host through a hang-up, and the host leaves by itself, socket and all, once idle', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'worker.cjs' }),
      testContext(),
    );
    const { supervisor, child } = stateOf(target, 'worker');

    process.kill(supervisor.pid, 'SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([supervisor.pid, child?.pid ?? -1].map(isAlive)).toEqual([true, true]);
    expect((await statusOf(runtime, target, 'worker')).state).toBe('ready');

    await runtime.remove(target, 'worker', testContext());
    // Still there right after the last container went (a redeploy reuses it)…
    expect(isAlive(supervisor.pid)).toBe(true);
    // …and gone, with its socket, after its idle period.
    await waitFor(() => !isAlive(supervisor.pid), HOST_GONE_MS, 'the supervisor host gone');
    expect(existsSync(hostSocket())).toBe(false);
  });

  it('removes a workload with every process it started, keeping its logs', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('spawner', { dir: fixtures, script: 'spawner.cjs' }),
      testContext(),
    );
    const grandchild = await waitFor(
      async () => {
        const lines = await collect(
          runtime.logs(target, { workload: 'spawner', follow: false }, testContext()),
        );
        const match = lines.map((line) => /^grandchild (\d+)$/.exec(line.line)).find(Boolean);
        return match ? Number(match[1]) : 0;
      },
      10_000,
      'grandchild pid in the log',
    );
    const state = stateOf(target, 'spawner');
    const pids = [state.child?.pid ?? -1, grandchild];
    expect([state.supervisor.pid, ...pids].map(isAlive)).toEqual([true, true, true]);

    await runtime.remove(target, 'spawner', testContext());
    await runtime.remove(target, 'spawner', testContext()); // removing what is not there succeeds

    expect(pids.map(isAlive)).toEqual([false, false]);
    // The supervisor host has nothing left to supervise: it goes by itself after its idle period.
    await waitFor(() => !isAlive(state.supervisor.pid), HOST_GONE_MS, 'the supervisor host gone');
    expect(await runtime.status(target, testContext())).toEqual([]);
    expect(readdirSync(workloadDir(target, 'spawner'))).toEqual(['logs']);
    const kept = await collect(runtime.logs(target, { workload: 'spawner', follow: false }, testContext()));
    expect(kept.map((line) => line.line)).toContain(`grandchild ${grandchild}`);
  });

  it('destroys an environment: every process and every file', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(target, nodeWorkload('a', { dir: fixtures, script: 'worker.cjs' }), testContext());
    await runtime.deploy(
      target,
      nodeWorkload('b', { dir: fixtures, script: 'server.cjs', ports: [port('web', await freePort())] }),
      testContext(),
    );
    const pids = ['a', 'b'].map((name) => stateOf(target, name).child?.pid ?? -1);
    const host = stateOf(target, 'a').supervisor.pid;
    expect([host, ...pids].every(isAlive)).toBe(true);

    await runtime.destroy(target, testContext());
    await runtime.destroy(target, testContext());

    expect(pids.some(isAlive)).toBe(false);
    await waitFor(() => !isAlive(host), HOST_GONE_MS, 'the supervisor host gone');
    expect(existsSync(join(dataDir, 'runtime', 'process', target.app, target.env))).toBe(false);
    expect(await runtime.status(target, testContext())).toEqual([]);
  });

  it('never writes an environment value to disk or to its log', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const marker = `secret-${process.pid}-${Date.now()}-marker`;
    const ctx = testContext();
    const web = await freePort();
    await runtime.deploy(
      target,
      nodeWorkload('api', {
        dir: fixtures,
        script: 'server.cjs',
        env: { DATABASE_PASSWORD: marker },
        ports: [port('web', web)],
        container: {
          readinessProbe: {
            httpGet: {
              port: web,
              path: '/',
              httpHeaders: [{ name: 'Authorization', value: `Bearer ${marker}` }],
            },
          },
        },
      }),
      ctx,
    );
    await runtime.deploy(
      target,
      nodeWorkload('crasher', {
        dir: fixtures,
        script: 'crash.cjs',
        env: { CRASH_AFTER_MS: '100', TOKEN: marker },
      }),
      ctx,
    );
    expect(await runtime.waitReady(target, 'api', ctx)).toEqual({ ready: true });
    await waitFor(async () => (await statusOf(runtime, target, 'crasher')).restarts >= 2, 10_000, 'restarts');
    await runtime.status(target, ctx);
    await runtime.remove(target, 'crasher', ctx);

    const files = filesUnder(join(dataDir, 'runtime'));
    expect(files.length).toBeGreaterThan(5);
    expect(files.filter((file) => readFileSync(file, 'utf8').includes(marker))).toEqual([]);
    expect(ctx.logged.join('\n')).not.toContain(marker);
    const supervisor = stateOf(target, 'api').supervisor.pid;
    expect(readFileSync(`/proc/${supervisor}/cmdline`, 'utf8')).not.toContain(marker);
  });

  it('refuses a container without a command when it is planned, saying how to fix it', () => {
    const runtime = newRuntime();
    const failures = runtime.check({
      containers: [
        { name: 'web', image: 'nginx:1.27' },
        { name: 'api', image: 'node:20', command: ['node', 'server.js'] },
        { name: 'worker', image: 'node:20', command: [] },
      ],
    });

    expect(failures.map((failure) => failure.property)).toEqual([
      'containers.web.command',
      'containers.worker.command',
    ]);
    expect(failures[0]?.reason).toBe(
      'container "web" has no "command", and the process runtime runs commands on this host, not images ' +
        '("nginx:1.27"): give it a "command" in the Score file, e.g. ["node", "server.js"] (paths are ' +
        "relative to the Score file's directory), or deploy it to a docker or kubernetes target to run the image",
    );
    expect(runtime.isolated(undefined).check?.({ containers: [] })).toEqual([]);
  });

  it('refuses a container without a command at deploy too, with the same reason, and starts nothing', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      container: { image: 'nginx:1.27', command: undefined, args: [] },
    });
    const [reason] = runtime.check(workload).map((failure) => failure.reason);

    const error = await runtime.deploy(target, workload, testContext()).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      name: 'InputError',
      message: 'the process runtime cannot run workload "api"',
      errors: [{ path: 'containers.main.command', message: reason }],
    });
    expect(await runtime.status(target, testContext())).toEqual([]);
  });

  it('refuses a path inside a volume, which a symbolic link in the volume could point elsewhere', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      container: { volumes: [{ source: fixtures, path: 'escape', target: '/data' }] },
    });
    await expect(runtime.deploy(target, workload, testContext())).rejects.toMatchObject({
      name: 'InputError',
      errors: [
        {
          path: 'containers.main.volumes["/data"].path',
          message:
            'the process runtime uses a volume whole, not a path inside it ("escape"): a workload could point ' +
            'that path elsewhere with a symbolic link; leave `path` out and use the directory inside the volume',
        },
      ],
    });
    expect(await runtime.status(target, testContext())).toEqual([]);
  });

  it('refuses a readiness probe aimed at another host', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const aimed = (host: string) =>
      nodeWorkload('api', {
        dir: fixtures,
        script: 'server.cjs',
        container: { readinessProbe: { httpGet: { port: 8080, path: '/', host } } },
      });
    for (const host of ['10.0.0.5', '169.254.169.254', 'db.internal']) {
      await expect(runtime.deploy(target, aimed(host), testContext())).rejects.toMatchObject({
        name: 'InputError',
        errors: [
          {
            path: 'containers.main.readinessProbe.httpGet.host',
            message:
              `"${host}" is not this machine: the process runtime probes the workload where it runs, so ` +
              'leave `host` out (or use localhost, 127.0.0.1 or ::1)',
          },
        ],
      });
    }
    expect(await runtime.status(target, testContext())).toEqual([]);
  });

  it('refuses to deploy a command that cannot be started, naming it, and leaves nothing running', async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      container: { command: ['./no-such-program'] },
    });

    await expect(runtime.deploy(target, workload, testContext())).rejects.toThrow(
      /^container "main" could not start: .*ENOENT.*"\.\/no-such-program"/,
    );
    expect(await runtime.status(target, testContext())).toEqual([]);
  });

  it('is bundled as a small supervisor that loads nothing but Node.js built-ins', () => {
    const bundle = bundleFiles(supervisorScript)
      .map((file) => readFileSync(file, 'utf8'))
      .join('\n');
    const packages = [...bundle.matchAll(/(?:from|import) ["']([^"'.][^"']*)["']/g)].map((match) => match[1]);
    expect(packages.filter((name) => !name?.startsWith('node:'))).toEqual([]);
    expect(bundle.length).toBeLessThan(100_000);
  });
});
