import type { FieldProblem } from '@pave/core';
import type { ExtraManifest } from '@pave/plugin-api';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1/IngressClass';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { RuntimeClass } from 'kubernetes-models/node.k8s.io/v1/RuntimeClass';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1/PriorityClass';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { LimitRange } from 'kubernetes-models/v1/LimitRange';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolume } from 'kubernetes-models/v1/PersistentVolume';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { ResourceQuota } from 'kubernetes-models/v1/ResourceQuota';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { checkManifestPolicy, type ManifestPolicy } from './manifest-policy.ts';
import { validateObject, type ModelClass } from './validate.ts';

/*
 * The developer's own manifests (`pave deploy --manifests DIR`): checked, placed in the environment's
 * namespace and labelled as the workload's, so they are applied, pruned and removed with it.
 */

/**
 * Built-in kinds whose objects live outside any namespace. A manifest of one of them is refused unless the
 * runtime target sets `allowClusterScoped` (such objects are shared by every environment of the cluster).
 * Kinds Pave does not know (custom resources) are taken as namespaced.
 */
export const CLUSTER_SCOPED_KINDS: ReadonlySet<string> = new Set([
  'APIService',
  'CSIDriver',
  'CSINode',
  'CertificateSigningRequest',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'FlowSchema',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Node',
  'PersistentVolume',
  'PriorityClass',
  'PriorityLevelConfiguration',
  'RuntimeClass',
  'StorageClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'ValidatingWebhookConfiguration',
  'VolumeAttachment',
]);

/**
 * The kinds whose schema Pave checks a developer's manifest against (kubernetes-models), by
 * `<apiVersion> <kind>`. Any other kind (a custom resource, an older API version) gets the generic checks
 * only: apiVersion, kind, a DNS-subdomain metadata.name, label keys and values.
 */
const SCHEMAS: ReadonlyMap<string, ModelClass> = new Map<string, unknown>([
  ['v1 ConfigMap', ConfigMap],
  ['v1 LimitRange', LimitRange],
  ['v1 Namespace', Namespace],
  ['v1 PersistentVolume', PersistentVolume],
  ['v1 PersistentVolumeClaim', PersistentVolumeClaim],
  ['v1 ResourceQuota', ResourceQuota],
  ['v1 Service', Service],
  ['v1 ServiceAccount', ServiceAccount],
  ['apps/v1 DaemonSet', DaemonSet],
  ['apps/v1 Deployment', Deployment],
  ['apps/v1 StatefulSet', StatefulSet],
  ['batch/v1 CronJob', CronJob],
  ['batch/v1 Job', Job],
  ['autoscaling/v2 HorizontalPodAutoscaler', HorizontalPodAutoscaler],
  ['policy/v1 PodDisruptionBudget', PodDisruptionBudget],
  ['networking.k8s.io/v1 Ingress', Ingress],
  ['networking.k8s.io/v1 IngressClass', IngressClass],
  ['networking.k8s.io/v1 NetworkPolicy', NetworkPolicy],
  ['rbac.authorization.k8s.io/v1 ClusterRole', ClusterRole],
  ['rbac.authorization.k8s.io/v1 ClusterRoleBinding', ClusterRoleBinding],
  ['rbac.authorization.k8s.io/v1 Role', Role],
  ['rbac.authorization.k8s.io/v1 RoleBinding', RoleBinding],
  ['scheduling.k8s.io/v1 PriorityClass', PriorityClass],
  ['storage.k8s.io/v1 StorageClass', StorageClass],
  ['node.k8s.io/v1 RuntimeClass', RuntimeClass],
  ['apiextensions.k8s.io/v1 CustomResourceDefinition', CustomResourceDefinition],
  ['admissionregistration.k8s.io/v1 MutatingWebhookConfiguration', MutatingWebhookConfiguration],
  ['admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration', ValidatingWebhookConfiguration],
]) as ReadonlyMap<string, ModelClass>;

/**
 * Helm's install order: the kinds others depend on first. A developer's manifest of one of these kinds is
 * applied before the first of Pave's own kinds that comes after it here; other kinds (custom resources) last.
 */
const INSTALL_ORDER: readonly string[] = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

/**
 * Where objects of `kind` go in the apply order: the index of a kind Pave renders in `paveOrder`; for other
 * kinds, just before the first of Pave's kinds that follows them in Helm's install order (after all of them
 * when none does, or for kinds Helm does not list).
 */
