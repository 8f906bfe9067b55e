import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentStatus } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { spawn } from 'node:child_process';
import {
  clientEnv,
  PAVE_BIN,
  runPave,
  shortenStabilityWindow,
  startPave,
  type PaveProcess,
} from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));

/** GETs a URL and returns the body, or the error text when nothing answers. */
async function answer(url: string): Promise<string> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text()).trim();
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

describe('deploying Score workloads on the process runtime, end to end through the CLI', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const env = () => clientEnv(server.url, location.dataDir);
  const pave = (...args: string[]) => runPave(args, env());
  const status = async (envId: string): Promise<EnvironmentStatus> => {
    const result = await pave('status', '--app', 'shop', '--env', envId, '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as EnvironmentStatus;
  };
  const apiUrl = async (envId: string) => {
    const api = (await status(envId)).workloads.find((w) => w.workload === 'api');
    return api?.urls[0] ?? 'http://127.0.0.1:1';
  };
  const setGreeting = (greeting: string) => {
    const file = join(appDir, 'api.score.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/GREETING: .*/, `GREETING: ${greeting}`));
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-app-');
    // Workloads run as an unprivileged user when Pave is root: like any service user, it must read its code.
    cpSync(FIXTURE, appDir, { recursive: true });
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
  });
  afterAll(async () => {
    // Deleting the app stops its workloads; the control plane alone would leave them running.
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('deploys an API and a worker to dev; the API answers and both are ready', async () => {
    const result = await pave(
      'deploy',
      '-f',
      join(appDir, 'api.score.yaml'),
      '-f',
      join(appDir, 'worker.score.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '-m',
      'first release',
      '--wait',
    );
    expect(result.code, result.stderr + result.stdout).toBe(0);
    // The journal of --wait is progress, on stderr.
    expect(result.stderr).toMatch(/ready\s+api/);
    expect(result.stderr).toMatch(/ready\s+worker/);
    const current = await status('dev');
    expect(current.workloads.map((w) => [w.workload, w.state])).toEqual([
      ['api', 'ready'],
      ['worker', 'ready'],
    ]);
    expect(await answer(await apiUrl('dev'))).toBe('hello from api');
  });

  it('shows the logs of both workloads', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const result = await pave('logs', '--app', 'shop', '--env', 'dev', '--tail', '50', '-o', 'json');
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { workload: string; line: string });
    expect(lines.some((l) => l.workload === 'api' && /api listening on \d+/.test(l.line))).toBe(true);
    expect(lines.some((l) => l.workload === 'worker' && l.line === 'worker heard: hello from api')).toBe(
      true,
    );
    const apiOnly = await pave('logs', 'api', '--app', 'shop', '--env', 'dev', '-o', 'json');
    expect(
      apiOnly.stdout
        .trim()
        .split('\n')
        .every((line) => JSON.parse(line).workload === 'api'),
    ).toBe(true);
  });

  it('follows the logs as they are written, until interrupted', async () => {
    const child = spawn(
      process.execPath,
      [PAVE_BIN, 'logs', 'worker', '--app', 'shop', '--env', 'dev', '--tail', '0', '-f', '-o', 'json'],
      { env: { ...process.env, ...env(), NO_COLOR: '1' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Interrupted once two lines have come (the worker writes one a second), however slow the machine is.
    const lineCount = () => output.split('\n').filter((line) => line.trim()).length;
    for (const deadline = Date.now() + 20_000; lineCount() < 2 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { workload: string; line: string; at: string });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((l) => l.workload === 'worker' && l.line.startsWith('worker heard'))).toBe(true);
  });

  it('redeploys the API with a changed variable: the answer changes and the worker keeps running', async () => {
    const before = await status('dev');
    const workerBefore = before.workloads.find((w) => w.workload === 'worker');
    setGreeting('howdy from ${metadata.name}');
    const result = await pave(
      'deploy',
      '-f',
      join(appDir, 'api.score.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await answer(await apiUrl('dev'))).toBe('howdy from api');
    const after = await status('dev');
    const workerAfter = after.workloads.find((w) => w.workload === 'worker');
    expect(workerAfter?.deploymentId).toBe(workerBefore?.deploymentId);
    expect(workerAfter?.restarts).toBe(0);
    expect(after.workloads.find((w) => w.workload === 'api')?.urls).toEqual(
      before.workloads.find((w) => w.workload === 'api')?.urls,
    );
  });

  it('keeps the workloads running while the control plane is stopped, and takes them back when it restarts', async () => {
    const before = await status('dev');
    const url = await apiUrl('dev');
    expect(await server.stop()).toBe(0);
    expect(await answer(url)).toBe('howdy from api');
    server = await startPave(['--data-dir', location.dataDir]);
    const after = await status('dev');
    expect(after.workloads.map((w) => [w.workload, w.state, w.restarts, w.deploymentId])).toEqual(
      before.workloads.map((w) => [w.workload, 'ready', 0, w.deploymentId]),
    );
    expect(await answer(url)).toBe('howdy from api');
  });

  it('diffs the two deployments as a unified diff and as structured changes', async () => {
    const text = await pave('diff', '--app', 'shop', '--env', 'dev');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('-          GREETING: hello from ${metadata.name}');
    expect(text.stdout).toContain('+          GREETING: howdy from ${metadata.name}');
    const json = JSON.parse((await pave('diff', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout);
    expect(json.changes).toEqual([
      { workload: 'api', action: 'update', fields: ['spec.containers.main.variables.GREETING'] },
      { workload: 'worker', action: 'keep', fields: [] },
    ]);
  });

  it('rolls back to the previous set: the old answer is back, as a new deployment', async () => {
    const result = await pave('rollback', '--app', 'shop', '--env', 'dev', '--wait');
    expect(result.code, result.stderr).toBe(0);
    expect(await answer(await apiUrl('dev'))).toBe('hello from api');
    const history = JSON.parse(
      (await pave('deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    );
    expect(history.items.map((d: { kind: string; status: string }) => `${d.kind}:${d.status}`)).toEqual([
      'rollback:succeeded',
      'deploy:succeeded',
      'deploy:succeeded',
    ]);
  });

  it('promotes dev to staging: the same set runs there side by side, on other ports', async () => {
    expect((await pave('envs', 'create', 'staging', '--app', 'shop', '--type', 'staging')).code).toBe(0);
    const result = await pave('promote', '--app', 'shop', '--from', 'dev', '--to', 'staging', '--wait');
    expect(result.code, result.stderr).toBe(0);
    const devUrl = await apiUrl('dev');
    const stagingUrl = await apiUrl('staging');
    expect(stagingUrl).not.toBe(devUrl);
    expect(await answer(stagingUrl)).toBe('hello from api');
    expect(await answer(devUrl)).toBe('hello from api');
    const dev = await status('dev');
    const staging = await status('staging');
    expect(staging.currentDeployment?.setId).toBe(dev.currentDeployment?.setId);
  });

  it('clones dev into a new environment with `envs create --from`', async () => {
    const result = await pave(
      'envs',
      'create',
      'preview',
      '--app',
      'shop',
      '--type',
      'development',
      '--from',
      'dev',
      '--wait',
    );
    expect(result.code, result.stderr).toBe(0);
    expect(await answer(await apiUrl('preview'))).toBe('hello from api');
    expect((await pave('envs', 'delete', 'preview', '--app', 'shop', '--force')).code).toBe(0);
  });

  it('fails a deployment whose workload exits at start, with the exit code and log lines, and restores the previous set', async () => {
    const file = join(appDir, 'api.score.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        'variables:',
        'variables:\n      FAIL_AT_START: "missing DATABASE_URL"',
      ),
    );
    const result = await pave(
      'deploy',
      '-f',
      file,
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
      '--timeout',
      '20s',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/exited with code 3/);
    expect(result.stderr + result.stdout).toContain('refusing to start: missing DATABASE_URL');
    expect(result.stderr + result.stdout).toMatch(/previous set/i);
    expect(await answer(await apiUrl('dev'))).toBe('hello from api');
    const [failed] = JSON.parse(
      (await pave('deployments', 'list', '--app', 'shop', '--env', 'dev', '--limit', '1', '-o', 'json'))
        .stdout,
    ).items;
    expect(failed).toMatchObject({ status: 'failed', rolledBack: true });
    expect(failed.reason).toMatch(/^wait ready failed \(process\): api: container "main" exited with code 3/);
  });
});
