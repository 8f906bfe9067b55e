import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeploymentDetail, EnvironmentStatus } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually, processesIn } from '../support/processes.ts';
import { makeAppDir } from '../support/app-dir.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));

describe('a control plane killed in the middle of a deployment', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('resumes it after a restart: one consistent set, no orphaned or doubled workload, and the record says so', async () => {
    const location: TestStoreLocation = await createTestStoreLocation('sqlite');
    cleanups.push(() => location.cleanup());
    const appDir = makeAppDir('pave-crash-');
    cleanups.push(() => rmSync(appDir, { recursive: true, force: true }));
    cpSync(FIXTURE, appDir, { recursive: true });
    let server: PaveProcess = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    cleanups.push(async () => {
      await runPave(['apps', 'delete', 'shop', '--force'], clientEnv(server.url, location.dataDir));
      await server.stop();
    });
    const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
    await pave('apps', 'create', 'shop');
    await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development');
    const api = join(appDir, 'api.score.yaml');
    const first = await pave('deploy', '-f', api, '--app', 'shop', '--env', 'dev', '--wait');
    expect(first.code, first.stderr).toBe(0);

    // v2 takes 3 s to become ready: kill the control plane while it waits.
    writeFileSync(
      api,
      readFileSync(api, 'utf8')
        .replace(/GREETING: .*/, 'GREETING: version two')
        .replace('variables:', 'variables:\n      READY_AFTER_MS: "3000"'),
    );
    const queued = await pave('deploy', '-f', api, '--app', 'shop', '--env', 'dev', '-o', 'json');
    expect(queued.code, queued.stderr).toBe(0);
    const id = JSON.parse(queued.stdout).id as string;
    await eventually(
      async () => {
        const detail = JSON.parse(
          (await pave('deployments', 'get', id, '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
        ) as DeploymentDetail;
        return detail.journal.some((entry) => entry.step === 'start' && entry.workload === 'api')
          ? true
          : undefined;
      },
      15_000,
      'the deployment to start the new API',
    );
    server.child.kill('SIGKILL');
    await server.stop();

    server = await startPave(['--data-dir', location.dataDir]);
    const detail = await eventually(
      async () => {
        const result = await pave('deployments', 'get', id, '--app', 'shop', '--env', 'dev', '-o', 'json');
        const parsed = JSON.parse(result.stdout) as DeploymentDetail;
        return parsed.status === 'succeeded' || parsed.status === 'failed' ? parsed : undefined;
      },
      45_000,
      'the interrupted deployment to finish',
    );
    expect(detail.status).toBe('succeeded');
    expect(detail.journal.map((entry) => entry.step)).toContain('resume');
    expect(detail.journal.find((entry) => entry.step === 'resume')?.message).toMatch(/control plane stopped/);

    const status = JSON.parse(
      (await pave('status', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as EnvironmentStatus;
    expect(status.currentDeployment?.id).toBe(id);
    expect(status.workloads.map((w) => [w.workload, w.state, w.deploymentId])).toEqual([
      ['api', 'ready', id],
    ]);
    const answer = await (await fetch(status.workloads[0]!.urls[0]!)).text();
    expect(answer.trim()).toBe('version two');
    const running = processesIn(appDir).filter((p) => p.argv.includes('server.js'));
    expect(running).toHaveLength(1);
  }, 120_000);
});
