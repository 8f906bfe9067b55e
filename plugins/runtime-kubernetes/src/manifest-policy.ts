import type { FieldProblem } from '@pave/core';

/*
 * What developers may ship with `pave deploy --manifests` on a kubernetes target. A developer needs only an
 * app role to deploy, while Pave applies their manifests with its own service account: without bounds a
 * manifest could run a privileged pod with the node's filesystem (root on the node), bind cluster-admin to
 * anyone, or claim another environment's host. So the platform team grants the privilege per target, the way
 * Argo CD's AppProject lists the kinds a project may deploy.
 */

/**
 * The `manifests` setting of a kubernetes runtime target: what developers' own manifests may contain. Every
 * field is optional; an absent setting is the secure default.
 */
export interface ManifestPolicy {
  /** Whether developers may ship manifests at all; default true (of {@link DEFAULT_MANIFEST_KINDS} only). */
  allow?: boolean;
  /**
   * The kinds developers may ship: a built-in kind by name (`NetworkPolicy`), any other as `<group>/<Kind>`
   * (`cert-manager.io/Certificate`). Replaces {@link DEFAULT_MANIFEST_KINDS}.
   */
  kinds?: string[];
  /**
   * Whether pod templates may use the node (privileged containers, host namespaces, hostPath, …) and bindings
   * may grant ClusterRoles or bind users and groups; default false.
   */
  privileged?: boolean;
}

/**
 * The kinds developers may ship when the target does not list them: namespaced objects that grant no
 * permissions and claim no host. Not RBAC (it grants permissions), not Ingress or Gateway routes (Pave cannot
 * check their hosts against the environment's route claims), not quotas or limits (the platform team's), not
 * DaemonSets (a pod on every node), and no custom resources (Pave cannot tell what they do).
 */
export const DEFAULT_MANIFEST_KINDS: readonly string[] = [
  'ConfigMap',
  'CronJob',
  'Deployment',
  'HorizontalPodAutoscaler',
  'Job',
  'NetworkPolicy',
  'PersistentVolumeClaim',
  'PodDisruptionBudget',
  'Service',
  'ServiceAccount',
  'StatefulSet',
];

