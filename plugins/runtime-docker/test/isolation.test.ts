import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeTarget } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/index.ts';
import {
  buildBusyboxImage,
  podman,
  podmanAvailable,
  startPodmanService,
  type PodmanService,
} from '../../../test/support/podman.ts';
import { testContext, workload } from './support.ts';

const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;

describe.skipIf(!podmanAvailable())(
  "DockerRuntime keeps environments whose names collide apart (on Podman's Docker API; skipped without podman, busybox-static and root)",
  () => {
    let service: PodmanService;
    let runtime: DockerRuntime;
    let image: string;
    let dataDir: string;
    const app = `iso${run}`;
    // `pave-<app>-<env>` is the same network for both, and the names are persisted: they cannot change.
    const production: RuntimeTarget = { app, env: 'prod-eu' };
    const intruder: RuntimeTarget = { app: `${app}-prod`, env: 'eu' };
    const network = `pave-${app}-prod-eu`;
    const ctx = testContext();

    const sleeper = (name: string, hash: string) =>
      workload(name, hash, { image, command: ['/bin/sh', '-c'], args: ['while true; do sleep 1; done'] });
    const containers = (filter: string) =>
      podman(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])
        .trim()
        .split('\n')
        .filter(Boolean)
        .sort();
    const networkLabels = (name: string) =>
      (JSON.parse(podman(['network', 'inspect', name]))[0] as { labels?: Record<string, string> }).labels ??
      {};
    const stateOf = (name: string) =>
      podman(['inspect', '--type', 'container', '--format', '{{.State.Status}}', name]).trim();
    const containerId = (name: string) =>
      (JSON.parse(podman(['inspect', '--type', 'container', name]))[0] as { Id: string }).Id;

    beforeAll(async () => {
      service = await startPodmanService();
      image = buildBusyboxImage(`pave-runtime-docker-iso-${run}`, 'v1');
      dataDir = mkdtempSync(join(tmpdir(), 'pave-docker-iso-'));
      runtime = DockerRuntime.fromConfig({ socketPath: service.socketPath, dataDir, stopGraceMs: 1_000 });
    }, 60_000);

    afterAll(async () => {
      for (const name of containers(`name=${app}`)) podman(['rm', '-f', '-t', '0', name]);
      for (const name of podman(['network', 'ls', '--format', '{{.Name}}']).split('\n')) {
        if (name.includes(app)) podman(['network', 'rm', '-f', name]);
      }
      if (image) podman(['rmi', '-f', image]);
      await service?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }, 60_000);

    it("refuses to join a network labelled for another environment, and its destroy leaves that network and the other's containers alone", async () => {
      await runtime.deploy(production, sleeper('web', 'p1'), ctx);
      const running = containerId(`pave-${app}-prod-eu-web-main`);
      expect(networkLabels(network)).toMatchObject({ 'dev.pave.app': app, 'dev.pave.env': 'prod-eu' });

      await expect(runtime.deploy(intruder, sleeper('spy', 'i1'), ctx)).rejects.toMatchObject({
        name: 'ConflictError',
        message:
          `network "${network}" belongs to environment ${app}/prod-eu (its dev.pave.app and dev.pave.env ` +
          `labels), not to ${app}-prod/eu: nothing was deployed`,
        errors: [
          {
            path: 'env',
            message: expect.stringMatching(
              /^give this environment another id \(or the app another name\) so that its Docker names/u,
            ) as string,
          },
        ],
      });
      expect(containers(`label=dev.pave.app=${app}-prod`)).toEqual([]);

      await runtime.destroy(intruder, ctx);
      expect(networkLabels(network)).toMatchObject({ 'dev.pave.app': app, 'dev.pave.env': 'prod-eu' });
      expect(containers(`label=dev.pave.app=${app}`)).toEqual([`pave-${app}-prod-eu-web-main`]);
      expect(stateOf(`pave-${app}-prod-eu-web-main`)).toBe('running');
      expect(containerId(`pave-${app}-prod-eu-web-main`)).toBe(running);
      expect(ctx.logged.join('\n')).toContain(`kept network ${network}`);
    });

    it('refuses a network of that name that Pave did not create', async () => {
      const plain: RuntimeTarget = { app, env: 'plain' };
      podman(['network', 'create', `pave-${app}-plain`]);
      await expect(runtime.deploy(plain, sleeper('web', 'x1'), ctx)).rejects.toMatchObject({
        name: 'ConflictError',
        message:
          `network "pave-${app}-plain" exists but was not created by Pave for ${app}/plain (it has no ` +
          'dev.pave.app and dev.pave.env labels): nothing was deployed',
        errors: [
          {
            path: 'env',
            message: expect.stringContaining(`podman network rm pave-${app}-plain`) as string,
          },
        ],
      });
      expect(containers(`label=dev.pave.env=plain`).filter((name) => name.includes(app))).toEqual([]);
      await runtime.destroy(plain, ctx);
      expect(podman(['network', 'ls', '--format', '{{.Name}}'])).toContain(`pave-${app}-plain`);
    });

    it("refuses a container name held by another environment's container, or by one Pave did not create, touching neither", async () => {
      // `pave-<app>-x-y-w-main`: workload `w` of env `x-y`, and workload `y-w` of env `x` (another network).
      const first: RuntimeTarget = { app, env: 'x-y' };
      const second: RuntimeTarget = { app, env: 'x' };
      const name = `pave-${app}-x-y-w-main`;
      await runtime.deploy(first, sleeper('w', 'f1'), ctx);
      const theirs = containerId(name);
      await expect(runtime.deploy(second, sleeper('y-w', 's1'), ctx)).rejects.toMatchObject({
        name: 'ConflictError',
        message: `container "${name}" is container "main" of workload "w" of environment ${app}/x-y, not of ${app}/x: nothing was deployed`,
        errors: [{ path: 'workloads.y-w', message: expect.stringMatching(/rename the workload/u) as string }],
      });
      expect(containerId(name)).toBe(theirs);
      expect(stateOf(name)).toBe('running');

      // One of another program: the same, and with ports (whose old version goes first) nothing is removed.
      const squatter = `pave-${app}-x-api-main`;
      podman(['create', '--name', squatter, '--label', `dev.pave.app=${app}`, image]);
      const api = {
        ...sleeper('api', 's2'),
        ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP' as const, hostPort: 18_731 }],
      };
      await expect(runtime.deploy(second, api, ctx)).rejects.toMatchObject({
        name: 'ConflictError',
        message: `container "${squatter}" was not created by Pave for ${app}/x (its dev.pave.app and dev.pave.env labels do not name it): nothing was deployed`,
        errors: [
          { path: 'workloads.api', message: expect.stringContaining(`podman rm ${squatter}`) as string },
        ],
      });
      expect(stateOf(squatter)).toBe('created');
    });
  },
);
