import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, EnvironmentStatus } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually, processesIn } from '../support/processes.ts';
import { makeAppDir } from '../support/app-dir.ts';

/**
 * A Score file of one workload without a readiness probe: `kind` "steady" runs until stopped, "quitter"
 * prints a line and exits with code 4 after 3 s (after a probe-less workload used to count as ready).
 */
function scoreFile(dir: string, kind: 'steady' | 'quitter'): string {
  const script =
    kind === 'steady'
      ? 'setInterval(() => {}, 1000)'
      : "console.log('up'); setTimeout(() => { console.error('giving up'); process.exit(4); }, 3000)";
  const file = join(dir, `${kind}.score.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: score.dev/v1b1',
      'metadata:',
      '  name: job',
      'containers:',
      '  main:',
      '    image: node:20',
      `    command: ['node', '-e', ${JSON.stringify(script)}, '${kind}']`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('a workload without a readiness probe must stay up for the stability window', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  /** `pave deploy --wait` of the `kind` workload to shop/`env`, with `extra` flags. */
  const deploy = (kind: 'steady' | 'quitter', env: string, ...extra: string[]) =>
    pave('deploy', '-f', scoreFile(appDir, kind), '--app', 'shop', '--env', env, ...extra, '--wait');
  const running = (kind: string) => processesIn(appDir).filter((p) => p.argv.at(-1) === kind);
  const lastDeployment = async (env: string): Promise<Deployment> =>
    JSON.parse(
      (await pave('deployments', 'list', '--app', 'shop', '--env', env, '--limit', '1', '-o', 'json')).stdout,
    ).items[0];

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    appDir = makeAppDir('pave-stability-');
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    for (const env of ['dev', 'fresh']) {
      expect((await pave('envs', 'create', env, '--app', 'shop', '--type', 'development')).code).toBe(0);
    }
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('fails a deploy whose workload exits after 3 s, with its exit code, and runs the previous one again', async () => {
    const steady = await deploy('steady', 'dev');
    expect(steady.code, steady.stderr + steady.stdout).toBe(0);

    const started = Date.now();
    const quitter = await deploy('quitter', 'dev');
    expect(quitter.code).not.toBe(0);
    expect(quitter.stderr + quitter.stdout).toMatch(/exited with code 4/);
    expect(quitter.stderr + quitter.stdout).toContain('giving up');
    // It failed when the workload exited, not at the readiness timeout (60 s).
    expect(Date.now() - started).toBeLessThan(30_000);
    const failed = await lastDeployment('dev');
    expect(failed).toMatchObject({ status: 'failed', rolledBack: true });
    expect(failed.reason).toMatch(/^wait ready failed \(process\): job: container "main" exited with code 4/);
    const status = JSON.parse(
      (await pave('status', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as EnvironmentStatus;
    expect(status.workloads.map((w) => [w.workload, w.state])).toEqual([['job', 'ready']]);
    expect(running('steady')).toHaveLength(1);
    expect(running('quitter')).toHaveLength(0);
  });

  it('with --min-ready 1s, the same workload counts as ready before it exits (the window is per deploy)', async () => {
    const quick = await deploy('quitter', 'dev', '--min-ready', '1s');
    expect(quick.code, quick.stderr + quick.stdout).toBe(0);
    // Put the steady one back, for the environment's sake.
    expect((await deploy('steady', 'dev')).code).toBe(0);
  });

  it('a failed first deployment leaves no process behind', async () => {
    const first = await deploy('quitter', 'fresh');
    expect(first.code).not.toBe(0);
    const failed = await lastDeployment('fresh');
    expect(failed).toMatchObject({ status: 'failed', rolledBack: false });
    expect(failed.reason).toMatch(/exited with code 4/);
    await eventually(
      () => (running('quitter').length === 0 ? true : undefined),
      10_000,
      'the quitter to be stopped',
    );
    const status = JSON.parse(
      (await pave('status', '--app', 'shop', '--env', 'fresh', '-o', 'json')).stdout,
    ) as EnvironmentStatus;
    expect(status.workloads).toEqual([]);
    expect(status.currentDeployment).toBeNull();
  });
});
