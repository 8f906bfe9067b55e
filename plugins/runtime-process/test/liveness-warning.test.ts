import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeTarget } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../src/index.ts';
import { copySupervisor, FIXTURES, freePort, nodeWorkload, port, testContext } from './support.ts';

let root: string;
let runtime: ProcessRuntime;
let fixtures: string;
const targets: RuntimeTarget[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'pave-process-liveness-'));
  fixtures = join(root, 'app');
  mkdirSync(fixtures);
  for (const [name, content] of Object.entries(FIXTURES)) writeFileSync(join(fixtures, name), content);
  runtime = ProcessRuntime.fromConfig({
    dataDir: join(root, 'data'),
    supervisorScript: await copySupervisor(join(root, 'dist')),
    readyTimeoutMs: 15_000,
    stopGraceMs: 2_000,
  });
});
afterAll(async () => {
  for (const target of targets) await runtime.destroy(target, testContext());
  rmSync(root, { recursive: true, force: true });
});

/*
 * A Score file's livenessProbe was silently ignored on the default process runtime (only the kubernetes
 * runtime runs one): a workload that hangs was never restarted, and nothing said so.
 */
describe('a workload with a liveness probe on the process runtime', () => {
  it('deploys it, warning (for the deployment journal) that its liveness probe is not run', async () => {
    const target = { app: 'shop', env: `liveness-${process.pid}` };
    targets.push(target);
    const web = await freePort();
    const probe = { httpGet: { port: web, path: '/' } };
    const workload = nodeWorkload('api', {
      dir: fixtures,
      script: 'server.cjs',
      ports: [port('web', web)],
      container: { readinessProbe: probe, livenessProbe: probe },
    });
    const ctx = testContext();
    await runtime.deploy(target, workload, ctx);
    const warnings = ctx.logged.filter((line) => line.startsWith('warn '));
    expect(warnings).toEqual([
      'warn container "main" of api: the process runtime does not run liveness probes: its livenessProbe is ' +
        'ignored, so a process that hangs is not restarted (one that exits is); the kubernetes runtime runs it ' +
        '{"workload":"api","container":"main"}',
    ]);

    const unprobed = testContext();
    await runtime.deploy(
      target,
      nodeWorkload('worker', { dir: fixtures, script: 'server.cjs', ports: [port('web', await freePort())] }),
      unprobed,
    );
    expect(unprobed.logged.filter((line) => line.startsWith('warn '))).toEqual([]);
  });
});
