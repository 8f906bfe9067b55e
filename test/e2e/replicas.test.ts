import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentDetail, EnvironmentStatus } from '@pave/core';
import { createTestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually, processesIn } from '../support/processes.ts';
import { makeAppDir } from '../support/app-dir.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));
const DEPLOYS = 20;

describe('two control-plane replicas on one PostgreSQL store', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('run 20 concurrent deploys to one environment one at a time, in order, and hand work over when one dies', async () => {
    const location = await createTestStoreLocation('postgres');
    cleanups.push(() => location.cleanup());
    const appDir = makeAppDir('pave-replicas-');
    cleanups.push(() => rmSync(appDir, { recursive: true, force: true }));
    cpSync(FIXTURE, appDir, { recursive: true });
    // Replicas on one host share the data directory: its runtime state is how they share the workloads.
    const args = ['--data-dir', location.dataDir, '--store', location.url!];
    const a: PaveProcess = await startPave(args);
    const b: PaveProcess = await startPave(args);
    await shortenStabilityWindow(a.url, location.dataDir);
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
    );
    cleanups.push(() => runPave(['apps', 'delete', 'shop', '--force'], clientEnv(b.url, location.dataDir)));
    const via = (server: PaveProcess, ...command: string[]) =>
      runPave(command, clientEnv(server.url, location.dataDir));
    expect((await via(a, 'apps', 'create', 'shop')).code).toBe(0);
    expect((await via(b, 'envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);

    const files = Array.from({ length: DEPLOYS }, (_, i) => {
      const file = join(appDir, `api-${i}.score.yaml`);
      writeFileSync(
        file,
        readFileSync(join(appDir, 'api.score.yaml'), 'utf8').replace(/GREETING: .*/, `GREETING: v${i}`),
      );
      return file;
    });
    const queued = await Promise.all(
      files.map(async (file, i) => {
        const result = await via(
          i % 2 ? b : a,
          'deploy',
          '-f',
          file,
          '--app',
          'shop',
          '--env',
          'dev',
          '-o',
          'json',
        );
        expect(result.code, result.stderr).toBe(0);
        return JSON.parse(result.stdout) as Deployment;
      }),
    );
    expect(new Set(queued.map((d) => d.id)).size).toBe(DEPLOYS);

    // Kill one replica once a few deployments are done; the other must take over its work.
    await eventually(
      async () => {
        const list = JSON.parse(
          (await via(b, 'deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
        );
        return list.items.filter((d: Deployment) => d.status === 'succeeded').length >= 3 ? true : undefined;
      },
      60_000,
      'three deployments to finish',
    );
    a.child.kill('SIGKILL');
    await a.stop();

    const finished = await eventually(
      async () => {
        const list = JSON.parse(
          (
            await via(
              b,
              'deployments',
              'list',
              '--app',
              'shop',
              '--env',
              'dev',
              '--limit',
              '100',
              '-o',
              'json',
            )
          ).stdout,
        ).items as Deployment[];
        return list.every((d) => d.status === 'succeeded' || d.status === 'failed') ? list : undefined;
      },
      120_000,
      'all deployments to finish',
    );
    expect(finished).toHaveLength(DEPLOYS);
    expect(finished.map((d) => d.status)).toEqual(Array(DEPLOYS).fill('succeeded'));

    // One at a time: ordered by id, each started after the previous one finished.
    // One CLI process at a time: twenty at once on a two-core machine compete with the replica they ask.
    const details: DeploymentDetail[] = [];
    for (const d of finished) {
      const result = await via(b, 'deployments', 'get', d.id, '--app', 'shop', '--env', 'dev', '-o', 'json');
      expect(result.code, `deployments get ${d.id}: ${result.stderr}`).toBe(0);
      details.push(JSON.parse(result.stdout) as DeploymentDetail);
    }
    const byId = details.sort((x, y) => Number(x.id) - Number(y.id));
    for (let i = 1; i < byId.length; i++) {
      const previous = byId[i - 1]!;
      const current = byId[i]!;
      const lastStartOfCurrent = current.journal.filter((e) => e.step === 'run').at(-1)!.at;
      expect(
        lastStartOfCurrent >= previous.finishedAt!,
        `deployment ${current.id} overlapped ${previous.id}`,
      ).toBe(true);
    }

    // The final state is the last one queued.
    const last = byId.at(-1)!;
    const status = JSON.parse(
      (await via(b, 'status', '--app', 'shop', '--env', 'dev', '-o', 'json')).stdout,
    ) as EnvironmentStatus;
    expect(status.currentDeployment?.id).toBe(last.id);
    const lastGreeting = `v${queued.findIndex((d) => d.id === last.id)}`;
    expect((await (await fetch(status.workloads[0]!.urls[0]!)).text()).trim()).toBe(lastGreeting);
    expect(processesIn(appDir).filter((p) => p.argv.includes('server.js'))).toHaveLength(1);
  }, 240_000);
});
