import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, type ScoreWorkload, type WorkloadSource } from '@pave/core';
import { storeEngines } from '../../../test/support/stores.ts';
import { renderSet } from '../src/domain/deployments/render.ts';
import { previewEnvironment } from '../src/domain/deployments/preview.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

/*
 * Found by a Score-conformance review of the render:
 * - a `service-port` whose `params.port` names no port of the other workload got its first port (a typo of
 *   `web` reached a UDP metrics port); score-compose refuses an unknown service port;
 * - `${resources.NAME}` (score-go: the outputs as JSON) was refused as "not a placeholder Score knows", and
 *   `${resources.dd.host.nothing.here}` rendered as the host, the rest dropped;
 * - a probe of a port service.ports lacks was refused on every runtime, though only the process and docker
 *   runtimes probe readiness from the host (at a service port's host port); kubernetes and Compose probe the
 *   container port;
 * - a route naming its port (`port: web`, as score-compose's example does) had no check before provisioning.
 */

const workload = (
  name: string,
  extra: Partial<ScoreWorkload> = {},
  variables: Record<string, string> = {},
): ScoreWorkload => ({
  apiVersion: 'score.dev/v1b1',
  metadata: { name },
  containers: { main: { image: 'node:20', command: ['node', 'server.js'], variables } },
  ...extra,
});
const source = (spec: ScoreWorkload): WorkloadSource => ({ spec, dir: '/srv/app' });

const ALPHA = workload('alpha', {
  service: { ports: { web: { port: 8080 }, metrics: { port: 9100, protocol: 'UDP' } } },
});
const beta = (
  params: Record<string, unknown>,
  variables: Record<string, string> = { TO: '${resources.to.port}' },
) => workload('beta', { resources: { to: { type: 'service-port', params } } }, variables);

// A quote and a backslash: in `${resources.NAME}`'s JSON the secret is escaped, and must still be recognised.
const SECRET = `pw-"${Math.random().toString(36).slice(2)}"\\-secret`;