/** The API group of each built-in kind a bare entry of `manifests.kinds` may name ('' is the core group). */
const BUILT_IN_GROUPS: ReadonlyMap<string, string> = new Map([
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

/** Where each kind that runs pods keeps its pod spec. */
const POD_SPECS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['Pod', ['spec']],
  ['PodTemplate', ['template', 'spec']],
  ['CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
  ...['DaemonSet', 'Deployment', 'Job', 'ReplicaSet', 'ReplicationController', 'StatefulSet'].map(
    (kind): [string, readonly string[]] => [kind, ['spec', 'template', 'spec']],
  ),
]);

/** The one capability the Pod Security Standards' restricted profile lets a container add. */
const HARMLESS_CAPABILITIES = new Set(['NET_BIND_SERVICE']);

const POLICY_KEYS = ['allow', 'kinds', 'privileged'];

/**
 * The problems with a target's `manifests` setting (`value`), at `config.manifests.<field>`; none when it is
 * absent or valid. A bare kind must be a built-in kind, so a misspelt one is refused rather than ignored.
 */
export function manifestPolicyProblems(value: unknown): FieldProblem[] {
  if (value === undefined) return [];
  if (!isRecord(value)) {
    return [{ path: 'config.manifests', message: `must be a mapping of ${POLICY_KEYS.join(', ')}` }];
  }
  const problems: FieldProblem[] = [];
  for (const key of ['allow', 'kinds', 'privileged']) {
    const field = value[key];
    if (field === undefined) continue;
    if (key !== 'kinds') {
      if (typeof field !== 'boolean')
        problems.push({ path: `config.manifests.${key}`, message: 'must be true or false' });
      continue;
    }
    if (!Array.isArray(field) || field.some((kind) => typeof kind !== 'string')) {
      problems.push({
        path: 'config.manifests.kinds',
        message: 'must be a list of kinds: built-in ones by name (NetworkPolicy), others as group/Kind',
      });
      continue;
    }
    for (const [index, kind] of (field as string[]).entries()) {
      if (!kind.includes('/') && !BUILT_IN_GROUPS.has(kind)) {
        problems.push({
          path: `config.manifests.kinds[${index}]`,
          message: `"${kind}" is not a built-in Kubernetes kind; name a custom resource as group/Kind, e.g. cert-manager.io/Certificate`,
        });
      }
    }
  }
  for (const key of Object.keys(value)) {
    if (!POLICY_KEYS.includes(key)) {
      problems.push({
        path: `config.manifests.${key}`,
        message: `the setting takes ${POLICY_KEYS.join(', ')}`,
      });
    }
  }
  return problems;
}

/** Where the manifest being checked goes, as far as it is known. */
export interface PolicyScope {
  /** The environment's namespace; unknown when a deployment is only checked, before it is placed. */
  namespace?: string;
}

/**
 * Checks one developer manifest against the target's `policy`, adding a problem per refused field at
 * `<source>: <JSON pointer>`, each saying what is wrong, in which object, and which setting of the target
 * allows it. Returns false when the manifest's kind itself is refused (nothing else was checked).
 */
export function checkManifestPolicy(
  manifest: { apiVersion: string; kind: string; metadata: Record<string, unknown> } & Record<string, unknown>,
  source: string,
  policy: ManifestPolicy,
  scope: PolicyScope,
  problems: FieldProblem[],
): boolean {
  const group = manifest.apiVersion.includes('/')
    ? manifest.apiVersion.slice(0, manifest.apiVersion.indexOf('/'))
    : '';
  const builtIn = BUILT_IN_GROUPS.get(manifest.kind) === group;
  const kindName = builtIn ? manifest.kind : `${group}/${manifest.kind}`;
  const object = `${kindName} ${String(manifest.metadata.name)}`;
  const add = (pointer: string, message: string) =>
    problems.push({ path: `${source}: ${pointer || '/'}`, message: `${object}: ${message}` });

  if (policy.allow === false) {
    add(
      '',
      "this runtime target does not accept developers' own manifests: deploy without --manifests, or ask " +
        "the platform team to set `manifests.allow: true` in the target's config",
    );
    return false;
  }
  const kinds = policy.kinds ?? DEFAULT_MANIFEST_KINDS;
  const allowed = kinds.some((entry) =>
    entry.includes('/') ? entry === `${group}/${manifest.kind}` : builtIn && entry === manifest.kind,
  );
  if (!allowed) {
    add(
      '/kind',
      `${kindRisk(manifest.kind, builtIn)}this runtime target accepts ${kinds.join(', ') || 'no kinds'}: ask the ` +
        `platform team to add "${kindName}" to \`manifests.kinds\` in the target's config`,
    );
    return false;
  }
  if (policy.privileged) return true;

  const podSpecPath = POD_SPECS.get(manifest.kind);
  if (podSpecPath) {
    const spec = getPath(manifest, podSpecPath);
    if (isRecord(spec)) checkPodSpec(spec, `/${podSpecPath.join('/')}`, add);
  }
  if (manifest.kind === 'Service') {
    const externalIPs = getPath(manifest, ['spec', 'externalIPs']);
    if (Array.isArray(externalIPs) && externalIPs.length > 0) {
      add(
        '/spec/externalIPs',
        privileged('a Service with externalIPs can take over traffic to those addresses'),
      );
    }
  }
  if (manifest.kind === 'ClusterRoleBinding') {
    add('/kind', privileged('a ClusterRoleBinding grants its role in every namespace of the cluster'));
  }
  if (manifest.kind === 'RoleBinding') checkRoleBinding(manifest, scope, add);
  return true;
}

function kindRisk(kind: string, builtIn: boolean): string {
  if (!builtIn) return 'Pave cannot tell what a custom resource does; ';
  if (BUILT_IN_GROUPS.get(kind) === 'rbac.authorization.k8s.io') return 'RBAC objects grant permissions; ';
  if (kind === 'Ingress') {
    return "an Ingress can claim any host, and Pave cannot check it against the environment's routes; ";
  }
  return '';
}

/** The end of a message about a field that needs `manifests.privileged: true`. */
function privileged(what: string): string {
  return (
    `${what}; this runtime target does not allow that in developers' manifests: remove it, or ask the ` +
    "platform team to set `manifests.privileged: true` in the target's config"
  );
}

function checkPodSpec(
  spec: Record<string, unknown>,
  at: string,
  add: (pointer: string, message: string) => void,
) {
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true)
      add(`${at}/${field}`, privileged(`${field}: true puts the pod in a namespace of its node`));
  }
  for (const field of ['serviceAccountName', 'serviceAccount'] as const) {
    const account = spec[field];
    if (account !== undefined && account !== 'default') {
      add(
        `${at}/${field}`,
        privileged(`the pod would run as service account "${String(account)}" and hold its permissions`),
      );
    }
  }
  for (const [index, toleration] of arrayAt(spec, 'tolerations').entries()) {
    if (isRecord(toleration) && toleration.operator === 'Exists' && !toleration.key) {
      add(
        `${at}/tolerations/${index}`,
        privileged(
          'a toleration with operator Exists and no key tolerates every taint, control-plane nodes too',
        ),
      );
    }
  }
  for (const [index, volume] of arrayAt(spec, 'volumes').entries()) {
    if (isRecord(volume) && volume.hostPath !== undefined) {
      add(`${at}/volumes/${index}/hostPath`, privileged("a hostPath volume mounts the node's filesystem"));
    }
  }
  checkSecurityContext(spec.securityContext, `${at}/securityContext`, add);
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'] as const) {
    for (const [index, container] of arrayAt(spec, list).entries()) {
      if (!isRecord(container)) continue;
      const where = `${at}/${list}/${index}`;
      checkSecurityContext(container.securityContext, `${where}/securityContext`, add);
      for (const [portIndex, port] of arrayAt(container, 'ports').entries()) {
        if (isRecord(port) && typeof port.hostPort === 'number' && port.hostPort !== 0) {
          add(
            `${where}/ports/${portIndex}/hostPort`,
            privileged("a hostPort opens a port on the node's address"),
          );
        }
      }
    }
  }
}

