import { afterEach, describe, expect, it } from 'vitest';
import type { PaveError } from '@pave/core';
import type { DriverContext, RenderedWorkload, WorkloadProfileEffects } from '@pave/plugin-api';
import { KubernetesRuntime, renderManifests, type RenderManifestsInput } from '../src/index.ts';
import { startFakeCluster, type FakeKubeApi } from './support/fake-kube-api.ts';
import { NAMESPACE, twoWorkloadsApp } from './support/two-workloads.ts';

/** What the prod-hardening profile of docs/profiles.md does to workload `api` of shop/dev. */
function hardening(workload: string): WorkloadProfileEffects {
  return {
    ids: ['prod-hardening'],
    patches: [
      {
        profile: 'prod-hardening',
        index: 0,
        target: { kind: 'Deployment' },
        ops: [
          { op: 'add', path: '/spec/replicas', value: 3 },
          { op: 'add', path: '/spec/template/spec/securityContext', value: { runAsNonRoot: true } },
        ],
      },
      {
        profile: 'prod-hardening',
        index: 1,
        target: { kind: 'Deployment', name: 'worker' },
        ops: [{ op: 'add', path: '/metadata/annotations/team', value: 'payments' }],
      },
    ],
    objects: [
      {
        source: 'profile prod-hardening',
        manifest: {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: { name: `${workload}-pdb`, labels: { tier: 'web' } },
          spec: { minAvailable: 1, selector: { matchLabels: { 'pave.dev/workload': workload } } },
        },
      },
    ],
  };
}

function withProfiles(
  input: RenderManifestsInput,
  profiles: (workload: RenderedWorkload) => WorkloadProfileEffects | undefined,
): RenderManifestsInput {
  return {
    ...input,
    workloads: input.workloads.map((workload) => {
      const effects = profiles(workload);
      return effects ? { ...workload, profiles: effects } : workload;
    }),
  };
}

type Loose = {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
};

