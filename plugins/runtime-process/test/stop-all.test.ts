import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeTarget } from '@pave/plugin-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime, stopProcessWorkloads } from '../src/index.ts';
import { copySupervisor, FIXTURES, isAlive, nodeWorkload, testContext, waitFor } from './support.ts';

let root: string;
let fixtures: string;
let supervisorScript: string;
let counter = 0;
const strangers: ChildProcess[] = [];
const target: RuntimeTarget = { app: 'shop', env: 'dev' };

/** A data directory of its own for one test (stopProcessWorkloads stops everything in one) and a runtime on it. */
function newDataDir(): { dataDir: string; runtime: ProcessRuntime } {
  counter += 1;
  const dataDir = join(root, `data-${counter}`);
  const runtime = ProcessRuntime.fromConfig({ dataDir, supervisorScript, stopGraceMs: 2_000 });
  return { dataDir, runtime };
}

function stateFile(dataDir: string, workload: string): string {
  return join(dataDir, 'runtime', 'process', target.app, target.env, workload, 'state', 'main.json');
}

function stateOf(dataDir: string, workload: string) {
  return JSON.parse(readFileSync(stateFile(dataDir, workload), 'utf8')) as {
    status: string;
    supervisor: { pid: number; startTime: number };
    child: { pid: number; startTime: number } | null;
  };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pave-process-stop-'));
  supervisorScript = await copySupervisor(join(root, 'dist'));
  fixtures = join(root, 'app');
  mkdirSync(fixtures);
  for (const [name, content] of Object.entries(FIXTURES)) writeFileSync(join(fixtures, name), content);
});

afterEach(() => {
  for (const stranger of strangers.splice(0)) stranger.kill('SIGKILL');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('stopProcessWorkloads', () => {
  it('stops every container and the supervisor host, which records them stopped; every file stays', async () => {
    const { dataDir, runtime } = newDataDir();
    for (const name of ['a', 'b']) {
      await runtime.deploy(
        target,
        nodeWorkload(name, { dir: fixtures, script: 'worker.cjs' }),
        testContext(),
      );
    }
    const [a, b] = [stateOf(dataDir, 'a'), stateOf(dataDir, 'b')];

    const stopped = await stopProcessWorkloads(dataDir);

    expect(stopped).toEqual([
      { name: 'container main of workload shop/dev/a', pid: a.child?.pid, killed: false },
      { name: 'container main of workload shop/dev/b', pid: b.child?.pid, killed: false },
      { name: 'process supervisor', pid: a.supervisor.pid, killed: false },
    ]);
    expect([a.child?.pid ?? -1, b.child?.pid ?? -1, a.supervisor.pid].map(isAlive)).toEqual([
      false,
      false,
      false,
    ]);
    expect([stateOf(dataDir, 'a').status, stateOf(dataDir, 'b').status]).toEqual(['stopped', 'stopped']);
    expect(existsSync(join(dataDir, 'runtime', 'process', 'shop', 'dev', 'a', 'logs', 'main.jsonl'))).toBe(
      true,
    );
    expect((await runtime.status(target, testContext())).map((status) => status.state)).toEqual([
      'stopped',
      'stopped',
    ]);
    expect(await stopProcessWorkloads(dataDir)).toEqual([]);
  });

  it('stops the processes a killed supervisor host left without supervision', async () => {
    const { dataDir, runtime } = newDataDir();
    await runtime.deploy(target, nodeWorkload('a', { dir: fixtures, script: 'worker.cjs' }), testContext());
    const { supervisor, child } = stateOf(dataDir, 'a');
    process.kill(supervisor.pid, 'SIGKILL');
    await waitFor(() => !isAlive(supervisor.pid), 5_000, 'supervisor host gone');

    const stopped = await stopProcessWorkloads(dataDir);

    expect(stopped).toEqual([
      { name: 'container main of workload shop/dev/a', pid: child?.pid, killed: false },
    ]);
    expect(isAlive(child?.pid ?? -1)).toBe(false);
  });

  it('signals no process that only got a recorded pid: its start time is not the recorded one', async () => {
    const { dataDir, runtime } = newDataDir();
    await runtime.deploy(target, nodeWorkload('a', { dir: fixtures, script: 'worker.cjs' }), testContext());
    const saved = stateOf(dataDir, 'a');
    process.kill(saved.supervisor.pid, 'SIGKILL');
    process.kill(-(saved.child?.pid ?? 0), 'SIGKILL');
    await waitFor(
      () => !isAlive(saved.supervisor.pid) && !isAlive(saved.child?.pid ?? 0),
      5_000,
      'processes gone',
    );
    // Another program gets their pids (simulated: a stranger's pid with the recorded start times), as after a reboot.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
    strangers.push(stranger);
    const pid = stranger.pid ?? -1;
    writeFileSync(
      stateFile(dataDir, 'a'),
      JSON.stringify({ ...saved, supervisor: { ...saved.supervisor, pid }, child: { ...saved.child, pid } }),
    );

    expect(await stopProcessWorkloads(dataDir)).toEqual([]);
    expect(isAlive(pid)).toBe(true);
  });

  it('stops nothing in a data directory where the runtime never ran', async () => {
    const { dataDir } = newDataDir();
    expect(await stopProcessWorkloads(dataDir)).toEqual([]);
  });
});
