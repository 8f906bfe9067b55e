import { afterEach, describe, expect, it } from 'vitest';
import type { DriverContext, ExtraManifest, RenderedWorkload } from '@pave/plugin-api';
import { KubernetesRuntime, renderManifests, type KubernetesRuntimeConfig } from '../src/index.ts';
import { startFakeCluster, type FakeCluster, type FakeKubeApi } from './support/fake-kube-api.ts';
import { NAMESPACE, twoWorkloadsApp } from './support/two-workloads.ts';

/*
 * What a developer (an app role, no platform role) may ship with `pave deploy --manifests` is bounded by the
 * runtime target: these are the objects a reviewer shipped to get root on the nodes and to open the namespace
 * to anyone.
 */

const target = { app: 'shop', env: 'dev' };
const POD_SPEC = '/spec/template/spec';

const NODE_ROOT: ExtraManifest = {
  source: 'k8s/debug.yaml#1',
  manifest: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'debug' },
    spec: {
      selector: { matchLabels: { run: 'debug' } },
      template: {
        metadata: { labels: { run: 'debug' } },
        spec: {
          hostNetwork: true,
          hostPID: true,
          tolerations: [{ operator: 'Exists' }],
          volumes: [{ name: 'host', hostPath: { path: '/' } }],
          containers: [
            {
              name: 'shell',
              image: 'busybox',
              command: ['chroot', '/host', 'sh'],
              securityContext: { privileged: true, runAsUser: 0 },
              volumeMounts: [{ name: 'host', mountPath: '/host' }],
            },
          ],
        },
      },
    },
  },
};

const OPEN_TO_ANYONE: ExtraManifest = {
  source: 'k8s/rbac.yaml#2',
  manifest: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'everyone-admin' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' }],
  },
};

const ANY_HOST: ExtraManifest = {
  source: 'k8s/ingress.yaml#1',
  manifest: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'shop' },
    spec: {
      rules: [
        {
          host: 'checkout.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'api', port: { number: 8080 } } },
              },
            ],
          },
        },
      ],
    },
  },
};

const CONFIG_MAP: ExtraManifest = {
  source: 'k8s/config.yaml#1',
  manifest: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'api-config' }, data: { A: '1' } },
};

const shape = (manifests: ExtraManifest[]) => ({ containers: [], manifests });

function apiWith(manifests: ExtraManifest[]): RenderedWorkload {
  return { ...twoWorkloadsApp().workloads[0]!, manifests };
}

function reasons(config: KubernetesRuntimeConfig, manifests: ExtraManifest[]): string[] {
  return KubernetesRuntime.fromConfig(config)
    .check(shape(manifests))
    .map((failure) => failure.reason);
}

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

