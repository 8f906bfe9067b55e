import { afterEach, describe, expect, it } from 'vitest';
import type { DriverContext, RenderedWorkload, RuntimeTarget } from '@pave/plugin-api';
import { KubernetesRuntime, namespacePatternProblem } from '../src/index.ts';
import { startFakeCluster, type FakeCluster, type FakeKubeApi } from './support/fake-kube-api.ts';

// App `shop` env `prod-eu` and app `shop-prod` env `eu` both get the namespace `pave-shop-prod-eu` under the
// default pattern, a name that is persisted and cannot change: the runtime must keep each environment's
// objects its own.
const production: RuntimeTarget = { app: 'shop', env: 'prod-eu' };
const intruder: RuntimeTarget = { app: 'shop-prod', env: 'eu' };
const SHARED = 'pave-shop-prod-eu';

function context(): DriverContext & { logged: string[] } {
  const logged: string[] = [];
  const log = (message: string, fields?: Record<string, unknown>) =>
    logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return {
    logger: { debug: log, info: log, warn: log, error: log },
    signal: new AbortController().signal,
    scratchDir: '/tmp',
    dryRun: false,
    logged,
  };
}

function workload(name: string, greeting: string): RenderedWorkload {
  return {
    name,
    hash: `h-${name}-${greeting}`,
    deploymentId: 'dep-1',
    ports: [],
    containers: [
      {
        name: 'main',
        image: 'registry.example/web:1',
        env: { GREETING: greeting },
        files: [],
        workingDir: '/',
        readinessProbe: { exec: { command: ['true'] } },
      },
    ],
  };
}

let api: FakeKubeApi | undefined;
let cluster: FakeCluster;
async function runtimeOn(namespacePattern?: string): Promise<KubernetesRuntime> {
  ({ api, cluster } = await startFakeCluster());
  return KubernetesRuntime.fromConfig({
    kubeconfig: api.kubeconfigFile,
    context: 'fake',
    pollMs: 5,
    ...(namespacePattern ? { namespacePattern } : {}),
  });
}
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const labelsOf = (key: string) => cluster.objects.get(key)?.metadata.labels ?? {};
const owner = (key: string) => {
  const labels = labelsOf(key);
  return `${labels['pave.dev/app']}/${labels['pave.dev/env']}`;
};
const intruderLabels = { 'pave.dev/app': 'shop-prod', 'pave.dev/env': 'eu' };
const writes = () => (api?.calls() ?? []).filter((call) => call.method !== 'GET');

describe('the kubernetes runtime keeps environments whose namespaces collide apart', () => {
  it("refuses to deploy into a Namespace labelled for another environment, applying nothing, and leaves the other's objects alone", async () => {
    const runtime = await runtimeOn();
    await runtime.deploy(production, workload('api', 'production'), context());
    expect(owner(`namespaces//${SHARED}`)).toBe('shop/prod-eu');
    api!.requests.length = 0;

    const refused = runtime.deploy(intruder, workload('api', 'intruder'), context());
    await expect(refused).rejects.toMatchObject({
      name: 'ConflictError',
      message:
        `namespace "${SHARED}" belongs to environment shop/prod-eu (its pave.dev/app and pave.dev/env labels), ` +
        'not to shop-prod/eu: nothing was applied',
      errors: [
        {
          path: 'namespace',
          message: expect.stringMatching(
            /give this environment another id \(or the app another name\).*namespacePattern.*\{app\}.*\{env\}/u,
          ) as string,
        },
      ],
    });
    expect(writes()).toEqual([]);
    expect(owner(`namespaces//${SHARED}`)).toBe('shop/prod-eu');
    expect(owner(`deployments/${SHARED}/api`)).toBe('shop/prod-eu');

    // Its destroy finds nothing of its own: production's Namespace and objects stay.
    await runtime.destroy(intruder, context());
    expect(writes()).toEqual([]);
    expect(cluster.objects.has(`namespaces//${SHARED}`)).toBe(true);
    expect(owner(`deployments/${SHARED}/api`)).toBe('shop/prod-eu');
  });

  it('deploys into a Namespace the platform team made, without Pave labels, and labels it', async () => {
    const runtime = await runtimeOn();
    cluster.objects.set(`namespaces//${SHARED}`, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: SHARED, labels: { team: 'payments' } },
    });
    await runtime.deploy(production, workload('api', 'production'), context());
    expect(owner(`namespaces//${SHARED}`)).toBe('shop/prod-eu');
    expect(owner(`deployments/${SHARED}/api`)).toBe('shop/prod-eu');
  });

  it("refuses to deploy into its Namespace while it holds another environment's objects, and destroy keeps that Namespace", async () => {
    const runtime = await runtimeOn();
    await runtime.deploy(production, workload('api', 'production'), context());
    // What an earlier Pave left: the other environment's deploy relabelled the Namespace and added its own.
    const namespace = cluster.objects.get(`namespaces//${SHARED}`)!;
    namespace.metadata.labels = { ...namespace.metadata.labels, ...intruderLabels };
    const theirs = structuredClone(cluster.objects.get(`deployments/${SHARED}/api`)!);
    theirs.metadata = {
      ...theirs.metadata,
      name: 'worker',
      labels: { ...theirs.metadata.labels, ...intruderLabels },
    };
    cluster.objects.set(`deployments/${SHARED}/worker`, theirs);
    api!.requests.length = 0;

    await expect(runtime.deploy(intruder, workload('api', 'intruder'), context())).rejects.toMatchObject({
      name: 'ConflictError',
      message:
        `namespace "${SHARED}" holds Deployment ${SHARED}/api of environment shop/prod-eu, not only objects of ` +
        'shop-prod/eu: nothing was applied',
    });
    expect(writes()).toEqual([]);

    const ctx = context();
    await runtime.destroy(intruder, ctx);
    expect(
      writes().map((call) => `${call.method} ${call.path}`),
      'only its own objects are deleted',
    ).toEqual([`DELETE /apis/apps/v1/namespaces/${SHARED}/deployments/worker`]);
    expect(cluster.objects.has(`namespaces//${SHARED}`)).toBe(true);
    expect(owner(`deployments/${SHARED}/api`)).toBe('shop/prod-eu');
    expect(ctx.logged.join('\n')).toContain(
      `kept namespace ${SHARED}: it holds objects of other environments`,
    );
  });

  it('refuses a namespacePattern without {app} or {env} when deploying, at the setting, sending nothing', async () => {
    expect(namespacePatternProblem('pave-{app}-{env}')).toBeNull();
    expect(namespacePatternProblem('{env}--{app}')).toBeNull();
    expect(namespacePatternProblem('team-{env}')).toMatch(/lacks \{app\}: .*environments of different apps/u);
    expect(namespacePatternProblem('team-{app}')).toMatch(/lacks \{env\}: .*environments of one app/u);
    expect(namespacePatternProblem('team')).toMatch(/lacks \{app\} and \{env\}/u);
    for (const pattern of ['team-{env}', 'team-{app}']) {
      const runtime = await runtimeOn(pattern);
      await expect(runtime.deploy(production, workload('api', 'x'), context())).rejects.toMatchObject({
        name: 'InputError',
        errors: [{ path: 'config.namespacePattern', message: namespacePatternProblem(pattern) }],
      });
      expect(api!.calls()).toEqual([]);
      await api!.close();
      api = undefined;
    }
  });
});