const objectsOf = (input: RenderManifestsInput) => renderManifests(input) as unknown as Loose[];
const find = (objects: Loose[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);

function refusal(run: () => unknown): PaveError {
  try {
    run();
  } catch (error) {
    expect((error as Error).name).toBe('InputError');
    return error as PaveError;
  }
  throw new Error('expected an InputError');
}

describe('workload profiles in the Kubernetes manifests', () => {
  it('patch every Deployment (or only the named one), and leave workloads without profiles as they were', () => {
    const plain = objectsOf(twoWorkloadsApp());
    const objects = objectsOf(withProfiles(twoWorkloadsApp(), (w) => hardening(w.name)));
    for (const name of ['api', 'worker']) {
      expect(find(objects, 'Deployment', name)?.spec).toMatchObject({
        replicas: 3,
        template: { spec: { securityContext: { runAsNonRoot: true } } },
      });
      expect(find(plain, 'Deployment', name)?.spec).toMatchObject({ replicas: 1 });
    }
    expect(find(objects, 'Deployment', 'worker')?.metadata.annotations?.team).toBe('payments');
    expect(find(objects, 'Deployment', 'api')?.metadata.annotations?.team).toBeUndefined();
    const apiOnly = objectsOf(
      withProfiles(twoWorkloadsApp(), (w) => (w.name === 'api' ? hardening('api') : undefined)),
    );
    expect(find(apiOnly, 'Deployment', 'worker')).toEqual(find(plain, 'Deployment', 'worker'));
  });

  it("add a profile's objects in the namespace, labelled as the workload's so that pruning finds them", () => {
    const objects = objectsOf(withProfiles(twoWorkloadsApp(), (w) => hardening(w.name)));
    const pdb = find(objects, 'PodDisruptionBudget', 'api-pdb');
    expect(pdb?.metadata.namespace).toBe(NAMESPACE);
    expect(pdb?.metadata.labels).toMatchObject({
      tier: 'web',
      'pave.dev/app': 'shop',
      'pave.dev/env': 'dev',
      'pave.dev/workload': 'api',
    });
    expect(find(objects, 'PodDisruptionBudget', 'worker-pdb')?.metadata.labels?.['pave.dev/workload']).toBe(
      'worker',
    );
  });

  it('refuse a patch that cannot apply, naming the profile, patch, operation and path', () => {
    const broken = (w: RenderedWorkload): WorkloadProfileEffects => ({
      ...hardening(w.name),
      patches: [
        {
          profile: 'prod-hardening',
          index: 0,
          target: { kind: 'Deployment' },
          ops: [
            { op: 'add', path: '/spec/replicas', value: 3 },
            { op: 'add', path: '/spec/template/spec/nothing/securityContext', value: {} },
          ],
        },
      ],
    });
    const error = refusal(() => renderManifests(withProfiles(twoWorkloadsApp(), broken)));
    expect(error.errors?.[0]?.message).toMatch(
      /^profile prod-hardening, patch 0, operation 1 \(add \/spec\/template\/spec\/nothing\/securityContext\): the path does not exist/u,
    );
  });

  it("refuse a patch that would move the workload's objects out of the environment's namespace", () => {
    const escape = (): WorkloadProfileEffects => ({
      ids: ['escape'],
      patches: [
        {
          profile: 'escape',
          index: 0,
          target: { kind: 'Secret' },
          ops: [{ op: 'replace', path: '/metadata/namespace', value: 'kube-system' }],
        },
      ],
      objects: [],
    });
    const error = refusal(() => renderManifests(withProfiles(twoWorkloadsApp(), escape)));
    expect(error.errors?.[0]?.message).toMatch(
      /^profile escape, patch 0, operation 0 \(replace \/metadata\/namespace\): it changes metadata\.namespace, /u,
    );
  });

  it('validate the patched objects against the Kubernetes schemas', () => {
    const three = (): WorkloadProfileEffects => ({
      ids: ['typo'],
      patches: [
        {
          profile: 'typo',
          index: 0,
          target: { kind: 'Deployment' },
          ops: [{ op: 'replace', path: '/spec/replicas', value: 'three' }],
        },
      ],
      objects: [],
    });
    const error = refusal(() => renderManifests(withProfiles(twoWorkloadsApp(), three)));
    expect(error.errors).toContainEqual({
      path: `Deployment/${NAMESPACE}/api/spec/replicas`,
      message: expect.stringContaining('integer'),
    });
  });
});

describe('the kubernetes runtime with workload profiles', () => {
  let api: FakeKubeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const context = (): DriverContext => {
    const log = () => undefined;
    return {
      logger: { debug: log, info: log, warn: log, error: log },
      signal: new AbortController().signal,
      scratchDir: '/tmp',
      dryRun: false,
    };
  };
  const isolation = (workload: string): WorkloadProfileEffects => ({
    ids: ['isolated'],
    patches: [
      {
        profile: 'isolated',
        index: 0,
        target: { kind: 'Deployment', name: workload },
        ops: [{ op: 'add', path: '/spec/replicas', value: 3 }],
      },
    ],
    objects: [
      {
        source: 'profile isolated',
        manifest: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: `${workload}-isolated` },
          spec: { podSelector: { matchLabels: { 'pave.dev/workload': workload } }, policyTypes: ['Ingress'] },
        },
      },
    ],
  });

  it("applies a profile's patches and objects, and prunes the objects once the profile no longer applies", async () => {
    const started = await startFakeCluster();
    api = started.api;
    const { cluster } = started;
    const runtime = KubernetesRuntime.fromConfig({
      kubeconfig: api.kubeconfigFile,
      context: 'fake',
      pollMs: 5,
    });
    const workload = twoWorkloadsApp().workloads[0]!;
    const target = { app: 'shop', env: 'dev' };

    await runtime.deploy(target, { ...workload, profiles: isolation(workload.name) }, context());
    const policy = cluster.objects.get(`networkpolicies/${NAMESPACE}/api-isolated`);
    expect(policy?.metadata.labels).toMatchObject({ 'pave.dev/workload': 'api', 'pave.dev/env': 'dev' });
    expect(cluster.objects.get(`deployments/${NAMESPACE}/api`)?.spec).toMatchObject({ replicas: 3 });

    await runtime.deploy(target, workload, context());
    expect(cluster.objects.has(`networkpolicies/${NAMESPACE}/api-isolated`)).toBe(false);
    expect(cluster.objects.get(`deployments/${NAMESPACE}/api`)?.spec).toMatchObject({ replicas: 1 });
  });
});
