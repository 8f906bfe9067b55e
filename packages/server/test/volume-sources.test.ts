import type { DeploymentDetail } from '@pave/core';
import type { RenderedWorkload, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** A runtime that records what it is asked to deploy and answers ready. */
function recordingRuntime() {
  const deployed: RenderedWorkload[] = [];
  const runtime: RuntimeDriver = {
    name: 'recording',
    deploy: async (_target, workload) => void deployed.push(workload),
    waitReady: async () => ({ ready: true }),
    remove: async () => undefined,
    status: async (): Promise<WorkloadStatus[]> => [],
    destroy: async () => undefined,
  };
  return { runtime, deployed };
}

const body = (name: string, volumes: object, resources: object = {}) => ({
  workloads: [
    {
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name },
        containers: { main: { image: 'busybox', command: ['sleep', '1000'], volumes } },
        resources,
      },
      dir: '/srv/app',
    },
  ],
});

// A Score volume's source names a `volume` resource of the workload: Pave provisions it, for this environment.
// A host path there (the data directory, `/`, another environment's volume, the docker socket) would hand the
// workload whatever the runtime's host can read.
describe.each(storeEngines)("a container's volume sources, on %s", (engine) => {
  let api: DeployingApi;
  const recorded = recordingRuntime();

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: recorded.runtime, worker: true });
    for (const [url, payload] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, payload);
      expect(response.statusCode, `${url}: ${response.body}`).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const refused = async (name: string, volumes: object, resources?: object): Promise<DeploymentDetail> => {
    const deployment = await api.deploy('shop', 'dev', body(name, volumes, resources));
    expect(deployment.status).toBe('failed');
    expect(recorded.deployed.map((workload) => workload.name)).not.toContain(name);
    return deployment;
  };

  it('refuses a host path, naming the field and what to write instead', async () => {
    for (const source of ['/', api.dataDir, '/var/run/docker.sock']) {
      const failed = await refused('host', { '/host': { source } });
      expect(failed.reason).toContain(
        `workloads.host.containers.main.volumes./host.source: "${source}" is not a volume resource of the workload`,
      );
      expect(failed.reason).toContain('${resources.NAME}');
    }
  });

  it('refuses a placeholder of a resource that is not a volume, or a path that climbs out of the volume', async () => {
    const notVolume = await refused(
      'env-source',
      { '/v': { source: '${resources.env.HOME}' } },
      { env: { type: 'environment' } },
    );
    expect(notVolume.reason).toContain('volumes./v.source: "${resources.env.HOME}" is not a volume resource');
    const climbing = await refused(
      'climbing',
      { '/v': { source: '${resources.data}', path: '../../..' } },
      { data: { type: 'volume' } },
    );
    expect(climbing.reason).toContain('volumes./v.path: "../../.." climbs out of the volume');
  });

  it("mounts a volume resource's directory, named as Score names it or by its output", async () => {
    for (const source of ['${resources.data}', '${resources.data.source}']) {
      const name = source.includes('.source') ? 'by-output' : 'by-name';
      const deployment = await api.deploy(
        'shop',
        'dev',
        body(name, [{ source, target: '/data', path: 'sub' }], { data: { type: 'volume' } }),
      );
      expect(deployment.status, deployment.reason ?? '').toBe('succeeded');
      const volumes = recorded.deployed.find((workload) => workload.name === name)?.containers[0]?.volumes;
      expect(volumes).toHaveLength(1);
      expect(volumes![0]).toMatchObject({ target: '/data', path: 'sub' });
      expect(volumes![0]!.source).toMatch(new RegExp(`^${api.dataDir}/volumes/shop/dev/`));
    }
  });
});
