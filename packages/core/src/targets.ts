import { z } from 'zod';
import { dnsLabel } from './ids.ts';
import { labelPageQuery, pageOf } from './paging.ts';

/** The kinds of runtime a target can be. */
export const RUNTIME_TYPES = ['process', 'docker', 'kubernetes'] as const;
export type RuntimeType = (typeof RUNTIME_TYPES)[number];

/** A criterion of a runtime target: matched to environments like resource definitions (no resId or class). */
export const TargetCriterion = z
  .strictObject({ envType: dnsLabel.optional(), envId: dnsLabel.optional(), appId: dnsLabel.optional() })
  .meta({ id: 'TargetCriterion' });

/**
 * Where workloads run, as the platform team declares it. `config` by type — docker: `socketPath` or `host`
 * (+ `port`); kubernetes: `kubeconfig` (path), `context`, `namespacePattern` (default `pave-{app}-{env}`),
 * `allowClusterScoped` (accept workloads' own cluster-scoped manifests, `pave deploy --manifests`; default false);
 * process: `isolation` (`none`, `user` or `sandbox`; default the strongest the control plane's host offers,
 * see docs/runtimes.md).
 */
export const runtimeTargetSchema = z.strictObject({
  id: dnsLabel,
  type: z.enum(RUNTIME_TYPES),
  config: z.record(z.string(), z.unknown()).default({}),
  criteria: z.array(TargetCriterion).default([]),
});
export type RuntimeTargetSpec = z.infer<typeof runtimeTargetSchema>;

/** A stored runtime target. */
export const RuntimeTargetView = z
  .object({
    id: z.string(),
    type: z.enum(RUNTIME_TYPES),
    config: z.record(z.string(), z.unknown()),
    criteria: z.array(TargetCriterion),
    builtIn: z.boolean(),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'RuntimeTarget' });
export type RuntimeTargetView = z.infer<typeof RuntimeTargetView>;

export const ApplyTargetsBody = z.strictObject({
  targets: z.array(runtimeTargetSchema).min(1).max(200),
  dryRun: z.boolean().optional(),
});
export type ApplyTargetsBody = z.infer<typeof ApplyTargetsBody>;

export const TargetParams = z.strictObject({ id: dnsLabel });

export const TargetListQuery = labelPageQuery('targets', 100);
export type TargetListQuery = z.infer<typeof TargetListQuery>;
/** A page of runtime targets, the built-in `local` one included, ordered by id. */
export const TargetPage = pageOf(RuntimeTargetView);
export type TargetPage = z.infer<typeof TargetPage>;
export const TargetMatchQuery = z.strictObject({ app: dnsLabel, env: dnsLabel });

/**
 * What `pave render` renders: `kubernetes`, the manifests a kubernetes target would apply; `compose`, a Compose
 * file of the environment's workloads (Docker Compose, podman-compose), whatever target it runs on.
 */
export const RENDER_FORMATS = ['kubernetes', 'compose'] as const;
export type RenderFormat = (typeof RENDER_FORMATS)[number];

/** Render an environment's current set for a target, or as a Compose file, without applying it. */
export const RenderQuery = z.strictObject({
  target: dnsLabel
    .optional()
    .describe(
      "A kubernetes target's id; default: the target the environment matches. Not with format=compose.",
    ),
  format: z
    .enum(RENDER_FORMATS)
    .optional()
    .describe(
      'kubernetes (default): the manifests of a kubernetes target. compose: a Compose file of the workloads, ' +
        'whatever their target; secret values are ${VAR} references, never their values.',
    ),
});

/** An environment's manifests as a target would apply them, or its Compose file. */
export const RenderResult = z
  .object({
    format: z.enum(RENDER_FORMATS),
    /** The target rendered for (the kubernetes format only). */
    target: z.string().optional().describe('The target rendered for (format kubernetes only).'),
    type: z.enum(RUNTIME_TYPES).optional().describe("That target's type (format kubernetes only)."),
    /** Multi-document YAML, keys sorted: Kubernetes manifests, or one Compose file under a comment header. */
    manifests: z
      .string()
      .describe('YAML, keys sorted: multi-document Kubernetes manifests, or one Compose file.'),
  })
  .meta({ id: 'RenderResult' });
