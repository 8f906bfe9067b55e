import { KUBERNETES_BUILT_IN_KINDS, KUBERNETES_KIND_GROUPS, type FieldProblem } from '@pave/core';

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
   * Whether pod templates may use the node (privileged containers, host namespaces, volumes the node mounts,
   * unconfined seccomp/AppArmor/SELinux, unsafe sysctls, nodeName, control-plane tolerations, …), Services may
   * open node ports or alias other hosts, claims may bind a chosen PersistentVolume or copy another's data, and
   * bindings may grant ClusterRoles or bind users and groups; default false.
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

/**
 * The built-in kinds a bare entry of `manifests.kinds` may name; any other kind is named as `<group>/<Kind>`.
 */
export const BUILT_IN_KINDS = KUBERNETES_BUILT_IN_KINDS;

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

/** The volume types the Pod Security Standards' restricted profile allows: none of them reaches the node. */
const NAMESPACED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** The SELinux types the Pod Security Standards' baseline profile allows (besides none). */
const CONTAINER_SELINUX_TYPES = new Set([
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

/** The sysctls the Pod Security Standards' baseline profile allows: namespaced, they leave the node alone. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ping_group_range',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_wmem',
]);

/** Taints that keep workloads off the control plane: tolerating them lets a pod run beside the API server. */
const CONTROL_PLANE_TAINTS = new Set([
  'node-role.kubernetes.io/control-plane',
  'node-role.kubernetes.io/master',
]);

/** Legacy annotations that set a pod's or container's seccomp or AppArmor profile, before the fields did. */
const SECCOMP_ANNOTATIONS =
  /^(?:seccomp\.security\.alpha\.kubernetes\.io\/pod|container\.seccomp\.security\.alpha\.kubernetes\.io\/.+)$/u;
const APPARMOR_ANNOTATION = /^container\.apparmor\.security\.beta\.kubernetes\.io\/.+$/u;

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
      if (!kind.includes('/') && !KUBERNETES_KIND_GROUPS.has(kind)) {
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
  const builtIn = KUBERNETES_KIND_GROUPS.get(manifest.kind) === group;
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
    const metadataPath = [...podSpecPath.slice(0, -1), 'metadata'];
    checkPodAnnotations(getPath(manifest, metadataPath), `/${metadataPath.join('/')}`, add);
  }
  if (manifest.kind === 'StatefulSet') {
    for (const [index, template] of arrayAt(recordAt(manifest, 'spec'), 'volumeClaimTemplates').entries()) {
      checkClaimSpec(recordAt(template, 'spec'), `/spec/volumeClaimTemplates/${index}/spec`, add);
    }
  }
  if (manifest.kind === 'PersistentVolumeClaim') checkClaimSpec(recordAt(manifest, 'spec'), '/spec', add);
  if (manifest.kind === 'Service') checkService(recordAt(manifest, 'spec'), add);
  if (manifest.kind === 'ClusterRoleBinding') {
    add('/kind', privileged('a ClusterRoleBinding grants its role in every namespace of the cluster'));
  }
  if (manifest.kind === 'RoleBinding') checkRoleBinding(manifest, scope, add);
  return true;
}

function kindRisk(kind: string, builtIn: boolean): string {
  if (!builtIn) return 'Pave cannot tell what a custom resource does; ';
  if (KUBERNETES_KIND_GROUPS.get(kind) === 'rbac.authorization.k8s.io')
    return 'RBAC objects grant permissions; ';
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
  if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
    add(
      `${at}/nodeName`,
      privileged(
        `nodeName places the pod on node "${spec.nodeName}" past the scheduler and its taints, control-plane nodes too; leave placement to the scheduler`,
      ),
    );
  }
  for (const [index, toleration] of arrayAt(spec, 'tolerations').entries()) {
    if (!isRecord(toleration)) continue;
    if (toleration.operator === 'Exists' && !toleration.key) {
      add(
        `${at}/tolerations/${index}`,
        privileged(
          'a toleration with operator Exists and no key tolerates every taint, control-plane nodes too',
        ),
      );
    } else if (typeof toleration.key === 'string' && CONTROL_PLANE_TAINTS.has(toleration.key)) {
      add(
        `${at}/tolerations/${index}`,
        privileged(`a toleration of ${toleration.key} lets the pod run on control-plane nodes`),
      );
    }
  }
  for (const [index, volume] of arrayAt(spec, 'volumes').entries()) {
    if (!isRecord(volume)) continue;
    for (const type of Object.keys(volume).filter((key) => key !== 'name')) {
      if (type === 'hostPath') {
        add(`${at}/volumes/${index}/hostPath`, privileged("a hostPath volume mounts the node's filesystem"));
      } else if (!NAMESPACED_VOLUME_TYPES.has(type)) {
        add(
          `${at}/volumes/${index}/${escapePointer(type)}`,
          privileged(
            `a ${type} volume is mounted by the node itself; use ${[...NAMESPACED_VOLUME_TYPES].join(', ')}`,
          ),
        );
      }
    }
    const claim = getPath(volume, ['ephemeral', 'volumeClaimTemplate', 'spec']);
    checkClaimSpec(claim, `${at}/volumes/${index}/ephemeral/volumeClaimTemplate/spec`, add);
  }
  checkSecurityContext(spec.securityContext, `${at}/securityContext`, add);
  const sysctls = isRecord(spec.securityContext) ? arrayAt(spec.securityContext, 'sysctls') : [];
  for (const [index, sysctl] of sysctls.entries()) {
    const name = isRecord(sysctl) ? sysctl.name : undefined;
    if (typeof name === 'string' && SAFE_SYSCTLS.has(name)) continue;
    add(
      `${at}/securityContext/sysctls/${index}`,
      privileged(
        `sysctl ${String(name)} is not one of the safe, namespaced ones (${[...SAFE_SYSCTLS].join(', ')})`,
      ),
    );
  }
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
  for (const field of ['seccompProfile', 'appArmorProfile'] as const) {
    const type = isRecord(context[field]) ? context[field].type : undefined;
    if (type !== undefined && type !== 'RuntimeDefault' && type !== 'Localhost') {
      add(
        `${at}/${field}/type`,
        privileged(
          `${field} type ${String(type)} lifts the node's confinement of the process; use RuntimeDefault or Localhost`,
        ),
      );
    }
  }
  const seLinux = isRecord(context.seLinuxOptions) ? context.seLinuxOptions : {};
  if (typeof seLinux.type === 'string' && seLinux.type !== '' && !CONTAINER_SELINUX_TYPES.has(seLinux.type)) {
    add(
      `${at}/seLinuxOptions/type`,
      privileged(
        `SELinux type ${seLinux.type} is not a container type (${[...CONTAINER_SELINUX_TYPES].join(', ')})`,
      ),
    );
  }
  for (const field of ['user', 'role'] as const) {
    if (seLinux[field] !== undefined && seLinux[field] !== '') {
      add(
        `${at}/seLinuxOptions/${field}`,
        privileged(`an SELinux ${field} of its own takes the process out of the container's SELinux domain`),
      );
    }
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

/** The legacy seccomp and AppArmor annotations of a pod template's `metadata`: the same bounds as the fields. */
function checkPodAnnotations(metadata: unknown, at: string, add: (pointer: string, message: string) => void) {
  const annotations = isRecord(metadata) ? recordAt(metadata, 'annotations') : {};
  for (const [key, value] of Object.entries(annotations)) {
    const seccomp = SECCOMP_ANNOTATIONS.test(key);
    if (!seccomp && !APPARMOR_ANNOTATION.test(key)) continue;
    const confined =
      typeof value === 'string' &&
      (value === 'runtime/default' ||
        value.startsWith('localhost/') ||
        (seccomp && value === 'docker/default'));
    if (confined) continue;
    add(
      `${at}/annotations/${escapePointer(key)}`,
      privileged(
        `${String(value)} lifts the node's ${seccomp ? 'seccomp' : 'AppArmor'} confinement of the process; use runtime/default or localhost/<profile>`,
      ),
    );
  }
}

/** A Service stays inside the cluster: no port on every node, no load balancer, no alias for another name. */
function checkService(spec: Record<string, unknown>, add: (pointer: string, message: string) => void) {
  const externalIPs = spec.externalIPs;
  if (Array.isArray(externalIPs) && externalIPs.length > 0) {
    add(
      '/spec/externalIPs',
      privileged('a Service with externalIPs can take over traffic to those addresses'),
    );
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    add(
      '/spec/type',
      privileged(
        `a ${spec.type} Service opens a port on every node of the cluster; use ClusterIP and the environment's routes`,
      ),
    );
  } else if (spec.type === 'ExternalName') {
    add(
      '/spec/type',
      privileged(
        'an ExternalName Service makes a name of the namespace an alias of any host, which ingress controllers and proxies then reach on its behalf',
      ),
    );
  }
}

/** A claim gets a new volume of its own: it neither binds a chosen PersistentVolume nor copies another's data. */
function checkClaimSpec(spec: unknown, at: string, add: (pointer: string, message: string) => void) {
  if (!isRecord(spec)) return;
  if (typeof spec.volumeName === 'string' && spec.volumeName !== '') {
    add(
      `${at}/volumeName`,
      privileged(
        `volumeName binds PersistentVolume "${spec.volumeName}", which the platform team made (it may be a hostPath one); let the claim get a new volume`,
      ),
    );
  }
  for (const field of ['dataSource', 'dataSourceRef'] as const) {
    const source = spec[field];
    if (source === undefined || source === null) continue;
    const { kind, name } = isRecord(source) ? source : {};
    add(
      `${at}/${field}`,
      privileged(`${field} copies the data of ${String(kind)} "${String(name)}" into the new volume`),
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

function recordAt(value: unknown, key: string): Record<string, unknown> {
  const field = isRecord(value) ? value[key] : undefined;
  return isRecord(field) ? field : {};
}

/** A key as one JSON pointer token (RFC 6901): `~` and `/` escaped. */
function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
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
