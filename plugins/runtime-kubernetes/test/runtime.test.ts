import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DriverContext, RenderedWorkload } from '@pave/plugin-api';
import { KubernetesRuntime } from '../src/index.ts';
import errors from './recorded/errors.json' with { type: 'json' };
import logs from './recorded/logs.json' with { type: 'json' };
import prune from './recorded/prune.json' with { type: 'json' };
import rollout from './recorded/rollout.json' with { type: 'json' };
import status from './recorded/status.json' with { type: 'json' };
import {
  appliedObject,
  startFakeCluster,
  startFakeKubeApi,
  type FakeKubeApi,
  type PodBehaviour,
  type Route,
} from './support/fake-kube-api.ts';
import { NAMESPACE, twoWorkloadsApp } from './support/two-workloads.ts';

const target = { app: 'shop', env: 'dev' };
const base = `/api/v1/namespaces/${NAMESPACE}`;

function context(overrides: Partial<DriverContext> = {}): DriverContext & { logged: string[] } {
  const logged: string[] = [];
  const log = (message: string, fields?: Record<string, unknown>) =>
    logged.push(`${message} ${JSON.stringify(fields ?? {})}`);
  return {
    logger: { debug: log, info: log, warn: log, error: log },
    signal: new AbortController().signal,
    scratchDir: '/tmp',
    dryRun: false,
    logged,
    ...overrides,
  };
}

let api: FakeKubeApi | undefined;
async function runtimeWith(routes: Route[]): Promise<{ fake: FakeKubeApi; runtime: KubernetesRuntime }> {
  api = await startFakeKubeApi(routes);
  const runtime = KubernetesRuntime.fromConfig({
    kubeconfig: api.kubeconfigFile,
    context: 'fake',
    pollMs: 5,
  });
  return { fake: api, runtime };
}
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The pods once the rollout of rollout.json completed: the new pod runs (since long ago), the old one is gone. */
function rolledOut(): typeof rollout.podsRolling {
  const pods = structuredClone(rollout.podsRolling);
  pods.items = pods.items.filter(
    (pod) => pod.metadata.annotations['pave.dev/hash'] === 'sha256-3f1c0e2a9b7d',
  );
  for (const pod of pods.items) {
    pod.status.phase = 'Running';
    for (const container of pod.status.containerStatuses ?? []) {
      container.state = { running: { startedAt: '2026-11-28T10:59:58Z' } } as typeof container.state;
      container.ready = true;
    }
  }
  return pods;
}

const apiWorkload = (): RenderedWorkload => {
  const workload = twoWorkloadsApp().workloads[0];
  if (!workload) throw new Error('no api workload');
  return workload;
};