describe("a developer's manifests on a target with the default settings", () => {
  it('are refused when a pod template asks for the node: privileged, root, host namespaces, hostPath, every toleration', () => {
    const found = reasons({}, [NODE_ROOT]);
    const at = (pointer: string) =>
      found.find((reason) => reason.startsWith(`k8s/debug.yaml#1: ${pointer}:`));
    for (const pointer of [
      `${POD_SPEC}/hostNetwork`,
      `${POD_SPEC}/hostPID`,
      `${POD_SPEC}/tolerations/0`,
      `${POD_SPEC}/volumes/0/hostPath`,
      `${POD_SPEC}/containers/0/securityContext/privileged`,
      `${POD_SPEC}/containers/0/securityContext/runAsUser`,
    ]) {
      expect(at(pointer), pointer).toBeDefined();
    }
    expect(found).toHaveLength(6);
    const privileged = at(`${POD_SPEC}/containers/0/securityContext/privileged`) ?? '';
    // What is wrong, in which object, and what the platform team changes to allow it.
    expect(privileged).toContain('Deployment debug');
    expect(privileged).toContain('manifests.privileged: true');
  });

  it('are refused when they bind roles (RBAC kinds are not allowed unless the target lists them)', () => {
    expect(reasons({}, [OPEN_TO_ANYONE])).toEqual([
      expect.stringMatching(
        /^k8s\/rbac\.yaml#2: \/kind: RoleBinding everyone-admin: RBAC .*manifests\.kinds/u,
      ),
    ]);
  });

  it('are refused when they claim a host with an Ingress (Pave cannot check it against the route claims)', () => {
    expect(reasons({}, [ANY_HOST])).toEqual([
      expect.stringMatching(/^k8s\/ingress\.yaml#1: \/kind: Ingress shop: an Ingress can claim any host/u),
    ]);
  });

  it('are accepted when they need nothing of the node', () => {
    expect(reasons({}, [CONFIG_MAP])).toEqual([]);
    const plain = structuredClone(NODE_ROOT);
    const spec = (plain.manifest as { spec: { template: { spec: Record<string, unknown> } } }).spec.template
      .spec;
    spec.containers = [{ name: 'app', image: 'busybox', securityContext: { runAsNonRoot: true } }];
    delete spec.hostNetwork;
    delete spec.hostPID;
    delete spec.tolerations;
    delete spec.volumes;
    expect(reasons({}, [plain])).toEqual([]);
  });

  it('are refused by deploy too, applying nothing', async () => {
    const { cluster, runtime } = await clusterRuntime();
    await expect(
      runtime.deploy(target, apiWith([CONFIG_MAP, NODE_ROOT, OPEN_TO_ANYONE]), context()),
    ).rejects.toMatchObject({ name: 'InputError' });
    expect(stored(cluster)).toEqual([]);
  });

  it('are refused by render, whatever renders them', () => {
    const app = twoWorkloadsApp();
    expect(() =>
      renderManifests({ ...app, workloads: [apiWith([NODE_ROOT]), ...app.workloads.slice(1)] }),
    ).toThrow(
      expect.objectContaining({
        errors: expect.arrayContaining([
          expect.objectContaining({ path: `k8s/debug.yaml#1: ${POD_SPEC}/hostNetwork` }),
        ]) as unknown,
      }),
    );
  });
});

describe('the target setting `manifests`', () => {
  it('with allow: false refuses every manifest', () => {
    expect(reasons({ manifests: { allow: false } }, [CONFIG_MAP])).toEqual([
      expect.stringMatching(/^k8s\/config\.yaml#1: \/: .*manifests\.allow/u),
    ]);
  });

  it('with privileged: true accepts pod templates that use the node', () => {
    expect(reasons({ manifests: { privileged: true } }, [NODE_ROOT])).toEqual([]);
  });

  it('with kinds lists exactly the kinds developers may ship, custom resources by group/Kind', () => {
    const certificate: ExtraManifest = {
      source: 'k8s/cert.yaml#1',
      manifest: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'api-tls' } },
    };
    expect(reasons({}, [certificate])).toHaveLength(1);
    const config = { manifests: { kinds: ['Ingress', 'cert-manager.io/Certificate'] } };
    expect(reasons(config, [ANY_HOST, certificate])).toEqual([]);
    // The list replaces the default one: a ConfigMap is now refused.
    expect(reasons(config, [CONFIG_MAP])).toHaveLength(1);
    // A kind of another group does not pass as the built-in kind of that name.
    const fake = { ...certificate, manifest: { ...certificate.manifest, kind: 'Ingress' } };
    expect(reasons(config, [fake])).toHaveLength(1);
  });

  it('with RoleBinding listed still bounds bindings unless privileged: a Role of the namespace, its service accounts', () => {
    const config = { manifests: { kinds: ['RoleBinding'] } };
    const found = reasons(config, [OPEN_TO_ANYONE]);
    expect(found).toEqual([
      expect.stringMatching(/^k8s\/rbac\.yaml#2: \/roleRef: .*cluster-admin/u),
      expect.stringMatching(/^k8s\/rbac\.yaml#2: \/subjects\/0: .*system:unauthenticated/u),
    ]);
    const own: ExtraManifest = {
      source: 'k8s/rbac.yaml#3',
      manifest: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'api-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'api' }],
      },
    };
    expect(reasons(config, [own])).toEqual([]);
    expect(reasons({ manifests: { kinds: ['RoleBinding'], privileged: true } }, [OPEN_TO_ANYONE])).toEqual(
      [],
    );
  });

  it('applies what it allows to the cluster', async () => {
    const { cluster, runtime } = await clusterRuntime({ manifests: { privileged: true } });
    await runtime.deploy(target, apiWith([NODE_ROOT]), context());
    expect(stored(cluster)).toContain(`deployments/${NAMESPACE}/debug`);
  });

  it('is refused when it is not of the right shape', () => {
    expect(() =>
      KubernetesRuntime.fromConfig({
        manifests: { allow: 'yes', kinds: 'ConfigMap', privileged: 1, extra: true } as never,
      }),
    ).toThrow(
      expect.objectContaining({
        errors: [
          { path: 'config.manifests.allow', message: 'must be true or false' },
          { path: 'config.manifests.kinds', message: expect.stringContaining('list of kinds') as string },
          { path: 'config.manifests.privileged', message: 'must be true or false' },
          {
            path: 'config.manifests.extra',
            message: expect.stringContaining('allow, kinds, privileged') as string,
          },
        ],
      }),
    );
  });
});

/** A Deployment `web` whose pod template is a plain container `app` changed by `change`. */
function deployment(
  change: (template: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void,
) {
  const template = {
    metadata: { labels: { run: 'web' } } as Record<string, unknown>,
    spec: { containers: [{ name: 'app', image: 'nginx' }] } as Record<string, unknown>,
  };
  change(template);
  return {
    source: 'k8s/web.yaml#1',
    manifest: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { run: 'web' } }, template },
    },
  } satisfies ExtraManifest;
}

