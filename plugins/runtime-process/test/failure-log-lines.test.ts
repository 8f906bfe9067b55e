import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLine, RuntimeTarget } from '@pave/plugin-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime, type ProcessRuntimeConfig } from '../src/index.ts';
import { copySupervisor, FIXTURES, freePort, nodeWorkload, port, testContext } from './support.ts';

let root: string;
let dataDir: string;
let fixtures: string;
let supervisorScript: string;
let counter = 0;
const targets: RuntimeTarget[] = [];

/** A runtime that restarts an exited process only after a minute, so a failure's lines are its first run's. */
function newRuntime(overrides: Partial<ProcessRuntimeConfig> = {}): ProcessRuntime {
  return ProcessRuntime.fromConfig({
    dataDir,
    supervisorScript,
    readyTimeoutMs: 15_000,
    stopGraceMs: 2_000,
    restartBackoff: { initialMs: 60_000, maxMs: 60_000, resetAfterMs: 10_000 },
    ...overrides,
  });
}

function newTarget(): RuntimeTarget {
  counter += 1;
  const target = { app: 'shop', env: `failure-logs-${process.pid}-${counter}` };
  targets.push(target);
  return target;
}

async function collect(lines: AsyncIterable<LogLine>): Promise<string[]> {
  const result: string[] = [];
  for await (const line of lines) result.push(line.line);
  return result;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pave-failure-log-lines-'));
  supervisorScript = await copySupervisor(join(root, 'dist'));
  dataDir = join(root, 'data');
  fixtures = join(root, 'app');
  mkdirSync(fixtures);
  for (const [name, content] of Object.entries(FIXTURES)) writeFileSync(join(fixtures, name), content);
  // Listens on a fixed port of its own and ignores $PORT: nothing ever answers on the workload's port.
  writeFileSync(
    join(fixtures, 'wrong-port.cjs'),
    `console.log('listening on 29690');\nsetInterval(() => {}, 1000);\n`,
  );
});

afterEach(async () => {
  const runtime = newRuntime();
  for (const target of targets.splice(0)) await runtime.destroy(target, testContext());
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('the last log lines of a failed deployment', () => {
  it("are the failing version's own, not the crash of the version deployed before it", async () => {
    const runtime = newRuntime();
    const target = newTarget();
    const web = port('web', await freePort());
    await runtime.deploy(
      target,
      nodeWorkload('api', { dir: fixtures, script: 'nosuch.js', ports: [web] }),
      testContext(),
    );
    const crashed = await runtime.waitReady(target, 'api', testContext());
    expect(crashed.ready === false && crashed.lastLogs.join('\n')).toContain('Cannot find module');

    await runtime.deploy(
      target,
      nodeWorkload('api', { dir: fixtures, script: 'wrong-port.cjs', ports: [web] }),
      testContext(),
    );
    const result = await runtime.waitReady(
      target,
      'api',
      testContext({ signal: AbortSignal.timeout(3_000) }),
      {
        stableMs: 300,
      },
    );

    expect(result).toMatchObject({ ready: false, reason: expect.stringContaining('timed out') });
    expect(result.ready === false && result.lastLogs).toEqual(['listening on 29690']);
  });

  it("are the exited process's own, not the output of the running version it replaced; `logs` keeps both", async () => {
    const runtime = newRuntime();
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'worker.cjs' }),
      testContext(),
    );
    expect(await runtime.waitReady(target, 'worker', testContext(), { stableMs: 300 })).toEqual({
      ready: true,
    });

    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'exit3.cjs' }),
      testContext(),
    );
    const result = await runtime.waitReady(target, 'worker', testContext());

    expect(result).toMatchObject({ ready: false, reason: 'container "main" exited with code 3' });
    expect(result.ready === false && result.lastLogs).toEqual([
      'connecting to the database',
      'cannot connect to the database',
    ]);
    const history = await collect(
      runtime.logs(target, { workload: 'worker', tail: 1_000, follow: false }, testContext()),
    );
    expect(history).toContain('worker started');
    expect(history.slice(-2)).toEqual(['connecting to the database', 'cannot connect to the database']);
  });

  it("are the failing version's own when the version before it filled and rotated the log", async () => {
    const runtime = newRuntime({ maxLogBytes: 4 * 1024 });
    const target = newTarget();
    await runtime.deploy(
      target,
      nodeWorkload('chatty', { dir: fixtures, script: 'fast-worker.cjs' }),
      testContext(),
    );
    expect(await runtime.waitReady(target, 'chatty', testContext(), { stableMs: 500 })).toEqual({
      ready: true,
    });

    await runtime.deploy(
      target,
      nodeWorkload('chatty', { dir: fixtures, script: 'exit3.cjs' }),
      testContext(),
    );
    const result = await runtime.waitReady(target, 'chatty', testContext());

    expect(result).toMatchObject({ ready: false, reason: 'container "main" exited with code 3' });
    expect(result.ready === false && result.lastLogs).toEqual([
      'connecting to the database',
      'cannot connect to the database',
    ]);
  });
});
