import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreWorkload } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * Found by review: a plan (`POST .../deployments` with `plan: true`) said OK for workloads the deployment's
 * render then refused, e.g. a readiness probe of a port that is not in service.ports: an API client's dry run
 * must refuse what the real deploy refuses, with the same problems, and still provision nothing.
 */

const base = (
  containers: ScoreWorkload['containers'],
  extra: Partial<ScoreWorkload> = {},
): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name: 'api' },
  containers,
  ...extra,
});
const main = { image: 'node:20', command: ['node', 'server.js'] };

/** Workloads render refuses, each with the problem it reports (path and the start of the message). */
const refused: Array<{ what: string; spec: ScoreWorkload; path: string; message: string | RegExp }> = [
  {
    what: 'a placeholder of a resource the workload does not declare',
    spec: base({ main: { ...main, variables: { DB_HOST: '${resources.db.host}' } } }),
    path: 'workloads.api.containers.main.variables.DB_HOST',
    message: /resources\.db\.host/,
  },
  {
    what: 'a placeholder of a metadata key the workload lacks',
    spec: base({ main: { ...main, variables: { TEAM: '${metadata.team}' } } }),
    path: 'workloads.api.containers.main.variables.TEAM',
    message: /metadata\.team/,
  },
  {
    what: 'an environment value that is not set',
    spec: base(
      { main: { ...main, variables: { FLAG: '${resources.env.FEATURE_FLAG}' } } },
      { resources: { env: { type: 'environment' } } },
    ),
    path: 'workloads.api.containers.main.variables.FLAG',
    message: /the environment has no value FEATURE_FLAG/,
  },
  {
    what: 'a volume whose source is not a volume resource',
    spec: base({ main: { ...main, volumes: { '/data': { source: '/var/lib/data' } } } }),
    path: 'workloads.api.containers.main.volumes./data.source',
    message: /is not a volume resource of the workload/,
  },
  {
    what: 'a file whose source the client did not send',
    spec: base({ main: { ...main, files: { '/etc/app.conf': { source: 'app.conf' } } } }),
    path: 'workloads.api.containers.main.files./etc/app.conf.source',
    message: /the client must send the content of `source` files/,
  },
  {
    what: 'a service-port resource of a workload that is not deployed',
    spec: base(
      { main },
      {
        resources: { backend: { type: 'service-port', params: { workload: 'ghost', port: 'web' } } },
      },
    ),
    path: 'workloads.api.resources.backend.params.workload',
    message: /"ghost" is not deployed here/,
  },
];