export function kindRank(kind: string, paveOrder: readonly string[]): number {
  const own = paveOrder.indexOf(kind);
  if (own >= 0) return own;
  const helm = INSTALL_ORDER.indexOf(kind);
  if (helm < 0) return paveOrder.length + 0.75;
  const next = paveOrder.findIndex((paveKind) => {
    const at = INSTALL_ORDER.indexOf(paveKind);
    return at > helm;
  });
  return next < 0 ? paveOrder.length + 0.5 : next - 0.5;
}

/** What {@link renderExtraManifests} needs to know about where the manifests go. */
export interface ExtraManifestTarget {
  /** The environment's namespace: every namespaced manifest is placed there. */
  namespace: string;
  /** The labels of the workload's own objects; they replace a manifest's labels of the same keys. */
  labels: Record<string, string>;
  /** Whether cluster-scoped kinds ({@link CLUSTER_SCOPED_KINDS}) are accepted (the target's setting). */
  allowClusterScoped?: boolean;
  /**
   * The target's bounds on developers' manifests (its `manifests` setting; `{}` for the defaults). Absent for
   * objects the platform team wrote (profiles' objects), which are not bounded.
   */
  policy?: ManifestPolicy;
  /** `namespace` is a stand-in (a deployment is only checked): the bindings' subjects are checked later. */
  namespaceUnknown?: boolean;
}

/** An object a manifest renders, with whether it lives in a namespace. */
export interface ExtraObject {
  object: { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<string, unknown>;
  namespaced: boolean;
  source: string;
}

/**
 * The objects of a workload's own manifests: each with `metadata.namespace` set to the environment's namespace
 * (cluster-scoped kinds get none) and the workload's labels added. A manifest naming another namespace, of a
 * cluster-scoped kind the target does not allow, that fails its schema (see SCHEMAS) or the generic checks,
 * or that `target.policy` refuses (see checkManifestPolicy) adds problems at `<source>: <JSON pointer>`, e.g.
 * `k8s/netpol.yaml#2: /spec/podSelector`; it is left out.
 */
export function renderExtraManifests(
  manifests: readonly ExtraManifest[],
  target: ExtraManifestTarget,
  problems: FieldProblem[],
): ExtraObject[] {
  const objects: ExtraObject[] = [];
  for (const { source, manifest } of manifests) {
    const at = (pointer: string) => `${source}: ${pointer || '/'}`;
    const apiVersion = typeof manifest.apiVersion === 'string' ? manifest.apiVersion : '';
    const kind = typeof manifest.kind === 'string' ? manifest.kind : '';
    const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
    if (!apiVersion || !kind || typeof metadata.name !== 'string') {
      problems.push({ path: at(''), message: 'a manifest needs apiVersion, kind and metadata.name' });
      continue;
    }
    const namespaced = !CLUSTER_SCOPED_KINDS.has(kind);
    if (!namespaced && !target.allowClusterScoped) {
      problems.push({
        path: at('/kind'),
        message:
          `${kind} is cluster-scoped: it would be shared by every environment of the cluster, so this runtime ` +
          'target does not accept it; ask the platform team to set `allowClusterScoped: true` in the ' +
          "target's config, or apply it outside Pave",
      });
      continue;
    }
    const named = metadata.namespace;
    if (namespaced && named !== undefined && named !== target.namespace) {
      problems.push({
        path: at('/metadata/namespace'),
        message:
          `names namespace "${String(named)}"; Pave deploys a workload's manifests into its environment's ` +
          `namespace "${target.namespace}": remove metadata.namespace`,
      });
      continue;
    }
    if (!namespaced && named !== undefined) {
      problems.push({
        path: at('/metadata/namespace'),
        message: `a ${kind} is cluster-scoped and has no namespace: remove metadata.namespace`,
      });
      continue;
    }
    const labels = isRecord(metadata.labels) ? metadata.labels : {};
    const object = {
      ...manifest,
      apiVersion,
      kind,
      metadata: {
        ...metadata,
        ...(namespaced ? { namespace: target.namespace } : {}),
        labels: { ...labels, ...target.labels },
      },
    };
    const before = problems.length;
    if (target.policy) {
      const scope = target.namespaceUnknown ? {} : { namespace: target.namespace };
      if (!checkManifestPolicy(object, source, target.policy, scope, problems)) continue;
    }
    const found = validateObject(object, { model: SCHEMAS.get(`${apiVersion} ${kind}`) ?? null, namespaced });
    problems.push(...found.map((problem) => ({ path: at(problem.path), message: problem.message })));
    if (problems.length > before) continue;
    objects.push({ object, namespaced, source });
  }
  return objects;
}

/** `apps/v1 Deployment`: how a kind is recorded in the annotation of the kinds a workload's manifests have. */
export function kindKey(object: { apiVersion: string; kind: string }): string {
  return `${object.apiVersion} ${object.kind}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
