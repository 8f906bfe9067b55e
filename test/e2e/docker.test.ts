import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentStatus } from '@pave/core';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually } from '../support/processes.ts';
import {
  buildBusyboxImage,
  podman,
  podmanAvailable,
  startPodmanService,
  type PodmanService,
} from '../support/podman.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/busybox-app', import.meta.url));
const run = `${process.pid}-${Date.now().toString(36)}`;

async function answer(url: string): Promise<string> {
  try {
    return (await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text()).trim();
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}

describe.skipIf(!podmanAvailable())(
  'the docker runtime target on Podman, end to end through the CLI (skipped without podman, busybox and root)',
  () => {
    let location: TestStoreLocation;
    let server: PaveProcess;
    let service: PodmanService;
    let image: string;
    let dir: string;
    const app = `box-${run}`.slice(0, 30);
    const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
    const ok = async (...args: string[]) => {
      const result = await pave(...args);
      expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
      return result;
    };
    const deploy = (...extra: string[]) =>
      pave(
        'deploy',
        '-f',
        join(dir, 'api.score.yaml'),
        '-f',
        join(dir, 'worker.score.yaml'),
        '--image',
        image,
        '--app',
        app,
        '--env',
        'stage',
        '--wait',
        ...extra,
      );
    const apiUrl = async () => {
      const status = JSON.parse(
        (await ok('status', '--app', app, '--env', 'stage', '-o', 'json')).stdout,
      ) as EnvironmentStatus;
      return status.workloads.find((w) => w.workload === 'api')?.urls[0] ?? 'http://127.0.0.1:1';
    };
    const setGreeting = (greeting: string) => {
      const file = join(dir, 'api.score.yaml');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/GREETING: .*/, `GREETING: ${greeting}`));
    };
    const containers = () =>
      podman(['ps', '-a', '--filter', `label=dev.pave.app=${app}`, '--format', '{{.Names}}']).trim();
    const networks = () =>
      podman(['network', 'ls', '--format', '{{.Name}}'])
        .split('\n')
        .filter((n) => n.includes(app));

    beforeAll(async () => {
      service = await startPodmanService();
      image = buildBusyboxImage('pave-e2e-box', run, {
        '/app/serve.sh': readFileSync(join(FIXTURE, 'serve.sh'), 'utf8'),
      });
      dir = mkdtempSync(join(tmpdir(), 'pave-box-app-'));
      for (const file of ['api.score.yaml', 'worker.score.yaml']) {
        writeFileSync(join(dir, file), readFileSync(join(FIXTURE, file), 'utf8'));
      }
      location = await createTestStoreLocation('sqlite');
      server = await startPave(['--data-dir', location.dataDir]);
      await shortenStabilityWindow(server.url, location.dataDir);
      writeFileSync(
        join(dir, 'targets.yaml'),
        [
          '- id: podman',
          '  type: docker',
          '  config:',
          `    socketPath: ${service.socketPath}`,
          '  criteria:',
          '    - envType: staging',
          '',
        ].join('\n'),
      );
      await ok('targets', 'apply', '-f', join(dir, 'targets.yaml'));
      await ok('apps', 'create', app);
      await ok('envs', 'create', 'stage', '--app', app, '--type', 'staging');
    }, 120_000);
    afterAll(async () => {
      if (server) await pave('apps', 'delete', app, '--force');
      await server?.stop();
      await location?.cleanup();
      if (image) podman(['rmi', '-f', image]);
      await service?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it('matches the staging environment to the docker target', async () => {
      const match = JSON.parse(
        (await ok('targets', 'match', '--app', app, '--env', 'stage', '-o', 'json')).stdout,
      );
      expect(match.winner.id).toBe('podman');
    });

    it('deploys the busybox app as containers: it answers on its published port, and the worker reaches it', async () => {
      const result = await deploy('-m', 'first');
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(await answer(await apiUrl())).toBe('hello from api');
      expect(containers().split('\n').sort()).toEqual([
        `pave-${app}-stage-api-main`,
        `pave-${app}-stage-worker-main`,
      ]);
      expect(networks()).toEqual([`pave-${app}-stage`]);
      await eventually(
        async () => {
          const logs = await pave('logs', 'worker', '--app', app, '--env', 'stage', '--tail', '20');
          return logs.stdout.includes('worker heard: hello from api') ? true : undefined;
        },
        20_000,
        'the worker to reach the API over the environment network',
      );
    }, 180_000);

    it('changes the answer on redeploy, and rollback restores it', async () => {
      setGreeting('howdy');
      const second = await deploy('-m', 'second');
      expect(second.code, second.stderr + second.stdout).toBe(0);
      expect(await answer(await apiUrl())).toBe('howdy');
      const rolled = await pave('rollback', '--app', app, '--env', 'stage', '--wait');
      expect(rolled.code, rolled.stderr + rolled.stdout).toBe(0);
      expect(await answer(await apiUrl())).toBe('hello from api');
    }, 180_000);

    it('removes the environment’s containers and network when it is deleted', async () => {
      await ok('envs', 'delete', 'stage', '--app', app, '--force');
      expect(containers()).toBe('');
      expect(networks()).toEqual([]);
    }, 120_000);
  },
);
