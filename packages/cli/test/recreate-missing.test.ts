import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceDriver, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import type { DeploymentDetail, DeploymentPage, ResourceCheck, ScoreWorkload } from '@pave/core';
import { runCli } from '../src/program.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from '../../server/test/support/deploying-api.ts';
import { fakeIo } from './helpers.ts';

/** Volumes kept in memory, so that a test can remove one behind Pave's back. */
class MemoryVolumeDriver implements ResourceDriver {
  readonly name = 'memory-volume';
  /** The ids of the volumes that exist. */
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
    return { id, outputs: { values: { source: `/volumes/${id}` }, secrets: {} } };
  }
  async update(id: string): Promise<{ outputs: ResourceOutputs }> {
    return { outputs: { values: { source: `/volumes/${id}` }, secrets: {} } };
  }
  async read(id: string): Promise<{ outputs: ResourceOutputs } | null> {
    return this.volumes.has(id) ? { outputs: { values: { source: `/volumes/${id}` }, secrets: {} } } : null;
  }
  async delete(id: string): Promise<void> {
    this.volumes.delete(id);
  }
}

const workload = (image: string): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers: { main: { image, command: ['node', 'server.js'] } },
  resources: { data: { type: 'volume' } },
});

/**
 * `pave resources check` says a missing resource is created again by `pave deploy --recreate-missing`; that
 * command needed Score files, and `pave rollback` had no such flag. Now `pave deploy --recreate-missing` without
 * -f redeploys the environment's current set with the missing resources created again, and `pave rollback
 * --recreate-missing` does so for the set it restores. Against a real API whose volumes can vanish.
 */
describe('recreating missing resources without Score files', () => {
  const volumes = new MemoryVolumeDriver();
  let api: DeployingApi;
  let server: string;
  const pave = async (...args: string[]) => {
    const io = fakeIo();
    const code = await runCli(['node', 'pave', ...args, '--server', server, '--token', api.token], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };
  const deployments = async (env = 'dev') =>
    ((await api.call('GET', `/apps/shop/envs/${env}/deployments`)).json() as DeploymentPage).items;
  /** Removes every volume behind Pave's back. */
  const loseVolumes = () => volumes.volumes.clear();

  beforeAll(async () => {
    api = await openDeployingApi('sqlite', {
      runtime: idleRuntime,
      resourceDrivers: [volumes],
      worker: true,
    });
    expect((await api.call('POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    for (const id of ['dev', 'empty']) {
      const created = await api.call('POST', '/apps/shop/envs', { id, type: 'development' });
      expect(created.statusCode, created.body).toBe(201);
    }
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
    }
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('names a command that works in `pave resources check`, and that command recreates the resource', async () => {
    loseVolumes();
    const check = await pave('resources', 'check', '--app', 'shop', '--env', 'dev', '-o', 'json');
    expect(check.code).toBe(3);
    const [missing] = (JSON.parse(check.stdout) as { items: ResourceCheck[] }).items;
    expect(missing).toMatchObject({ address: 'api.data', status: 'missing' });
    const command = /`(pave [^`]+)`/.exec(missing!.detail)?.[1];
    expect(command).toBe('pave deploy --recreate-missing --app shop --env dev');

    const current = (await deployments())[0]!;
    const redeployed = await pave(...command!.split(' ').slice(1), '--wait');
    expect(redeployed.code, redeployed.stderr).toBe(0);
    expect(redeployed.stdout).toMatch(/succeeded/);
    const latest = (await deployments())[0]!;
    expect(latest).toMatchObject({ status: 'succeeded', setId: current.setId });
    expect(latest.source).toMatchObject({ deploymentId: current.id });
    expect(volumes.volumes.size).toBe(1);
    const after = await pave('resources', 'check', '--app', 'shop', '--env', 'dev');
    expect(after.code, after.stdout + after.stderr).toBe(0);
  });

  it('plans it with --plan and prints the finished deployment with --wait -o json', async () => {
    loseVolumes();
    const plan = await pave(
      'deploy',
      '--recreate-missing',
      '--app',
      'shop',
      '--env',
      'dev',
      '--plan',
      '-o',
      'json',
    );
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).resources).toEqual([
      expect.objectContaining({
        address: 'api.data',
        action: 'create',
        reason: expect.stringContaining('created again'),
      }),
    ]);
    const json = await pave(
      'deploy',
      '--recreate-missing',
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
      '-o',
      'json',
    );
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as DeploymentDetail).status).toBe('succeeded');
    expect(volumes.volumes.size).toBe(1);
  });

  it('refuses it, naming how to deploy, in an environment that has no current deployment', async () => {
    const refused = await pave('deploy', '--recreate-missing', '--app', 'shop', '--env', 'empty');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^pave: error: --recreate-missing: shop\/empty has no current deployment/);
    expect(refused.stderr).toContain('pave deploy -f score.yaml --recreate-missing --app shop --env empty');
    expect(await deployments('empty')).toEqual([]);
  });

  it('refuses --commit with it before anything is sent: the redeploy keeps its commit', async () => {
    const before = await deployments();
    const refused = await pave(
      'deploy',
      '--recreate-missing',
      '--app',
      'shop',
      '--env',
      'dev',
      '--commit',
      'abc',
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^pave: error: --commit/);
    expect(await deployments()).toEqual(before);
  });

  it('`pave rollback --recreate-missing` restores an earlier set with its missing resources created again', async () => {
    loseVolumes();
    const first = (await deployments()).at(-1)!;
    const refused = await pave('rollback', first.id, '--app', 'shop', '--env', 'dev', '--wait');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--recreate-missing');
    expect(volumes.volumes.size).toBe(0);

    const rolledBack = await pave(
      'rollback',
      first.id,
      '--recreate-missing',
      '--app',
      'shop',
      '--env',
      'dev',
      '--wait',
    );
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    const latest = (await deployments())[0]!;
    expect(latest).toMatchObject({ kind: 'rollback', status: 'succeeded', setId: first.setId });
    expect(volumes.volumes.size).toBe(1);
  });
});