export type RenderResult = z.infer<typeof RenderResult>;

/**
 * The API group of each built-in Kubernetes kind ('' is the core group): what a kubernetes target's
 * `manifests.kinds` may name bare (any other kind is named `<group>/<Kind>`). The kubernetes runtime bounds
 * developers' manifests by it; the server checks a target's setting against it when the target is applied.
 */
export const KUBERNETES_KIND_GROUPS: ReadonlyMap<string, string> = new Map([
  ...[
    'ConfigMap',
    'Endpoints',
    'LimitRange',
    'Namespace',
    'Node',
    'PersistentVolume',
    'PersistentVolumeClaim',
    'Pod',
    'PodTemplate',
    'ReplicationController',
    'ResourceQuota',
    'Secret',
    'Service',
    'ServiceAccount',
  ].map((kind) => [kind, ''] as const),
  ...['ControllerRevision', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet'].map(
    (kind) => [kind, 'apps'] as const,
  ),
  ['CronJob', 'batch'],
  ['Job', 'batch'],
  ['HorizontalPodAutoscaler', 'autoscaling'],
  ['PodDisruptionBudget', 'policy'],
  ['Ingress', 'networking.k8s.io'],
  ['IngressClass', 'networking.k8s.io'],
  ['NetworkPolicy', 'networking.k8s.io'],
  ...['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].map(
    (kind) => [kind, 'rbac.authorization.k8s.io'] as const,
  ),
  ['PriorityClass', 'scheduling.k8s.io'],
  ...['CSIDriver', 'CSINode', 'StorageClass', 'VolumeAttachment'].map(
    (kind) => [kind, 'storage.k8s.io'] as const,
  ),
  ['RuntimeClass', 'node.k8s.io'],
  ['CustomResourceDefinition', 'apiextensions.k8s.io'],
  ...[
    'MutatingWebhookConfiguration',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
    'ValidatingWebhookConfiguration',
  ].map((kind) => [kind, 'admissionregistration.k8s.io'] as const),
  ['APIService', 'apiregistration.k8s.io'],
  ['CertificateSigningRequest', 'certificates.k8s.io'],
  ['FlowSchema', 'flowcontrol.apiserver.k8s.io'],
  ['PriorityLevelConfiguration', 'flowcontrol.apiserver.k8s.io'],
  ['EndpointSlice', 'discovery.k8s.io'],
  ['Lease', 'coordination.k8s.io'],
]);

/** The built-in kinds a bare entry of `manifests.kinds` may name, sorted. */
export const KUBERNETES_BUILT_IN_KINDS: readonly string[] = [...KUBERNETES_KIND_GROUPS.keys()].sort();

/** The namespace pattern a kubernetes target uses when none is configured: one namespace per app and environment. */
export const DEFAULT_NAMESPACE_PATTERN = 'pave-{app}-{env}';

/**
 * Why a target's `namespacePattern` cannot be used, or null when it can: without `{app}` environments of
 * different apps, and without `{env}` environments of one app, would share one namespace, where a deploy
 * overwrites the other's same-named objects and a destroy deletes them.
 */
export function namespacePatternProblem(pattern: string): string | null {
  const lacks = ['{app}', '{env}'].filter((placeholder) => !pattern.includes(placeholder));
  if (lacks.length === 0) return null;
  const who =
    lacks.length === 2
      ? 'every environment of every app'
      : lacks[0] === '{app}'
        ? 'environments of different apps that have the same id'
        : 'environments of one app';
  return (
    `"${pattern}" lacks ${lacks.join(' and ')}: ${who} would share one namespace and overwrite and delete ` +
    `one another's objects; include both {app} and {env}, e.g. "${DEFAULT_NAMESPACE_PATTERN}" (the default)`
  );
}