describe.each(storeEngines)('the render, as Score renders it, on %s', (engine) => {
  let api: DeployingApi;
  let env = 0;
  /** A fresh environment of app shop: renders and plans of one test do not meet another's ports. */
  const environment = async () => {
    const id = `e${++env}`;
    const created = await api.call('POST', '/apps/shop/envs', { id, type: 'development' });
    expect(created.statusCode, created.body).toBe(201);
    return id;
  };
  const render = (envId: string, specs: ScoreWorkload[], extra: { runtime?: string } = {}) =>
    renderSet(
      api.store.db,
      { app: 'shop', env: envId, deploymentId: '1', ...extra },
      Object.fromEntries(specs.map((spec) => [spec.metadata.name, source(spec)])),
    );
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable('the render should have refused'),
      (error: unknown) => {
        expect(error).toBeInstanceOf(InputError);
        return (error as InputError).errors;
      },
    );
  const plan = (envId: string, specs: ScoreWorkload[]) =>
    api.call('POST', `/apps/shop/envs/${envId}/deployments`, {
      workloads: specs.map((spec) => ({ spec, dir: '/srv/app' })),
      plan: true,
    });

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      [
        '/resource-definitions/apply',
        {
          definitions: [
            {
              id: 'shop-thing',
              type: 'thing',
              driver: 'static',
              driverInputs: { values: { host: 'thing.internal' }, secrets: { password: SECRET } },
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

  describe('a service-port resource', () => {
    it('naming a port the other workload lacks is refused at params.port, naming the ports it has', async () => {
      const problem = {
        path: 'workloads.beta.resources.to.params.port',
        message:
          'workload "alpha" has no service port "wbe"; name one of its service.ports: metrics (port 9100, UDP), ' +
          'web (port 8080, TCP)',
      };
      // The variable that uses the resource is refused too, as for a workload that is not deployed.
      expect(
        await refusal(render(await environment(), [ALPHA, beta({ workload: 'alpha', port: 'wbe' })])),
      ).toEqual([
        problem,
        {
          path: 'workloads.beta.containers.main.variables.TO',
          message: expect.stringContaining('"to" has no outputs'),
        },
      ]);
      const planned = await plan(await environment(), [ALPHA, beta({ workload: 'alpha', port: 'wbe' })]);
      expect(planned.statusCode, planned.body).toBe(400);
      expect(planned.json().errors).toContainEqual(problem);
    });

    it('refuses a port that is neither a name nor a number', async () => {
      expect(
        await refusal(
          render(await environment(), [ALPHA, beta({ workload: 'alpha', port: { name: 'web' } })]),
        ),
      ).toContainEqual({
        path: 'workloads.beta.resources.to.params.port',
        message:
          'must be the name or the port number of a service port of workload "alpha", not a map; its ' +
          'service.ports: metrics (port 9100, UDP), web (port 8080, TCP)',
      });
    });

    it('reaches the port named, by name or number, and the first one (by name) without a port', async () => {
      const envId = await environment();
      const rendered = await render(envId, [ALPHA, beta({ workload: 'alpha', port: 'web' })]);
      const ports = Object.fromEntries(rendered[0]!.ports.map((port) => [port.name, String(port.hostPort)]));
      expect(rendered[1]!.containers[0]!.env).toEqual({ TO: ports.web });
      expect(
        (await render(envId, [ALPHA, beta({ workload: 'alpha', port: 8080 })]))[1]!.containers[0]!.env,
      ).toEqual({ TO: ports.web });
      expect((await render(envId, [ALPHA, beta({ workload: 'alpha' })]))[1]!.containers[0]!.env).toEqual({
        TO: ports.metrics,
      });
    });
  });

  describe('${resources.NAME}', () => {
    it('is the JSON of the outputs, as score-go gives it', async () => {
      const envId = await environment();
      const rendered = await render(envId, [
        ALPHA,
        beta({ workload: 'alpha', port: 'web' }, { ALL: '${resources.to}', CONF: 'x=${resources.to}' }),
      ]);
      const port = rendered[0]!.ports.find((entry) => entry.name === 'web')!.hostPort;
      const json = `{"hostname":"127.0.0.1","port":"${port}"}`;
      expect(rendered[1]!.containers[0]!.env).toEqual({ ALL: json, CONF: `x=${json}` });
    });

    it('of a resource with secret outputs holds them, and the variable is secret-bearing', async () => {
      const envId = await environment();
      const spec = workload(
        'api',
        { resources: { thing: { type: 'thing' } } },
        { ALL: '${resources.thing}', HOST: '${resources.thing.host}' },
      );
      const deployed = await api.deploy('shop', envId, { workloads: [source(spec)] });
      expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
      const preview = await previewEnvironment(api.store, api.box, { app: 'shop', env: envId });
      expect(preview.workloads[0]!.containers[0]!.env).toEqual({
        ALL: JSON.stringify({ host: 'thing.internal', password: SECRET }),
        HOST: 'thing.internal',
      });
      expect(preview.secretKeys('api', 'main')).toEqual(['ALL']);
    });

    it('refuses a part after an output at plan and render, in the words of pave validate', async () => {
      const spec = beta(
        { workload: 'alpha', port: 'web' },
        { MORE: '${resources.to.hostname.nothing.here}' },
      );
      const problem = {
        path: 'workloads.beta.containers.main.variables.MORE',
        message:
          '${resources.to.hostname.nothing.here}: resources.to.hostname is an output, and outputs are strings, ' +
          'so it has no key "nothing"; write ${resources.to.hostname} for the output, or ${resources.to} for ' +
          'every output as JSON',
      };
      expect(await refusal(render(await environment(), [ALPHA, spec]))).toEqual([problem]);
      const planned = await plan(await environment(), [ALPHA, spec]);
      expect(planned.statusCode, planned.body).toBe(400);
      expect(planned.json().errors).toContainEqual(problem);
    });
  });

  describe('a probe of a port service.ports lacks', () => {
    // Shaped like the official samples: probes of the container's own port, readiness and liveness.
    const probed = workload('probed', { service: { ports: { web: { port: 80, targetPort: 3000 } } } });
    probed.containers.main!.readinessProbe = { httpGet: { path: '/ready', port: 8080 } };
    probed.containers.main!.livenessProbe = { httpGet: { path: '/alive', port: 8080 } };

    it('renders with the container port where the runtime probes the container (kubernetes, Compose)', async () => {
      for (const extra of [{}, { runtime: 'kubernetes' }]) {
        const [rendered] = await render(await environment(), [probed], extra);
        expect(rendered!.containers[0]!.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 8080 } });
        expect(rendered!.containers[0]!.livenessProbe).toEqual({ httpGet: { path: '/alive', port: 8080 } });
      }
    });

    it.each(['process', 'docker'])(
      'is refused on the %s runtime at readiness, which it probes from the host',
      async (runtime) => {
        expect(await refusal(render(await environment(), [probed], { runtime }))).toEqual([
          {
            path: 'workloads.probed.containers.main.readinessProbe.httpGet.port',
            message: expect.stringMatching(
              new RegExp(
                `^port 8080 is not a port of service.ports, and the ${runtime} runtime runs readiness`,
                'u',
              ),
            ),
          },
        ]);
      },
    );

    it('is accepted by the API and deployed', async () => {
      const envId = await environment();
      const deployed = await api.deploy('shop', envId, { workloads: [source(probed)] });
      expect(deployed.status, deployed.reason ?? '').toBe('succeeded');
    });
  });

  describe("a route's params.port", () => {
    const routed = (port: unknown) =>
      workload('api', {
        service: { ports: { web: { port: 80, targetPort: 3000 }, admin: { port: 9000 } } },
        resources: { route: { type: 'route', params: { host: 'api.localhost', path: '/', port } } },
      });

    it('naming a port service.ports lacks is refused by the plan, naming the ports there are', async () => {
      const planned = await plan(await environment(), [routed('wbe')]);
      expect(planned.statusCode, planned.body).toBe(400);
      expect(planned.json().errors).toContainEqual({
        path: 'workloads.api.resources.route.params.port',
        message:
          '"wbe" is not a port of service.ports; name one (workload "api" declares admin: port 9000; web: port ' +
          '80, targetPort 3000), or give its port number',
      });
    });

    it('naming a declared port passes the plan', async () => {
      const planned = await plan(await environment(), [routed('web')]);
      expect(planned.statusCode, planned.body).toBe(200);
    });
  });
});