const CONTAINER = `${POD_SPEC}/containers/0`;
const ANNOTATIONS = '/spec/template/metadata/annotations';

/** Past the scheduler, the node's security profiles, kernel settings and storage: each needs `privileged`. */
const NODE_REACHING: Array<[string, ExtraManifest, string]> = [
  [
    'nodeName (skips the scheduler and taints)',
    deployment((t) => (t.spec.nodeName = 'cp-1')),
    `${POD_SPEC}/nodeName`,
  ],
  ...['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'].map(
    (key): [string, ExtraManifest, string] => [
      `a toleration of ${key}`,
      deployment((t) => (t.spec.tolerations = [{ key, operator: 'Exists', effect: 'NoSchedule' }])),
      `${POD_SPEC}/tolerations/0`,
    ],
  ),
  [
    'seccomp Unconfined (pod)',
    deployment((t) => (t.spec.securityContext = { seccompProfile: { type: 'Unconfined' } })),
    `${POD_SPEC}/securityContext/seccompProfile/type`,
  ],
  [
    'seccomp Unconfined (container)',
    deployment(
      (t) =>
        (t.spec.containers = [
          { name: 'app', image: 'nginx', securityContext: { seccompProfile: { type: 'Unconfined' } } },
        ]),
    ),
    `${CONTAINER}/securityContext/seccompProfile/type`,
  ],
  [
    'seccomp unconfined (legacy pod annotation)',
    deployment(
      (t) => (t.metadata.annotations = { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' }),
    ),
    `${ANNOTATIONS}/seccomp.security.alpha.kubernetes.io~1pod`,
  ],
  [
    'seccomp unconfined (legacy container annotation)',
    deployment(
      (t) =>
        (t.metadata.annotations = { 'container.seccomp.security.alpha.kubernetes.io/app': 'unconfined' }),
    ),
    `${ANNOTATIONS}/container.seccomp.security.alpha.kubernetes.io~1app`,
  ],
  [
    'appArmor Unconfined (pod)',
    deployment((t) => (t.spec.securityContext = { appArmorProfile: { type: 'Unconfined' } })),
    `${POD_SPEC}/securityContext/appArmorProfile/type`,
  ],
  [
    'appArmor Unconfined (container)',
    deployment(
      (t) =>
        (t.spec.containers = [
          { name: 'app', image: 'nginx', securityContext: { appArmorProfile: { type: 'Unconfined' } } },
        ]),
    ),
    `${CONTAINER}/securityContext/appArmorProfile/type`,
  ],
  [
    'appArmor unconfined (legacy annotation)',
    deployment(
      (t) =>
        (t.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }),
    ),
    `${ANNOTATIONS}/container.apparmor.security.beta.kubernetes.io~1app`,
  ],
  [
    'an SELinux type outside the baseline set',
    deployment((t) => (t.spec.securityContext = { seLinuxOptions: { type: 'spc_t' } })),
    `${POD_SPEC}/securityContext/seLinuxOptions/type`,
  ],
  [
    'an SELinux user',
    deployment(
      (t) =>
        (t.spec.containers = [
          { name: 'app', image: 'nginx', securityContext: { seLinuxOptions: { user: 'system_u' } } },
        ]),
    ),
    `${CONTAINER}/securityContext/seLinuxOptions/user`,
  ],
  [
    'an SELinux role',
    deployment((t) => (t.spec.securityContext = { seLinuxOptions: { role: 'system_r' } })),
    `${POD_SPEC}/securityContext/seLinuxOptions/role`,
  ],
  [
    'an unsafe sysctl',
    deployment((t) => (t.spec.securityContext = { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] })),
    `${POD_SPEC}/securityContext/sysctls/0`,
  ],
  ...Object.entries({
    nfs: { server: '10.0.0.1', path: '/' },
    flexVolume: { driver: 'example.com/flex' },
    iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:disk', lun: 0 },
    rbd: { monitors: ['10.0.0.1:6789'], image: 'disk' },
    cephfs: { monitors: ['10.0.0.1:6789'] },
    glusterfs: { endpoints: 'gluster', path: 'vol' },
    gitRepo: { repository: 'https://example.com/repo.git' },
  }).map(([type, source]): [string, ExtraManifest, string] => [
    `a ${type} volume`,
    deployment((t) => (t.spec.volumes = [{ name: 'data', [type]: source }])),
    `${POD_SPEC}/volumes/0/${type}`,
  ]),
  [
    'a privileged init container',
    deployment(
      (t) =>
        (t.spec.initContainers = [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }]),
    ),
    `${POD_SPEC}/initContainers/0/securityContext/privileged`,
  ],
  [
    'an ephemeral container with seccomp Unconfined',
    deployment(
      (t) =>
        (t.spec.ephemeralContainers = [
          { name: 'debug', image: 'busybox', securityContext: { seccompProfile: { type: 'Unconfined' } } },
        ]),
    ),
    `${POD_SPEC}/ephemeralContainers/0/securityContext/seccompProfile/type`,
  ],
  [
    'an ephemeral volume bound to a chosen PersistentVolume',
    deployment(
      (t) =>
        (t.spec.volumes = [
          { name: 'data', ephemeral: { volumeClaimTemplate: { spec: { volumeName: 'node-root' } } } },
        ]),
    ),
    `${POD_SPEC}/volumes/0/ephemeral/volumeClaimTemplate/spec/volumeName`,
  ],
  ...['NodePort', 'LoadBalancer', 'ExternalName'].map((type): [string, ExtraManifest, string] => [
    `a Service of type ${type}`,
    {
      source: 'k8s/svc.yaml#1',
      manifest: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'edge' },
        spec:
          type === 'ExternalName'
            ? { type, externalName: 'kubernetes.default.svc.cluster.local' }
            : { type, selector: { run: 'web' }, ports: [{ port: 80 }] },
      },
    },
    '/spec/type',
  ]),
  ...(
    [
      ['volumeName', 'node-root'],
      ['dataSource', { kind: 'PersistentVolumeClaim', name: 'other-db' }],
      ['dataSourceRef', { kind: 'VolumeSnapshot', apiGroup: 'snapshot.storage.k8s.io', name: 'db-snap' }],
    ] as const
  ).map(([field, value]): [string, ExtraManifest, string] => [
    `a PersistentVolumeClaim with ${field}`,
    {
      source: 'k8s/pvc.yaml#1',
      manifest: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, [field]: value },
      },
    },
    `/spec/${field}`,
  ]),
  [
    "a StatefulSet's claim template bound to a chosen PersistentVolume",
    {
      source: 'k8s/sts.yaml#1',
      manifest: {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          selector: { matchLabels: { run: 'db' } },
          template: {
            metadata: { labels: { run: 'db' } },
            spec: { containers: [{ name: 'db', image: 'postgres' }] },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: {
                accessModes: ['ReadWriteOnce'],
                resources: { requests: { storage: '1Gi' } },
                volumeName: 'node-root',
              },
            },
          ],
        },
      },
    },
    '/spec/volumeClaimTemplates/0/spec/volumeName',
  ],
];

