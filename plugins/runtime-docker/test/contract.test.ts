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

describeRuntimeDriverContract('docker (on Podman)', {
  ...(available ? {} : { skip: 'podman, busybox-static and root are needed (.ci/run installs them)' }),
  driver: async () => {
    service = await startPodmanService();
    image = buildBusyboxImage('pave-contract', run, { '/app/serve.sh': readFileSync(SERVE, 'utf8') });
    return DockerRuntime.fromConfig({ socketPath: service.socketPath, dataDir });
  },
  target: () => ({ app: `contract-${process.pid}`, env: `env-${++environments}` }),
  workload: (name, greeting): RenderedWorkload => {
    const hostPort = nextPort++;
    return {
      name,
      deploymentId: '1',
      hash: createHash('sha256').update(`${name}:${greeting}:${hostPort}`).digest('hex'),
      ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP', hostPort }],
      containers: [
        {
          name: 'main',
          image,
          command: ['/app/serve.sh'],
          env: { GREETING: greeting, PORT: '8080' },
          files: [],
          workingDir: '/',
          readinessProbe: { httpGet: { port: hostPort, path: '/healthz' } },
        },
      ],
    };
  },
  cleanup: async () => {
    if (image) podman(['rmi', '-f', image]);
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  },
});
