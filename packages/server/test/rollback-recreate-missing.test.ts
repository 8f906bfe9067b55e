import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDriver, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import type { DeploymentDetail, DeploymentPage, ResourceCheck, ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/** Volumes kept in memory, so that a test can remove one behind Pave's back. */
class MemoryVolumeDriver implements ResourceDriver {
  readonly name = 'memory-volume';
  readonly volumes = new Set<string>();
  private created = 0;

  async check(): Promise<[]> {
    return [];
  }
  async diff() {
    return { changes: false, replace: false, changedProperties: [] };
  }
  async create(inputs: ResourceInputs): Promise<{ id: string; outputs: ResourceOutputs }> {
    const id = `${inputs.scope.env}-${++this.created}`;
    this.volumes.add(id);
    return { id, outputs: outputsOf(id) };
  }
  async update(id: string): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: outputsOf(id) };
  }
  async read(id: string): Promise<{ outputs: ResourceOutputs } | null> {
    return this.volumes.has(id) ? { outputs: outputsOf(id) } : null;
  }
  async delete(id: string): Promise<void> {
    this.volumes.delete(id);
  }
}

function outputsOf(id: string): ResourceOutputs {
  return { values: { source: `/volumes/${id}` }, secrets: {} };
}

const workload = (image: string): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image, command: ['node', 'server.js'] } },
  resources: { data: { type: 'volume' } },
});

/**
 * The rollback route refused `recreateMissing` (400), so a rollback to a set whose resource had vanished could
 * only fail; and `pave resources check` named a command (`pave deploy --recreate-missing`) without the
 * environment it is about.
 */
describe.each(storeEngines)('recreating missing resources on a rollback on %s', (engine) => {
  const volumes = new MemoryVolumeDriver();
  let api: DeployingApi;
  let first: string;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, resourceDrivers: [volumes], worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    const env = await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' });
    expect(env.statusCode, env.body).toBe(201);
    const definitions = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        { id: 'memory-volumes', type: 'volume', driver: 'memory-volume', criteria: [{ appId: 'shop' }] },
      ],
    });
    expect(definitions.statusCode, definitions.body).toBe(200);
    for (const image of ['node:20', 'node:22']) {
      const deployed = await api.deploy('shop', 'dev', {
        workloads: [{ spec: workload(image), dir: '/srv/app' }],
      });
      expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
      first ??= deployed.id;
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('names the environment in the command `resources check` gives for a missing resource', async () => {
    volumes.volumes.clear();
    const response = await api.call('GET', '/apps/shop/envs/dev/resources/check');
    expect(response.statusCode, response.body).toBe(200);
    const [check] = response.json().items as ResourceCheck[];
    expect(check).toMatchObject({ address: 'api.data', status: 'missing' });
    expect(check!.detail).toContain('`pave deploy --recreate-missing --app shop --env dev` creates it again');
  });

  it('rolls back with recreateMissing, creating the missing resource again', async () => {
    volumes.volumes.clear();
    const rollback = async (body: object): Promise<DeploymentDetail> => {
      const queued = await api.call('POST', '/apps/shop/envs/dev/rollback', body);
      expect(queued.statusCode, queued.body).toBe(202);
      return api.finished('shop', 'dev', queued.json().id as string);
    };
    const failed = await rollback({ deploymentId: first });
    expect(failed.status).toBe('failed');
    expect(failed.reason).toContain('repeat the rollback or promote with --recreate-missing');
    expect(volumes.volumes.size).toBe(0);

    const done = await rollback({ deploymentId: first, recreateMissing: true });
    expect(done).toMatchObject({ status: 'succeeded', kind: 'rollback', source: { deploymentId: first } });
    expect(volumes.volumes.size).toBe(1);
    const latest = ((await api.call('GET', '/apps/shop/envs/dev/deployments')).json() as DeploymentPage)
      .items[0];
    expect(latest?.id).toBe(done.id);
  });

  it('documents recreateMissing in the rollback body of the OpenAPI document', async () => {
    const response = await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    const document = response.json() as {
      paths: Record<string, { post: { requestBody: { content: Record<string, { schema: unknown }> } } }>;
    };
    const schema = JSON.stringify(
      document.paths['/api/v1/apps/{app}/envs/{env}/rollback']!.post.requestBody.content['application/json']!
        .schema,
    );
    expect(schema).toContain('recreateMissing');
  });
});