describe('a developer manifest that reaches past its namespace by the node, the scheduler or storage', () => {
  it.each(NODE_REACHING)('is refused on a default target: %s', (_, manifest, pointer) => {
    const found = reasons({}, [manifest]);
    expect(found).toEqual([expect.stringContaining(`${manifest.source}: ${pointer}: `)]);
    const { kind, metadata } = manifest.manifest as { kind: string; metadata: { name: string } };
    expect(found[0]).toContain(`${kind} ${metadata.name}: `);
    expect(found[0]).toContain('`manifests.privileged: true`');
  });

  it.each(NODE_REACHING)('is accepted with privileged: true: %s', (_, manifest) => {
    expect(reasons({ manifests: { privileged: true } }, [manifest])).toEqual([]);
  });

  it('is accepted within the baseline: keyed tolerations of other taints, RuntimeDefault and Localhost profiles, container SELinux types, safe sysctls, restricted volume types, ClusterIP Services', () => {
    const plain = deployment((t) => {
      t.metadata.annotations = {
        'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',
        'container.apparmor.security.beta.kubernetes.io/app': 'localhost/app',
      };
      t.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'shop', effect: 'NoSchedule' }];
      t.spec.securityContext = {
        seccompProfile: { type: 'RuntimeDefault' },
        appArmorProfile: { type: 'Localhost', localhostProfile: 'app' },
        seLinuxOptions: { type: 'container_t', level: 's0:c1,c2' },
        sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }],
      };
      t.spec.volumes = [
        'configMap',
        'csi',
        'downwardAPI',
        'emptyDir',
        'ephemeral',
        'persistentVolumeClaim',
        'projected',
        'secret',
      ].map((type) => ({
        name: type.toLowerCase(),
        [type]:
          { csi: { driver: 'secrets-store.csi.k8s.io' }, persistentVolumeClaim: { claimName: 'data' } }[
            type
          ] ?? {},
      }));
    });
    const service: ExtraManifest = {
      source: 'k8s/svc.yaml#1',
      manifest: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { type: 'ClusterIP', selector: { run: 'web' }, ports: [{ port: 80 }] },
      },
    };
    expect(reasons({}, [plain, service])).toEqual([]);
  });

  it('is refused by deploy too, applying nothing', async () => {
    const { cluster, runtime } = await clusterRuntime();
    const nodePort = NODE_REACHING.find(([name]) => name.includes('NodePort'))![1];
    await expect(runtime.deploy(target, apiWith([CONFIG_MAP, nodePort]), context())).rejects.toMatchObject({
      name: 'InputError',
      errors: [expect.objectContaining({ path: 'k8s/svc.yaml#1: /spec/type' })],
    });
    expect(stored(cluster)).toEqual([]);
  });

  it('is refused by render', () => {
    const app = twoWorkloadsApp();
    const nodeName = NODE_REACHING[0]![1];
    expect(() =>
      renderManifests({ ...app, workloads: [apiWith([nodeName]), ...app.workloads.slice(1)] }),
    ).toThrow(
      expect.objectContaining({
        errors: [expect.objectContaining({ path: `k8s/web.yaml#1: ${POD_SPEC}/nodeName` })],
      }),
    );
  });
});