/** A pod's or container's securityContext (a container's has more fields; the pod's simply lacks them). */
function checkSecurityContext(context: unknown, at: string, add: (pointer: string, message: string) => void) {
  if (!isRecord(context)) return;
  if (context.privileged === true) {
    add(`${at}/privileged`, privileged('a privileged container has full access to its node'));
  }
  if (context.allowPrivilegeEscalation === true) {
    add(
      `${at}/allowPrivilegeEscalation`,
      privileged('a process could gain more privileges than it started with'),
    );
  }
  if (context.runAsUser === 0) {
    add(`${at}/runAsUser`, privileged('runAsUser: 0 runs as root; run as another user (runAsNonRoot: true)'));
  }
  if (typeof context.procMount === 'string' && context.procMount !== 'Default') {
    add(`${at}/procMount`, privileged("an unmasked /proc exposes the node's kernel settings"));
  }
  const windows = context.windowsOptions;
  if (isRecord(windows) && windows.hostProcess === true) {
    add(`${at}/windowsOptions/hostProcess`, privileged('a host process runs on the node itself'));
  }
  const added = isRecord(context.capabilities) ? context.capabilities.add : undefined;
  for (const [index, capability] of (Array.isArray(added) ? added : []).entries()) {
    if (typeof capability === 'string' && HARMLESS_CAPABILITIES.has(capability.replace(/^CAP_/u, '')))
      continue;
    add(
      `${at}/capabilities/add/${index}`,
      privileged(
        `capability ${String(capability)} goes beyond what an application needs (only NET_BIND_SERVICE may be added)`,
      ),
    );
  }
}

/** A RoleBinding may bind a Role of its own namespace to service accounts of that namespace, no more. */
function checkRoleBinding(
  manifest: Record<string, unknown>,
  scope: PolicyScope,
  add: (pointer: string, message: string) => void,
) {
  const roleRef = isRecord(manifest.roleRef) ? manifest.roleRef : {};
  if (roleRef.kind !== 'Role') {
    add(
      '/roleRef',
      privileged(
        `it binds ${String(roleRef.kind)} "${String(roleRef.name)}", which the platform team defines; bind a Role of the environment`,
      ),
    );
  }
  for (const [index, subject] of arrayAt(manifest, 'subjects').entries()) {
    const { kind, name, namespace } = isRecord(subject) ? subject : {};
    const elsewhere =
      namespace !== undefined && scope.namespace !== undefined && namespace !== scope.namespace;
    if (kind !== 'ServiceAccount' || elsewhere) {
      add(
        `/subjects/${index}`,
        privileged(
          `it binds ${String(kind)} "${String(name)}"${typeof namespace === 'string' ? ` of namespace ${namespace}` : ''}; ` +
            "bind only service accounts of the environment's namespace",
        ),
      );
    }
  }
}

function arrayAt(record: Record<string, unknown>, key: string): unknown[] {
  const value = record[key];
  return Array.isArray(value) ? value : [];
}

function getPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
