import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRuntimeDriverContract } from '@pave/plugin-api/testing';
import type { RenderedWorkload } from '@pave/plugin-api';
import { DockerRuntime } from '../src/index.ts';
import {
  buildBusyboxImage,
  podman,
  podmanAvailable,
  startPodmanService,
  type PodmanService,
} from '../../../test/support/podman.ts';

const SERVE = fileURLToPath(new URL('../../../test/fixtures/busybox-app/serve.sh', import.meta.url));
const available = podmanAvailable();
const run = `${process.pid}-${Date.now().toString(36)}`;
const dataDir = mkdtempSync(join(tmpdir(), 'pave-docker-contract-'));
let service: PodmanService | undefined;
let image = '';
let nextPort = 26_000 + (process.pid % 5_000);
let environments = 0;

/**
 * A workload of one container running `command` in `image`, published on a new host port with a readiness
 * probe GET /healthz there (which only the busybox app's serve.sh answers).
 */
function busyboxWorkload(
  name: string,
  options: { image: string; command: string[]; env?: Record<string, string> },
): RenderedWorkload {
  const hostPort = nextPort++;
  return {
    name,
    deploymentId: '1',
    hash: createHash('sha256')
      .update(JSON.stringify([name, options, hostPort]))
      .digest('hex'),
    ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP', hostPort }],
    containers: [
      {
        name: 'main',
        image: options.image,
        command: options.command,
        env: options.env ?? {},
        files: [],
        workingDir: '/',
        readinessProbe: { httpGet: { port: hostPort, path: '/healthz' } },
      },
    ],
  };
}

describeRuntimeDriverContract('docker (on Podman)', {
  ...(available ? {} : { skip: 'podman, busybox-static and root are needed (.ci/run installs them)' }),
  driver: async () => {
    service = await startPodmanService();
    image = buildBusyboxImage('pave-contract', run, { '/app/serve.sh': readFileSync(SERVE, 'utf8') });
    return DockerRuntime.fromConfig({ socketPath: service.socketPath, dataDir });
  },
  target: () => ({ app: `contract-${process.pid}`, env: `env-${++environments}` }),
  workload: (name, greeting) =>
    busyboxWorkload(name, { image, command: ['/app/serve.sh'], env: { GREETING: greeting, PORT: '8080' } }),
  // Nothing listens on this registry's port: the pull fails at once.
  unstartable: (name) =>
    busyboxWorkload(name, { image: `localhost:1/pave-contract/missing:${run}`, command: ['/app/serve.sh'] }),
  crashing: (name) =>
    busyboxWorkload(name, { image, command: ['sh', '-c', 'echo something broke >&2; exit 3'] }),
  neverReady: (name) => busyboxWorkload(name, { image, command: ['sleep', '3600'] }),
  cleanup: async () => {
    if (image) podman(['rmi', '-f', image]);
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  },
});