describe('the kubernetes runtime', () => {
  it('is named kubernetes and reaches workloads through their Services', () => {
    const runtime = KubernetesRuntime.fromConfig({ namespacePattern: 'team-{app}' });
    const port = { name: 'web', port: 8080, targetPort: 3000, protocol: 'TCP' as const, hostPort: 20001 };
    expect(runtime.name).toBe('kubernetes');
    expect(runtime.serviceAddress(target, 'api', port)).toEqual({
      hostname: 'api.team-shop.svc',
      port: 8080,
    });
    expect(runtime.namespace(target)).toBe('team-shop');
  });

  it("deploys a workload: applies its objects, secrets in a Secret, and prunes only that workload's leftovers", async () => {
    const { fake, runtime } = await runtimeWith([
      { method: 'PATCH', path: /./u, reply: appliedObject },
      {
        method: 'GET',
        path: `${base}/services`,
        // The workload used to have a second Service-backed port under another name.
        reply: {
          body: {
            ...prune[`${base}/services`],
            items: [
              prune[`${base}/services`].items[0],
              {
                ...prune[`${base}/services`].items[0],
                metadata: { ...prune[`${base}/services`].items[0]!.metadata, name: 'api-admin' },
              },
            ],
          },
        },
      },
      { method: 'DELETE', path: /./u, reply: { body: errors.deleted } },
    ]);
    const ctx = context();
    await runtime.deploy(target, apiWorkload(), ctx);
    const calls = fake.calls();
    expect(calls.filter((call) => call.method === 'PATCH').map((call) => call.path)).toEqual([
      `/api/v1/namespaces/${NAMESPACE}`,
      `${base}/secrets/api`,
      `${base}/persistentvolumeclaims/uploads`,
      `${base}/services/api`,
      `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/api`,
    ]);
    // The runtime cannot tell which variables or files hold secrets: all of them go to the Secret, and the
    // workload has no ConfigMap (a ConfigMap may be readable to roles that cannot read Secrets).
    const secret = calls.find((call) => call.path === `${base}/secrets/api`)?.body as { data: object };
    const file = expect.stringMatching(/^main\.file\.app_config\.json\.[0-9a-f]{8}$/u) as string;
    expect(Object.keys(secret.data).sort()).toEqual(['main.API_TOKEN', 'main.GREETING', file]);
    const deployment = calls.find((call) => call.path.endsWith('/deployments/api'))?.body as {
      spec: { template: { spec: { volumes: Array<{ name: string }> } } };
    };
    expect(deployment.spec.template.spec.volumes).toContainEqual({
      name: 'pave-secret-files',
      secret: { secretName: 'api', items: [{ key: file, mode: 0o640, path: file }] },
    });
    expect(deployment.spec.template.spec.volumes.map((volume) => volume.name)).not.toContain('pave-files');
    const reads = calls.filter((call) => call.method === 'GET');
    // Whose the namespace is, first (it does not exist here, so nothing in it is another environment's).
    expect(reads[0]?.path).toBe(`/api/v1/namespaces/${NAMESPACE}`);
    const lists = reads.slice(1);
    expect(lists.map((call) => call.path)).toEqual([
      // The kinds of the workload's own manifests are read from its Deployment first (none here).
      `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
      `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
      `${base}/services`,
      `${base}/secrets`,
      `${base}/configmaps`,
    ]);
    for (const list of lists) {
      expect(list.query.labelSelector).toBe('pave.dev/app=shop,pave.dev/env=dev,pave.dev/workload=api');
    }
    expect(calls.filter((call) => call.method === 'DELETE').map((call) => call.path)).toEqual([
      `${base}/services/api-admin`,
    ]);
    expect(ctx.logged.join('\n')).toContain('"pruned":["Service pave-shop-dev/api-admin"]');
    expect(ctx.logged.join('\n')).not.toContain('s3cr3t-token');
  });

  it('refuses workloads whose manifests do not validate, sending nothing', async () => {
    const { fake, runtime } = await runtimeWith([{ method: 'PATCH', path: /./u, reply: appliedObject }]);
    const broken = {
      ...apiWorkload(),
      containers: [
        { ...apiWorkload().containers[0]!, files: [{ target: '/etc/x', content: 'x', mode: '0999' }] },
      ],
    };
    await expect(runtime.deploy(target, broken, context())).rejects.toMatchObject({
      name: 'InputError',
      errors: [
        {
          path: 'workloads.api.containers.main.files./etc/x.mode',
          message: '"0999" is not an octal file mode such as "0644"',
        },
      ],
    });
    expect(fake.requests).toEqual([]);
  });

  it('is ready once the Deployment has rolled out', async () => {
    const { runtime } = await runtimeWith([
      {
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/api`,
        reply: [{ body: rollout.progressing }, { body: rollout.complete }],
      },
      { method: 'GET', path: `${base}/pods`, reply: [{ body: rollout.podsRolling }, { body: rolledOut() }] },
    ]);
    expect(await runtime.waitReady(target, 'api', context())).toEqual({ ready: true });
  });

  it("is not ready when the new version crash-loops, with its exit code and its previous run's last logs", async () => {
    const { fake, runtime } = await runtimeWith([
      {
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/api`,
        reply: { body: rollout.progressing },
      },
      { method: 'GET', path: `${base}/pods`, reply: { body: rollout.podsCrashLoop } },
      {
        method: 'GET',
        path: `${base}/pods/api-6d4cf56db6-x2k9p/log`,
        reply: (request) => ({
          body: request.query.previous === 'true' ? logs['api-6d4cf56db6-x2k9p/main?previous'] : '',
        }),
      },
    ]);
    const result = await runtime.waitReady(target, 'api', context());
    expect(result).toEqual({
      ready: false,
      reason: expect.stringContaining('is in CrashLoopBackOff; it last exited with code 3 (Error)'),
      lastLogs: ['refusing to start: missing DATABASE_URL'],
    });
    const logRead = fake.calls().find((call) => call.path.endsWith('/log'));
    expect(logRead?.query).toEqual({
      container: 'main',
      previous: 'true',
      tailLines: '20',
      timestamps: 'true',
    });
  });

  it('reports each workload from its Deployment and pods: ports as rendered, hash, restarts, crash loops', async () => {
    const { fake, runtime } = await runtimeWith([
      {
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
        reply: { body: status.deployments },
      },
      { method: 'GET', path: `${base}/pods`, reply: { body: status.pods } },
    ]);
    const statuses = await runtime.status(target, context());
    expect(statuses).toEqual([
      {
        workload: 'api',
        state: 'ready',
        restarts: 0,
        hash: 'sha256-3f1c0e2a9b7d',
        deploymentId: 'dep-7',
        ports: [{ hostPort: 28080, name: 'web', port: 8080, protocol: 'TCP', targetPort: 8080 }],
        containers: [{ name: 'main', state: 'running', restarts: 0 }],
      },
      {
        workload: 'worker',
        state: 'crash-looping',
        restarts: 2,
        hash: 'sha256-9a8b7c6d5e4f',
        deploymentId: 'dep-7',
        ports: [],
        containers: [
          {
            name: 'main',
            state: 'waiting: CrashLoopBackOff',
            restarts: 2,
            lastExit: 'exited with code 1 (Error) at 2026-11-28T11:00:41.000Z',
          },
        ],
        detail: expect.stringContaining(
          'container "main" of pod worker-7c9d8e6f5-m4n5b is in CrashLoopBackOff',
        ),
      },
    ]);
    expect(fake.calls().every((call) => call.method === 'GET')).toBe(true);
    expect(fake.calls()[0]?.query).toEqual({ labelSelector: 'pave.dev/app=shop,pave.dev/env=dev' });
  });

  it('reports no workloads for an environment whose namespace does not exist', async () => {
    const { runtime } = await runtimeWith([]);
    expect(await runtime.status(target, context())).toEqual([]);
  });

  it('removes a workload by its labels, keeping volume claims; destroy deletes the environment and its Namespace', async () => {
    const listOf = (path: string) => ({
      method: 'GET',
      path,
      reply: { body: prune[path as keyof typeof prune] },
    });
    const { fake, runtime } = await runtimeWith([
      ...Object.keys(prune).map(listOf),
      {
        method: 'GET',
        path: '/api/v1/namespaces',
        reply: {
          body: {
            kind: 'NamespaceList',
            apiVersion: 'v1',
            metadata: {},
            items: [
              { metadata: { name: NAMESPACE, labels: { 'pave.dev/app': 'shop', 'pave.dev/env': 'dev' } } },
            ],
          },
        },
      },
      { method: 'DELETE', path: /./u, reply: { body: errors.deleted } },
    ]);
    await runtime.remove(target, 'old-worker', context());
    expect(
      fake
        .calls()
        .filter((call) => call.method === 'GET')
        .map((call) => call.query.labelSelector),
    ).toEqual(Array(6).fill('pave.dev/app=shop,pave.dev/env=dev,pave.dev/workload=old-worker'));
    expect(fake.calls().some((call) => call.path.endsWith('/persistentvolumeclaims'))).toBe(false);

    fake.requests.length = 0;
    await runtime.destroy(target, context());
    const deletes = fake
      .calls()
      .filter((call) => call.method === 'DELETE')
      .map((call) => call.path);
    expect(deletes).toContain(`${base}/persistentvolumeclaims/uploads`);
    expect(deletes.at(-1)).toBe(`/api/v1/namespaces/${NAMESPACE}`);
    expect(fake.calls().find((call) => call.path === '/api/v1/namespaces')?.query).toEqual({
      labelSelector: 'pave.dev/app=shop,pave.dev/env=dev',
    });
  });

  it('streams the last log lines of a workload', async () => {
    const { runtime } = await runtimeWith([
      { method: 'GET', path: `${base}/pods`, reply: { body: status.pods } },
      {
        method: 'GET',
        path: `${base}/pods/worker-7c9d8e6f5-m4n5b/log`,
        reply: { body: logs['worker-7c9d8e6f5-m4n5b/main'] },
      },
    ]);
    const lines = [];
    for await (const line of runtime.logs(target, { workload: 'worker', follow: false }, context()))
      lines.push(line);
    expect(lines).toEqual([
      {
        workload: 'worker',
        container: 'main',
        stream: 'stdout',
        at: '2026-11-28T11:00:41.000000000Z',
        line: 'worker started',
      },
      {
        workload: 'worker',
        container: 'main',
        stream: 'stdout',
        at: '2026-11-28T11:00:41.000000001Z',
        line: 'worker calling http://api.pave-shop-dev.svc:8080/',
      },
    ]);
  });

  it("sets no deadline of its own: a rollout that never completes is waited for until the caller's signal aborts", async () => {
    const started = await startFakeCluster({ kubelet: () => ({ kind: 'never-ready' }) });
    api = started.api;
    const runtime = KubernetesRuntime.fromConfig({
      kubeconfig: api.kubeconfigFile,
      context: 'fake',
      pollMs: 10,
    });
    const workload = apiWorkload();
    await runtime.deploy(target, workload, context());
    // A deployment's --timeout (up to an hour) is the deadline, through ctx.signal: one of the runtime's own
    // (it had 300 s) would cut a longer one short.
    const deadlines = vi.spyOn(AbortSignal, 'timeout');
    const caller = new AbortController();
    const aborting = setTimeout(() => caller.abort(), 300);
    const waiting = Date.now();
    try {
      const result = await runtime.waitReady(target, workload.name, context({ signal: caller.signal }));
      expect(Date.now() - waiting).toBeGreaterThanOrEqual(290);
      expect(result).toMatchObject({
        ready: false,
        reason: expect.stringMatching(/^timed out after 0 s: /u),
      });
      expect(deadlines).not.toHaveBeenCalled();
    } finally {
      clearTimeout(aborting);
      deadlines.mockRestore();
    }
  });

  describe('with containers that have no readiness probe', () => {
    /** A runtime against a fake cluster whose pods behave as `behaviour`, and a probe-less workload. */
    async function probeless(behaviour: PodBehaviour, probed = false) {
      await api?.close();
      const started = await startFakeCluster({ kubelet: () => behaviour });
      api = started.api;
      const runtime = KubernetesRuntime.fromConfig({
        kubeconfig: api.kubeconfigFile,
        context: 'fake',
        pollMs: 10,
      });
      const workload: RenderedWorkload = {
        name: 'worker',
        hash: `h-${behaviour.kind}-${probed}`,
        deploymentId: 'dep-1',
        ports: [],
        containers: [
          {
            name: 'main',
            image: 'registry.example/worker:1',
            env: {},
            files: [],
            workingDir: '/',
            ...(probed ? { readinessProbe: { exec: { command: ['true'] } } } : {}),
          },
        ],
      };
      await runtime.deploy(target, workload, context());
      return runtime;
    }

    it('counts them ready only once they kept running stableMs since they started', async () => {
      // The window starts when the pod starts, during deploy.
      const started = Date.now();
      const runtime = await probeless({ kind: 'ready' });
      expect(await runtime.waitReady(target, 'worker', context(), { stableMs: 400 })).toEqual({
        ready: true,
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(390);

      const probed = await probeless({ kind: 'ready' }, true);
      const again = Date.now();
      expect(await probed.waitReady(target, 'worker', context(), { stableMs: 5_000 })).toEqual({
        ready: true,
      });
      expect(Date.now() - again).toBeLessThan(1_000);
    });

    it('is not ready, at once, when one restarts within stableMs: with its exit code and last logs', async () => {
      const runtime = await probeless({
        kind: 'restarts',
        afterMs: 150,
        exitCode: 1,
        logs: ['lost the connection to the queue'],
      });
      const started = Date.now();
      const result = await runtime.waitReady(target, 'worker', context(), { stableMs: 5_000 });
      expect(result).toEqual({
        ready: false,
        reason: expect.stringMatching(
          /^container "main" of pod worker-\S+ restarted within 5000 ms of starting; it last exited with code 1 \(Error\)$/u,
        ),
        lastLogs: ['lost the connection to the queue'],
      });
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('stops waiting for the window when ctx.signal aborts', async () => {
      const runtime = await probeless({ kind: 'ready' });
      const result = await runtime.waitReady(
        target,
        'worker',
        context({ signal: AbortSignal.timeout(200) }),
        { stableMs: 60_000 },
      );
      expect(result).toMatchObject({
        ready: false,
        reason: expect.stringMatching(
          /^timed out after \d+ s: container "main" has run \d+ of the 60000 ms/u,
        ),
      });
    });
  });

  it('refuses settings of the wrong type, listing each', () => {
    expect(() =>
      KubernetesRuntime.fromConfig({ kubeconfig: 42, pollMs: 'fast' } as unknown as { kubeconfig: string }),
    ).toThrow(
      expect.objectContaining({
        name: 'InputError',
        errors: [
          { path: 'config.kubeconfig', message: 'must be a string' },
          { path: 'config.pollMs', message: 'must be a positive number of milliseconds' },
        ],
      }),
    );
  });

  it('says which kubeconfig context is missing', async () => {
    const { runtime: _unused, fake } = await runtimeWith([]);
    const runtime = KubernetesRuntime.fromConfig({ kubeconfig: fake.kubeconfigFile, context: 'prod' });
    await expect(runtime.status(target, context())).rejects.toThrow(
      'the kubeconfig has no context "prod" (it has: fake)',
    );
  });
});
