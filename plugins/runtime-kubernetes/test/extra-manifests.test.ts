import { afterEach, describe, expect, it } from 'vitest';
import type { DriverContext, ExtraManifest, RenderedWorkload } from '@pave/plugin-api';
import {
  DEFAULT_MANIFEST_KINDS,
  KubernetesRuntime,
  renderManifests,
  type KubernetesRuntimeConfig,
} from '../src/index.ts';
import { startFakeCluster, type FakeCluster, type FakeKubeApi } from './support/fake-kube-api.ts';
import { NAMESPACE, twoWorkloadsApp } from './support/two-workloads.ts';

const target = { app: 'shop', env: 'dev' };

const CONFIG_MAP: ExtraManifest = {
  source: 'k8s/config.yaml#1',
  manifest: {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'api-config' },
    data: { LEVEL: 'debug' },
  },
};
const NETWORK_POLICY: ExtraManifest = {
  source: 'k8s/netpol.yaml#2',
  manifest: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'api-ingress', labels: { team: 'checkout' } },
    spec: { podSelector: { matchLabels: { 'pave.dev/workload': 'api' } }, policyTypes: ['Ingress'] },
  },
};
const CLUSTER_ROLE: ExtraManifest = {
  source: 'k8s/rbac.yaml#1',
  manifest: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'api-reader' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
  },
};

function apiWith(manifests: ExtraManifest[]): RenderedWorkload {
  const api = twoWorkloadsApp().workloads[0]!;
  return { ...api, manifests };
}

// The kinds beyond the defaults these tests ship need the target to list them (see manifest-policy.test.ts).
const WITH_CLUSTER_ROLE = { kinds: [...DEFAULT_MANIFEST_KINDS, 'ClusterRole'] };

function renderWith(manifests: ExtraManifest[], allowClusterScoped = false, kinds?: string[]) {
  const app = twoWorkloadsApp();
  return renderManifests({
    ...app,
    workloads: [apiWith(manifests), ...app.workloads.slice(1)],
    ...(allowClusterScoped ? { allowClusterScoped: true, manifestPolicy: WITH_CLUSTER_ROLE } : {}),
    ...(kinds ? { manifestPolicy: { kinds } } : {}),
  });
}

function caught(fn: () => unknown): { message: string; errors: Array<{ path: string; message: string }> } {
  try {
    fn();
  } catch (error) {
    return error as { message: string; errors: Array<{ path: string; message: string }> };
  }
  throw new Error('expected an error');
}