describe.each(storeEngines)(
  'a deployment plan makes the checks of the deployment render, on %s',
  (engine) => {
    let api: DeployingApi;
    const plan = (env: string, spec: ScoreWorkload) =>
      api.call('POST', `/apps/shop/envs/${env}/deployments`, {
        workloads: [{ spec, dir: '/srv/api' }],
        plan: true,
      });
    const deploymentsOf = async (env: string) =>
      (await api.call('GET', `/apps/shop/envs/${env}/deployments`)).json().items as unknown[];
    const portAllocations = () => api.store.db.selectFrom('port_allocations').selectAll().execute();

    beforeAll(async () => {
      api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
      for (const [url, body] of [
        ['/apps', { id: 'shop' }],
        ['/apps/shop/envs', { id: 'dev', type: 'development' }],
        ['/apps/shop/envs', { id: 'qa', type: 'development' }],
        [
          '/resource-definitions/apply',
          {
            definitions: [
              {
                id: 'shop-postgres',
                type: 'postgres',
                driver: 'static',
                driverInputs: {
                  values: {
                    host: 'db.internal',
                    port: 5432,
                    name: 'shop',
                    database: 'shop',
                    username: 'shop',
                  },
                  secrets: { password: 'hunter2', url: 'postgresql://shop:hunter2@db.internal:5432/shop' },
                },
                criteria: [{ appId: 'shop' }],
              },
            ],
          },
        ],
      ] as const) {
        const response = await api.call('POST', url, body);
        expect(response.statusCode, response.body).toBeLessThan(300);
      }
    });
    afterAll(async () => {
      await api?.cleanup();
    });

    it.each(refused)('refuses $what as 400, with the problem the deployment fails with', async (example) => {
      const deployed = await api.deploy('shop', 'qa', {
        workloads: [{ spec: example.spec, dir: '/srv/api' }],
      });
      expect(deployed.status).toBe('failed');
      const failure = deployed.reason!.split('\n').find((line) => line.includes(`${example.path}: `));
      expect(failure, deployed.reason!).toBeDefined();

      const response = await plan('dev', example.spec);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      const problems = response.json().errors as Array<{ path: string; message: string }>;
      const problem = problems.find((entry) => entry.path === example.path);
      expect(problem, response.body).toBeDefined();
      expect(problem!.message).toMatch(example.message);
      // The same words as the deployment's failure.
      expect(failure).toContain(`${example.path}: ${problem!.message}`);
      expect(await deploymentsOf('dev')).toEqual([]);
    });

    it('plans a probe of a port that is not in service.ports on a runtime that does not probe from the host', async () => {
      // Valid Score, which kubernetes and Compose probe at the container port: only the process and docker
      // runtimes, which probe readiness from the host, refuse it (render-score-conformance.test.ts).
      const spec = base(
        { main: { ...main, readinessProbe: { httpGet: { path: '/healthz', port: 8080 } } } },
        { service: { ports: { web: { port: 80, targetPort: 3000 } } } },
      );
      const response = await plan('dev', spec);
      expect(response.statusCode, response.body).toBe(200);
      expect(await deploymentsOf('dev')).toEqual([]);
    });

    it('plans workloads render accepts, with outputs of resources it would provision, provisioning nothing', async () => {
      const before = await portAllocations();
      const spec = base(
        {
          main: {
            ...main,
            variables: {
              DB_HOST: '${resources.db.host}',
              DB_URL: '${resources.db.url}',
              NAME: '${metadata.name}',
            },
            readinessProbe: { httpGet: { path: '/healthz', port: 3000 } },
            livenessProbe: { httpGet: { path: '/healthz', port: 80 } },
          },
        },
        {
          service: { ports: { web: { port: 80, targetPort: 3000 } } },
          resources: {
            db: { type: 'postgres' },
            self: { type: 'service-port', params: { workload: 'api' } },
          },
        },
      );
      const response = await plan('dev', spec);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().resources).toMatchObject([{ address: 'api.db', action: 'create' }]);
      expect(await deploymentsOf('dev')).toEqual([]);
      expect((await api.call('GET', '/apps/shop/envs/dev/resources')).json().items).toEqual([]);
      // Host ports are allocated by the deployment, not by its plan.
      expect(await portAllocations()).toEqual(before);
    });

    it('checks environment values against the newest values, as the deployment will', async () => {
      const spec = base(
        { main: { ...main, variables: { FLAG: '${resources.env.FEATURE_FLAG}' } } },
        { resources: { env: { type: 'environment' } } },
      );
      expect((await plan('dev', spec)).statusCode).toBe(400);
      const set = await api.call('PATCH', '/apps/shop/envs/dev/values', {
        set: { FEATURE_FLAG: { value: 'on' } },
      });
      expect(set.statusCode, set.body).toBeLessThan(300);
      const response = await plan('dev', spec);
      expect(response.statusCode, response.body).toBe(200);
    });

    it('reads the values a deployment would record first: an app-level value an older environment has no version of', async () => {
      // An environment made by a Pave that did not record its inherited values has no version yet; the
      // deployment records one from the layers before it renders, so the plan must read the layers too.
      const set = await api.call('PATCH', '/apps/shop/values', { set: { APP_LEVEL: { value: 'yes' } } });
      expect(set.statusCode, set.body).toBeLessThan(300);
      await api.store.db
        .deleteFrom('env_value_versions')
        .where('app_id', '=', 'shop')
        .where('env_id', '=', 'dev')
        .execute();
      const spec = base(
        { main: { ...main, variables: { LEVEL: '${resources.env.APP_LEVEL}' } } },
        { resources: { env: { type: 'environment' } } },
      );
      const planned = await plan('dev', spec);
      expect(planned.statusCode, planned.body).toBe(200);
      expect(await api.deploy('shop', 'dev', { workloads: [{ spec, dir: '/srv/api' }] })).toMatchObject({
        status: 'succeeded',
      });
    });

    it('plans a promotion of a set the render accepts', async () => {
      const good = base({ main });
      expect((await api.deploy('shop', 'qa', { workloads: [{ spec: good, dir: '/srv/api' }] })).status).toBe(
        'succeeded',
      );
      const promoted = await api.call('POST', '/apps/shop/envs/dev/deployments', {
        fromEnv: 'qa',
        plan: true,
      });
      expect(promoted.statusCode, promoted.body).toBe(200);
    });
  },
);
