import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  startFakeCluster,
  type FakeCluster,
  type FakeKubeApi,
} from '../../plugins/runtime-kubernetes/test/support/fake-kube-api.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

const API = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: registry.example.com/shop/api:1
`;

const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  LEVEL: debug
`;

const NETWORK_POLICY = `apiVersion: v1
kind: ConfigMap
metadata:
  name: api-flags
---
# who may talk to the api
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-ingress
spec:
  podSelector:
    matchLabels:
      pave.dev/workload: api
  policyTypes: [Ingress]
`;

const CLUSTER_ROLE = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: api-reader
rules:
  - apiGroups: ['']
    resources: [pods]
    verbs: [get]
`;

const NAMESPACE = 'pave-shop-stage';

/**
 * `pave deploy --manifests` through the real CLI and server, on a kubernetes target whose cluster is the fake
 * API server of the kubernetes runtime's tests (it stores what is applied and rolls Deployments out at once).
 */
describe("deploying a workload's own Kubernetes YAML with --manifests, end to end", () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let api: FakeKubeApi;
  let cluster: FakeCluster;
  let dir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const inCluster = () => [...cluster.objects.keys()].filter((key) => !key.startsWith('pods/')).sort();
  const rendered = async () => {
    const result = await pave('render', '--app', 'shop', '--env', 'stage');
    expect(result.code, result.stderr).toBe(0);
    return parseAllDocuments(result.stdout).map(
      (document) => document.toJSON() as { kind: string; metadata: { name: string; namespace?: string } },
    );
  };
  const deploy = (...extra: string[]) =>
    pave(
      'deploy',
      '-f',
      join(dir, 'api.score.yaml'),
      '--app',
      'shop',
      '--env',
      'stage',
      '--min-ready',
      '0s',
      ...extra,
    );

  beforeAll(async () => {
    ({ api, cluster } = await startFakeCluster());
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    dir = mkdtempSync(join(tmpdir(), 'pave-manifests-'));
    writeFileSync(join(dir, 'api.score.yaml'), API);
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s', 'config.yaml'), CONFIG);
    writeFileSync(join(dir, 'k8s', 'netpol.yml'), NETWORK_POLICY);
    mkdirSync(join(dir, 'rbac'));
    writeFileSync(join(dir, 'rbac', 'role.yaml'), CLUSTER_ROLE);
    writeFileSync(
      join(dir, 'targets.yaml'),
      [
        '- id: cluster',
        '  type: kubernetes',
        `  config: { kubeconfig: '${api.kubeconfigFile}', context: fake }`,
        '  criteria:',
        '    - envType: staging',
        '',
      ].join('\n'),
    );
    for (const args of [
      ['targets', 'apply', '-f', join(dir, 'targets.yaml'), '--yes'],
      ['apps', 'create', 'shop'],
      ['envs', 'create', 'dev', '--app', 'shop', '--type', 'development'],
      ['envs', 'create', 'stage', '--app', 'shop', '--type', 'staging'],
    ]) {
      const result = await pave(...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    }
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
    await api?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses them on an environment that runs on the process runtime, before anything starts', async () => {
    const result = await pave(
      'deploy',
      '-f',
      join(dir, 'api.score.yaml'),
      '--manifests',
      join(dir, 'k8s'),
      '--app',
      'shop',
      '--env',
      'dev',
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'workload api: --manifests needs a Kubernetes runtime target; this environment runs on target local (process)',
    );
    const listed = await pave('deployments', 'list', '--app', 'shop', '--env', 'dev', '-o', 'json');
    expect(JSON.parse(listed.stdout).items ?? JSON.parse(listed.stdout)).toEqual([]);
  });

  it('shows them in the plan, per workload', async () => {
    const plan = await deploy('--manifests', join(dir, 'k8s'), '--plan');
    expect(plan.code, plan.stderr).toBe(0);
    // Named relative to the Score file's directory, however --manifests was typed.
    expect(plan.stdout).toContain('api: + ConfigMap/api-config (k8s/config.yaml#1)');
    expect(plan.stdout).toContain('api: + NetworkPolicy/api-ingress (k8s/netpol.yml#2)');
    expect(plan.stdout).toContain('Plan only: nothing was deployed');
  });

  it("deploys them into the environment's namespace, labelled as the workload's, and renders them", async () => {
    const result = await deploy('--manifests', join(dir, 'k8s'), '--wait');
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(inCluster()).toEqual(
      expect.arrayContaining([
        `configmaps/${NAMESPACE}/api-config`,
        `networkpolicies/${NAMESPACE}/api-ingress`,
        `deployments/${NAMESPACE}/api`,
      ]),
    );
    expect(cluster.objects.get(`networkpolicies/${NAMESPACE}/api-ingress`)?.metadata.labels).toMatchObject({
      'pave.dev/app': 'shop',
      'pave.dev/env': 'stage',
      'pave.dev/workload': 'api',
    });
    const objects = await rendered();
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual(
      expect.arrayContaining(['ConfigMap/api-config', 'NetworkPolicy/api-ingress', 'Deployment/api']),
    );
    expect(objects.find((object) => object.kind === 'NetworkPolicy')?.metadata.namespace).toBe(NAMESPACE);
  });

  it('shows a changed manifest in the diff, and deletes the ones a deploy without them drops', async () => {
    writeFileSync(join(dir, 'k8s', 'config.yaml'), CONFIG.replace('debug', 'info'));
    const changed = await deploy('--manifests', join(dir, 'k8s'), '--wait');
    expect(changed.code, changed.stderr).toBe(0);
    const diff = await pave('diff', '--app', 'shop', '--env', 'stage');
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('api: ~ ConfigMap/api-config (k8s/config.yaml#1)');
    expect(
      (cluster.objects.get(`configmaps/${NAMESPACE}/api-config`)?.data as Record<string, string>).LEVEL,
    ).toBe('info');

    const without = await deploy('--wait');
    expect(without.code, without.stderr).toBe(0);
    expect(inCluster()).not.toContain(`configmaps/${NAMESPACE}/api-config`);
    expect(inCluster()).not.toContain(`networkpolicies/${NAMESPACE}/api-ingress`);
    expect(inCluster()).toContain(`deployments/${NAMESPACE}/api`);
    const kinds = (await rendered()).map((object) => object.kind);
    expect(kinds).not.toContain('NetworkPolicy');
    expect(kinds).toContain('Deployment');
    const after = await pave('diff', '--app', 'shop', '--env', 'stage');
    expect(after.stdout).toContain('api: - NetworkPolicy/api-ingress');
  });

  it('refuses a ClusterRole on a target that does not allow cluster-scoped kinds, when planned', async () => {
    for (const extra of [['--plan'], ['--wait']]) {
      const result = await deploy('--manifests', join(dir, 'rbac'), ...extra);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('rbac/role.yaml#1: /kind: ClusterRole is cluster-scoped');
      expect(result.stderr).toContain('allowClusterScoped: true');
    }
    expect(inCluster().some((key) => key.startsWith('clusterroles/'))).toBe(false);
    const listed = await pave('deployments', 'list', '--app', 'shop', '--env', 'stage', '-o', 'json');
    expect(listed.stdout).not.toContain('role.yaml');
  });
});
