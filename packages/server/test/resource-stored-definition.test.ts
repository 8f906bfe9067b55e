import type { FieldProblem, ResourceChange } from '@pave/core';
import { FakeResourceDriver } from '@pave/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

// A provisioned resource keeps the definition it was provisioned by: the check when a deployment is queued
// (and `pave deploy --plan`) must answer what provisioning then does, not match the resource again.

/** A workload using `resources`; `bucket` is a type no built-in definition provisions. */
const workload = (resources: Record<string, { type: string }>) => ({
  spec: {
    apiVersion: 'score.dev/v1b1',
    metadata: { name: 'api' },
    containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
    resources,
  },
  dir: '/srv/app',
});
const FILES = { files: { type: 'bucket' } };

/** A bucket definition `id` of the test's driver, matching `envId` of app shop. */
const bucketDefinition = (id: string, envId: string) => ({
  id,
  type: 'bucket',
  driver: 'fake-bucket',
  criteria: [{ appId: 'shop', envId }],
});

describe.each(storeEngines)('a provisioned resource stays on its stored definition on %s', (engine) => {
  let api: DeployingApi;
  const driver = new FakeResourceDriver('fake-bucket');

  const ok = async (method: 'POST' | 'DELETE', url: string, body?: object) => {
    const response = await api.call(method, url, body);
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
  };
  const queue = (env: string, extra: object = {}, resources: Record<string, { type: string }> = FILES) =>
    api.call('POST', `/apps/shop/envs/${env}/deployments`, { workloads: [workload(resources)], ...extra });
  const creates = () => driver.calls.filter((call) => call.method === 'create').length;
  const stored = async (env: string) =>
    (await api.call('GET', `/apps/shop/envs/${env}/resources/api.files`)).json() as {
      definitionId: string;
      values: Record<string, string>;
    };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true, resourceDrivers: [driver] });
    await ok('POST', '/apps', { id: 'shop' });
    for (const env of ['narrowed', 'orphaned']) {
      await ok('POST', '/apps/shop/envs', { id: env, type: 'development' });
    }
    await ok('POST', '/resource-definitions/apply', {
      definitions: [
        bucketDefinition('bucket-narrowed', 'narrowed'),
        bucketDefinition('bucket-orphaned', 'orphaned'),
      ],
    });
    for (const env of ['narrowed', 'orphaned']) {
      const deployed = await api.deploy('shop', env, { workloads: [workload(FILES)] });
      expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('keeps a resource no definition matches any more on its stored one: planned as staying, deployed without a new one', async () => {
    const before = await stored('narrowed');
    // Narrowed to another environment: no definition matches shop/narrowed's bucket now.
    await ok('POST', '/resource-definitions/apply', {
      definitions: [bucketDefinition('bucket-narrowed', 'staging')],
    });

    const plan = await queue('narrowed', { plan: true });
    expect(plan.statusCode, plan.body).toBe(200);
    const changes = plan.json().resources as ResourceChange[];
    expect(changes.find((change) => change.address === 'api.files')).toEqual({
      address: 'api.files',
      type: 'bucket',
      action: 'keep',
      definitionId: 'bucket-narrowed',
      reason: 'stays on bucket-narrowed; no definition matches it now',
    });

    const createsBefore = creates();
    const deployed = await api.deploy('shop', 'narrowed', { workloads: [workload(FILES)] });
    expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    expect(creates()).toBe(createsBefore);
    expect(await stored('narrowed')).toEqual(before);
  });

  it('still refuses a new resource no definition matches', async () => {
    const refused = await queue('narrowed', {}, { ...FILES, more: { type: 'bucket' } });
    expect(refused.statusCode, refused.body).toBe(409);
    const problems = refused.json().errors as FieldProblem[];
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: 'workloads.api.resources.more.type',
      message: expect.stringContaining('no resource definition provisions type "bucket"'),
    });
  });

  it('refuses a resource whose stored definition was deleted when the deployment is queued, and in the plan', async () => {
    await ok('DELETE', '/resource-definitions/bucket-orphaned?force=true');
    // Another definition matches now: the resource stays refused all the same, since it keeps its definition.
    await ok('POST', '/resource-definitions/apply', {
      definitions: [bucketDefinition('bucket-orphaned-too', 'orphaned')],
    });
    const queuedBefore = (await api.call('GET', '/apps/shop/envs/orphaned/deployments')).json().items.length;
    const calls = driver.calls.length;

    for (const extra of [{ plan: true }, {}]) {
      const refused = await queue('orphaned', extra);
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json().errors).toEqual([
        {
          path: 'api.files',
          message:
            'its resource definition "bucket-orphaned" no longer exists; apply it again ' +
            '(`pave defs apply`), or delete the resource (deploy without it, with --prune) so that the ' +
            'definition matching it now provisions it anew',
        },
      ]);
    }
    expect((await api.call('GET', '/apps/shop/envs/orphaned/deployments')).json().items).toHaveLength(
      queuedBefore,
    );
    expect(driver.calls.length).toBe(calls);
    expect((await stored('orphaned')).definitionId).toBe('bucket-orphaned');
  });
});