describe("a workload's own manifests (--manifests)", () => {
  it("are rendered in the environment's namespace with the workload's labels, before the Deployment that may need them", () => {
    const objects = renderWith([CONFIG_MAP, NETWORK_POLICY]);
    const policy = objects.find((object) => object.kind === ('NetworkPolicy' as string));
    expect(policy?.metadata).toEqual({
      name: 'api-ingress',
      namespace: NAMESPACE,
      labels: {
        'app.kubernetes.io/instance': 'shop-dev',
        'app.kubernetes.io/managed-by': 'pave',
        'app.kubernetes.io/name': 'api',
        'pave.dev/app': 'shop',
        'pave.dev/env': 'dev',
        'pave.dev/workload': 'api',
        team: 'checkout',
      },
    });
    const config = objects.find((object) => object.metadata?.name === 'api-config');
    expect(config).toMatchObject({ data: { LEVEL: 'debug' }, metadata: { namespace: NAMESPACE } });
    const order = objects.map((object) => `${object.kind}/${object.metadata?.name}`);
    expect(order.indexOf('NetworkPolicy/api-ingress')).toBeLessThan(order.indexOf('Deployment/api'));
    const deployment = objects.find(
      (object) => object.kind === 'Deployment' && object.metadata?.name === 'api',
    );
    expect(JSON.parse(deployment?.metadata?.annotations?.['pave.dev/manifest-kinds'] ?? '[]')).toEqual([
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', namespaced: true },
      { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
    ]);
    const worker = objects.find(
      (object) => object.kind === 'Deployment' && object.metadata?.name === 'worker',
    );
    expect(worker?.metadata?.annotations).not.toHaveProperty('pave.dev/manifest-kinds');
  });

  it('refuses a cluster-scoped kind unless the target allows it', () => {
    const error = caught(() => renderWith([CLUSTER_ROLE]));
    expect(error.errors).toEqual([
      {
        path: 'k8s/rbac.yaml#1: /kind',
        message: expect.stringContaining('ClusterRole is cluster-scoped') as string,
      },
    ]);
    expect(error.errors[0]?.message).toContain('allowClusterScoped: true');
    const allowed = renderWith([CLUSTER_ROLE], true).find(
      (object) => object.kind === ('ClusterRole' as string),
    );
    expect(allowed?.metadata).not.toHaveProperty('namespace');
    expect(allowed?.metadata?.labels?.['pave.dev/workload']).toBe('api');
  });

  it('refuses another namespace, a name Pave already renders, and schema errors, naming the file#document and JSON path', () => {
    const error = caught(() =>
      renderWith([
        {
          source: 'k8s/a.yaml#1',
          manifest: { ...CONFIG_MAP.manifest, metadata: { name: 'x', namespace: 'kube-system' } },
        },
        {
          source: 'k8s/a.yaml#2',
          manifest: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' }, spec: {} },
        },
        {
          source: 'k8s/b.yaml#3',
          manifest: {
            ...NETWORK_POLICY.manifest,
            metadata: { name: 'bad' },
            spec: { podSelector: {}, policyTypes: ['Sideways'] },
          },
        },
      ]),
    );
    const paths = error.errors.map((problem) => problem.path);
    expect(paths).toContain('k8s/a.yaml#1: /metadata/namespace');
    expect(error.errors.find((p) => p.path === 'k8s/a.yaml#1: /metadata/namespace')?.message).toContain(
      `"${NAMESPACE}"`,
    );
    expect(paths).toContain('k8s/a.yaml#2: /metadata/name');
    expect(paths.some((path) => path.startsWith('k8s/b.yaml#3: /spec/policyTypes/0'))).toBe(true);
  });

  it('accepts a custom resource the target lists with the generic checks only', () => {
    const certificates = ['cert-manager.io/Certificate'];
    const objects = renderWith(
      [
        {
          source: 'k8s/cert.yaml#1',
          manifest: {
            apiVersion: 'cert-manager.io/v1',
            kind: 'Certificate',
            metadata: { name: 'api-tls' },
            spec: { secretName: 'api-tls' },
          },
        },
      ],
      false,
      certificates,
    );
    expect(objects.at(-1)).toMatchObject({ kind: 'Certificate', metadata: { namespace: NAMESPACE } });
    const error = caught(() =>
      renderWith(
        [
          {
            source: 'k8s/cert.yaml#1',
            manifest: {
              apiVersion: 'cert-manager.io/v1',
              kind: 'Certificate',
              metadata: { name: 'Not_A_Name' },
            },
          },
        ],
        false,
        certificates,
      ),
    );
    expect(error.errors.map((problem) => problem.path)).toEqual(['k8s/cert.yaml#1: /metadata/name']);
  });
});

function context(): DriverContext {
  const log = () => undefined;
  return {
    logger: { debug: log, info: log, warn: log, error: log },
    signal: new AbortController().signal,
    scratchDir: '/tmp',
    dryRun: false,
  };
}

let api: FakeKubeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function clusterRuntime(
  config: KubernetesRuntimeConfig = {},
): Promise<{ cluster: FakeCluster; runtime: KubernetesRuntime }> {
  const started = await startFakeCluster();
  api = started.api;
  const runtime = KubernetesRuntime.fromConfig({
    kubeconfig: started.api.kubeconfigFile,
    context: 'fake',
    pollMs: 5,
    ...config,
  });
  return { cluster: started.cluster, runtime };
}

const stored = (cluster: FakeCluster) =>
  [...cluster.objects.keys()].filter((key) => !key.startsWith('pods/')).sort();

describe("the kubernetes runtime with a workload's own manifests", () => {
  it('applies them with the workload, and deletes them at the next deploy without them', async () => {
    const { cluster, runtime } = await clusterRuntime();
    await runtime.deploy(target, apiWith([CONFIG_MAP, NETWORK_POLICY]), context());
    expect(stored(cluster)).toContain(`configmaps/${NAMESPACE}/api-config`);
    expect(stored(cluster)).toContain(`networkpolicies/${NAMESPACE}/api-ingress`);
    expect(cluster.objects.get(`networkpolicies/${NAMESPACE}/api-ingress`)?.metadata.labels).toMatchObject({
      'pave.dev/workload': 'api',
    });

    await runtime.deploy(target, apiWith([NETWORK_POLICY]), context());
    expect(stored(cluster)).not.toContain(`configmaps/${NAMESPACE}/api-config`);
    expect(stored(cluster)).toContain(`networkpolicies/${NAMESPACE}/api-ingress`);

    await runtime.deploy(target, apiWith([]), context());
    expect(stored(cluster).filter((key) => key.includes('api-'))).toEqual([]);
    expect(stored(cluster)).toContain(`deployments/${NAMESPACE}/api`);
  });

  it('refuses a ClusterRole on a target that does not allow it, applying nothing', async () => {
    const { cluster, runtime } = await clusterRuntime();
    await expect(runtime.deploy(target, apiWith([CLUSTER_ROLE]), context())).rejects.toMatchObject({
      name: 'InputError',
      errors: [expect.objectContaining({ path: 'k8s/rbac.yaml#1: /kind' })],
    });
    expect(stored(cluster)).toEqual([]);
  });

  it('applies a ClusterRole when the target allows it, keeps it on the next deploy, and deletes it on remove', async () => {
    const { cluster, runtime } = await clusterRuntime({
      allowClusterScoped: true,
      manifests: WITH_CLUSTER_ROLE,
    });
    await runtime.deploy(target, apiWith([CLUSTER_ROLE]), context());
    expect(stored(cluster)).toContain('clusterroles//api-reader');
    await runtime.deploy(target, apiWith([CLUSTER_ROLE]), context());
    expect(stored(cluster)).toContain('clusterroles//api-reader');
    await runtime.remove(target, 'api', context());
    expect(stored(cluster)).not.toContain('clusterroles//api-reader');
  });

  it('refuses allowClusterScoped that is not true or false', () => {
    expect(() => KubernetesRuntime.fromConfig({ allowClusterScoped: 'yes' as unknown as boolean })).toThrow(
      expect.objectContaining({
        errors: [{ path: 'config.allowClusterScoped', message: 'must be true or false' }],
      }),
    );
  });
});

describe('checking a workload’s own manifests when a deployment is planned', () => {
  it('refuses cluster-scoped kinds the target does not allow and schema errors, naming the file#document', () => {
    const runtime = KubernetesRuntime.fromConfig({});
    const shape = (manifests: ExtraManifest[]) => ({ containers: [], manifests });
    expect(runtime.check(shape([CONFIG_MAP, NETWORK_POLICY]))).toEqual([]);
    expect(runtime.check(shape([CLUSTER_ROLE]))).toEqual([
      {
        property: 'manifests',
        reason: expect.stringMatching(/^k8s\/rbac\.yaml#1: \/kind: ClusterRole is cluster-scoped/),
      },
    ]);
    expect(
      KubernetesRuntime.fromConfig({ allowClusterScoped: true, manifests: WITH_CLUSTER_ROLE }).check(
        shape([CLUSTER_ROLE]),
      ),
    ).toEqual([]);
    // Another namespace is only known to be wrong once the environment is: deploy refuses it.
    const elsewhere = {
      ...CONFIG_MAP,
      manifest: { ...CONFIG_MAP.manifest, metadata: { name: 'x', namespace: 'kube-system' } },
    };
    expect(runtime.check(shape([elsewhere]))).toEqual([]);
  });
});
