import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * Found by review: a plan (`pave deploy --plan`, and `pave validate --app --env`, which asks for one) accepted
 * `${resources.db.ulr}` of a postgres resource the environment already had, and the deployment then failed at
 * its render: `resource "db" has no output "ulr"`. Only a resource the deployment has yet to provision (or will
 * provision anew) may have any output in a plan; one it keeps renders with the outputs stored for it.
 */

const SECRET = 'hunter2';
const OUTPUTS = 'database, host, name, password, port, url, username';

const definition = (extraValues: Record<string, string> = {}) => ({
  definitions: [
    {
      id: 'orders-postgres',
      type: 'postgres',
      driver: 'static',
      driverInputs: {
        values: {
          host: 'db.internal',
          port: 5432,
          name: 'orders',
          database: 'orders',
          username: 'orders',
          ...extraValues,
        },
        secrets: { password: SECRET, url: `postgresql://orders:${SECRET}@db.internal:5432/orders` },
      },
      criteria: [{ appId: 'orders' }],
    },
  ],
});

/** Workload `name` with DB_URL set to `${resources.<resource>.<output>}` of its postgres `resource`. */
const workload = (
  name: string,
  output: string,
  resource = 'db',
  declared: { type: string; id?: string } = { type: 'postgres' },
): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name },
  containers: {
    main: {
      image: 'node:20',
      command: ['node', 'server.js'],
      variables: { DB_URL: `\${resources.${resource}.${output}}` },
    },
  },
  resources: { [resource]: declared },
});

const variablePath = (name: string) => `workloads.${name}.containers.main.variables.DB_URL`;

describe.each(storeEngines)('a plan checks the outputs of resources already provisioned, on %s', (engine) => {
  let api: DeployingApi;
  const plan = (env: string, spec: ScoreWorkload) =>
    api.call('POST', `/apps/orders/envs/${env}/deployments`, {
      workloads: [{ spec, dir: '/srv/orders' }],
      plan: true,
    });
  const deploy = (env: string, spec: ScoreWorkload) =>
    api.deploy('orders', env, { workloads: [{ spec, dir: '/srv/orders' }] });
  const expectRefused = async (
    env: string,
    spec: ScoreWorkload,
    problem: { path: string; message: string },
  ) => {
    const response = await plan(env, spec);
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().errors).toEqual([problem]);
    // Only output names count: no stored value reaches the answer.
    expect(response.body).not.toContain(SECRET);
    expect(response.body).not.toContain('db.internal');
  };

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'orders' }],
      ['/apps/orders/envs', { id: 'dev', type: 'development' }],
      ['/apps/orders/envs', { id: 'qa', type: 'development' }],
      ['/resource-definitions/apply', definition()],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBeLessThan(300);
    }
    // dev has api.db provisioned.
    expect((await deploy('dev', workload('api', 'url'))).status).toBe('succeeded');
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a misspelled output of a provisioned resource with the problem the deployment fails with', async () => {
    const misspelled = workload('api', 'ulr');
    const problem = {
      path: variablePath('api'),
      message: `\${resources.db.ulr}: resource "db" has no output "ulr" (it has: ${OUTPUTS})`,
    };
    await expectRefused('dev', misspelled, problem);

    const deployed = await deploy('dev', misspelled);
    expect(deployed.status).toBe('failed');
    expect(deployed.reason).toContain(`${problem.path}: ${problem.message}`);
    expect(deployed.reason).not.toContain(SECRET);
  });

  it('accepts every output the provisioned resource has', async () => {
    for (const output of OUTPUTS.split(', ')) {
      const response = await plan('dev', workload('api', output));
      expect(response.statusCode, `${output}: ${response.body}`).toBe(200);
      expect(response.json().resources).toMatchObject([{ address: 'api.db', action: 'keep' }]);
    }
  });

  it('accepts any output of a resource not provisioned yet, as its driver makes them', async () => {
    // qa has no api.db yet.
    const inQa = await plan('qa', workload('api', 'ulr'));
    expect(inQa.statusCode, inQa.body).toBe(200);
    expect(inQa.json().resources).toMatchObject([{ address: 'api.db', action: 'create' }]);
    // dev has api.db, but not api.cache.
    const withCache = workload('api', 'anything', 'cache');
    withCache.resources = { ...withCache.resources, db: { type: 'postgres' } };
    const newResource = await plan('dev', withCache);
    expect(newResource.statusCode, newResource.body).toBe(200);
    expect(newResource.json().resources).toContainEqual(
      expect.objectContaining({ address: 'api.cache', action: 'create' }),
    );
  });

  it('finds a provisioned shared resource by its address, whatever a workload names it', async () => {
    const shared = { type: 'postgres', id: 'orders-db' };
    expect((await deploy('dev', workload('worker', 'url', 'pg', shared))).status).toBe('succeeded');

    await expectRefused('dev', workload('worker', 'ulr', 'pg', shared), {
      path: variablePath('worker'),
      message: `\${resources.pg.ulr}: resource "pg" has no output "ulr" (it has: ${OUTPUTS})`,
    });
    // Another workload declaring the same id uses the same resource, under its own name.
    await expectRefused('dev', workload('report', 'ulr', 'main', shared), {
      path: variablePath('report'),
      message: `\${resources.main.ulr}: resource "main" has no output "ulr" (it has: ${OUTPUTS})`,
    });
  });

  it('accepts any output of a provisioned resource the deployment updates, whose driver makes its outputs anew', async () => {
    // The definition gains an output: the deployment updates api.db, and the static driver outputs it.
    const applied = await api.call(
      'POST',
      '/resource-definitions/apply',
      definition({ replica: 'db-ro.internal' }),
    );
    expect(applied.statusCode, applied.body).toBeLessThan(300);
    const spec = workload('api', 'replica');
    const response = await plan('dev', spec);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().resources).toContainEqual(
      expect.objectContaining({ address: 'api.db', action: 'update' }),
    );
    expect((await deploy('dev', spec)).status).toBe('succeeded');

    // Updated, it is kept again with the outputs it has now.
    await expectRefused('dev', workload('api', 'replcia'), {
      path: variablePath('api'),
      message:
        '${resources.db.replcia}: resource "db" has no output "replcia" ' +
        '(it has: database, host, name, password, port, replica, url, username)',
    });
  });
});
