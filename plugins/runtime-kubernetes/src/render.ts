import { InputError, type FieldProblem } from '@pave/core';
import type { RenderedContainer, RenderedPort, RenderedProbe, RenderedWorkload } from '@pave/plugin-api';
import { beforeProblems, dnsLabel, startOrder } from '@pave/plugin-api';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IKeyToPath } from 'kubernetes-models/v1/KeyToPath';
import type { INamespace } from 'kubernetes-models/v1/Namespace';
import type { IPersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ISecret } from 'kubernetes-models/v1/Secret';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { dataKey, dns1035Label, labelValue } from './names.ts';
import { assertValidManifests } from './validate.ts';
import { kindKey, kindRank, renderExtraManifests } from './extra-manifests.ts';
import type { ManifestPolicy } from './manifest-policy.ts';
import { applyProfilePatches } from './profiles.ts';

/** Every kind Pave renders, as the kubernetes-models types that check their fields at compile time. */
export type KubernetesManifest =
  INamespace | IConfigMap | ISecret | IPersistentVolumeClaim | IService | IDeployment | IIngress;

/** The kind of a rendered manifest. */
export type ManifestKind = KubernetesManifest['kind'];

/**
 * The order manifests come out in (and are applied in): what others refer to goes first, like Helm's install
 * order, so a Deployment never waits on a ConfigMap that has not been applied yet.
 */
export const KIND_ORDER: readonly ManifestKind[] = [
  'Namespace',
  'ConfigMap',
  'Secret',
  'PersistentVolumeClaim',
  'Service',
  'Deployment',
  'Ingress',
];

/** The labels Pave puts on what it renders; prune, remove and destroy find objects by the `pave.dev/*` ones. */
export const LABELS = {
  app: 'pave.dev/app',
  env: 'pave.dev/env',
  workload: 'pave.dev/workload',
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** The annotations Pave puts on Deployments (and the hash on their pods too). */
export const ANNOTATIONS = {
  /** RenderedWorkload.hash: on the Deployment and its pod template, so a changed workload rolls out. */
  hash: 'pave.dev/hash',
  /** The deployment that asked for this version. */
  deployment: 'pave.dev/deployment',
  /** The workload's RenderedPorts as JSON, so `status` can report them as they were rendered. */
  ports: 'pave.dev/ports',
  /**
   * The kinds of the workload's own manifests (`--manifests`) as JSON (`[{apiVersion, kind, namespaced}]`),
   * so the next deploy, remove and destroy know which kinds to look for labelled objects of.
   */
  manifestKinds: 'pave.dev/manifest-kinds',
} as const;

// The namespace pattern used when none is configured, and the check of a configured one, are core's: the
// server checks a target's pattern when it is applied.
export { DEFAULT_NAMESPACE_PATTERN, namespacePatternProblem } from '@pave/core';

/** Storage requested for a volume's PersistentVolumeClaim unless the caller says otherwise. */
export const DEFAULT_VOLUME_SIZE = '1Gi';

/** The pod volume that carries a workload's files (items of its ConfigMap, mounted one by one with subPath). */
const FILES_VOLUME = 'pave-files';
/** The pod volume that carries a workload's files that hold secrets (items of its Secret). */
const SECRET_FILES_VOLUME = 'pave-secret-files';

/** An HTTP route to a workload's port, rendered as an Ingress. */
export interface RouteSpec {
  host: string;
  /** A path prefix, starting with "/". */
  path: string;
  workload: string;
  /** The service port (Score's `port`, not the target port). */
  port: number;
}

/** What {@link renderManifests} renders. */
export interface RenderManifestsInput {
  app: string;
  env: string;
  /** The namespace everything goes into (see {@link namespaceFor}). */
  namespace: string;
  workloads: RenderedWorkload[];
  routes?: RouteSpec[];
  /**
   * The names of the environment variables of a container whose values are secrets: they go into the
   * workload's Secret instead of its ConfigMap. Default: none.
   */
  secretKeys?: (workload: string, container: string) => string[];
  /**
   * The targets of a container's files whose content holds a secret: they go into the workload's Secret, and
   * are mounted from it, instead of its ConfigMap. Default: none.
   */
  secretFiles?: (workload: string, container: string) => string[];
  /**
   * Also publish every port on the node at its RenderedPort.hostPort (bound to `hostIP` when given). For
   * engines without Services, such as `podman kube play`; leave unset for a cluster.
   */
  hostPorts?: { hostIP?: string };
  /** Storage requested for each PersistentVolumeClaim; default {@link DEFAULT_VOLUME_SIZE}. */
  volumeSize?: string;
  /** `spec.ingressClassName` of the Ingresses; default: the cluster's default class. */
  ingressClassName?: string;
  /**
   * Accept workloads' own manifests of cluster-scoped kinds (see CLUSTER_SCOPED_KINDS); default false: they
   * are refused.
   */
  allowClusterScoped?: boolean;
  /**
   * What workloads' own manifests (`--manifests`) may contain: the target's `manifests` setting (see
   * ManifestPolicy); default its defaults. Profiles' objects are the platform team's and are not bounded.
   */
  manifestPolicy?: ManifestPolicy;
}

/**
 * Renders the Kubernetes manifests of `input.workloads` in one namespace: the Namespace; per workload a
 * Deployment (one pod with all its containers; those that others wait for, Score's `before`, as init
 * containers), a Service when it has ports, a ConfigMap for its plain
 * variables and files, a Secret for its secret variables, a PersistentVolumeClaim per volume source; and an
 * Ingress per route. Names are stable DNS labels, keys are sorted recursively, and the objects come in
 * {@link KIND_ORDER}, then by name; the same input always gives the same output. The result is validated
 * against the Kubernetes schemas: throws InputError listing every problem (with the object's kind/name and
 * the JSON path), including routes to unknown workloads or ports.
 */
export function renderManifests(input: RenderManifestsInput): KubernetesManifest[] {
  const problems: FieldProblem[] = [];
  const objects = new Map<string, KubernetesManifest>();
  const add = (object: KubernetesManifest) => {
    objects.set(`${object.kind}/${object.metadata?.name ?? ''}`, object);
  };
  add(renderNamespace(input));
  const names = new Map<string, string>();
  for (const workload of input.workloads) {
    const name = dnsLabel(workload.name);
    const clash = names.get(name);
    if (clash !== undefined) {
      problems.push({
        path: `workloads.${workload.name}`,
        message: `its Kubernetes name "${name}" is also the name of workload "${clash}"; rename one of them`,
      });
    }
    names.set(name, workload.name);
    for (const object of renderWorkload(input, workload, problems)) add(object);
  }
  for (const [index, route] of (input.routes ?? []).entries()) {
    const ingress = renderIngress(input, route, `routes[${index}]`, problems);
    if (ingress) add(ingress);
  }
  // The developer's own manifests (`--manifests`) come last, so a clash with an object of Pave's is theirs.
  const extraKeys = new Set<string>();
  for (const workload of input.workloads) {
    for (const key of addExtraManifests(input, workload, objects, problems)) {
      extraKeys.add(key);
    }
  }
  if (problems.length > 0) {
    throw new InputError(
      `the Kubernetes manifests of ${input.app}/${input.env} cannot be rendered`,
      problems,
    );
  }
  const sorted = [...objects.values()].sort(compareManifests).map((object) => sortKeysDeep(object));
  // The developer's manifests were checked on their own, with their file and document in the errors.
  assertValidManifests(sorted.filter((object) => !extraKeys.has(objectKey(object))));
  return sorted;
}

function objectKey(object: { kind: string; metadata?: { name?: string } }): string {
  return `${object.kind}/${object.metadata?.name ?? ''}`;
}

/**
 * Adds `workload`'s own manifests, bounded by `input.manifestPolicy`, then its profiles' objects, to `objects`
 * (see renderExtraManifests), refusing one that has the kind and name of another object, and records their kinds on the workload's Deployment (ANNOTATIONS.manifestKinds) so
 * that a later deploy prunes them when they are gone. Returns the keys of the objects added.
 */
function addExtraManifests(
  input: RenderManifestsInput,
  workload: RenderedWorkload,
  objects: Map<string, KubernetesManifest>,
  problems: FieldProblem[],
): string[] {
  const place = {
    namespace: input.namespace,
    labels: workloadLabels(input, workload.name),
    ...(input.allowClusterScoped ? { allowClusterScoped: true } : {}),
  };
  const extras = [
    ...renderExtraManifests(
      workload.manifests ?? [],
      { ...place, policy: input.manifestPolicy ?? {} },
      problems,
    ),
    ...renderExtraManifests(workload.profiles?.objects ?? [], place, problems),
  ];
  if (extras.length === 0) return [];
  const keys: string[] = [];
  const kinds = new Map<string, { apiVersion: string; kind: string; namespaced: boolean }>();
  for (const { object, namespaced, source } of extras) {
    const key = objectKey(object);
    if (objects.has(key)) {
      problems.push({
        path: `${source}: /metadata/name`,
        message: `${key} is already rendered for ${input.app}/${input.env} (by Pave or another manifest); rename it`,
      });
      continue;
    }
    objects.set(key, object as unknown as KubernetesManifest);
    keys.push(key);
    kinds.set(kindKey(object), { apiVersion: object.apiVersion, kind: object.kind, namespaced });
  }
  const deployment = objects.get(`Deployment/${workloadObjectName(workload.name)}`) as
    IDeployment | undefined;
  if (deployment?.metadata && kinds.size > 0) {
    deployment.metadata.annotations = {
      ...deployment.metadata.annotations,
      [ANNOTATIONS.manifestKinds]: JSON.stringify(
        [...kinds.entries()].sort(([a], [b]) => compareText(a, b)).map(([, kind]) => kind),
      ),
    };
  }
  return keys;
}

/**
 * Orders manifests by {@link KIND_ORDER} (other kinds, from workloads' own manifests, where Helm's install
 * order puts them: see kindRank), then kind, namespace and name.
 */
export function compareManifests(a: KubernetesManifest, b: KubernetesManifest): number {
  return (
    kindRank(a.kind, KIND_ORDER) - kindRank(b.kind, KIND_ORDER) ||
    compareText(a.kind, b.kind) ||
    compareText(a.metadata?.namespace ?? '', b.metadata?.namespace ?? '') ||
    compareText(a.metadata?.name ?? '', b.metadata?.name ?? '')
  );
}

/**
 * The namespace of an app's environment: `pattern` with `{app}` and `{env}` replaced, made a DNS label
 * (see dnsLabel: a valid result is kept as is, anything else is cleaned and given a hash suffix).
 */
export function namespaceFor(pattern: string, app: string, env: string): string {
  return dnsLabel(pattern.replaceAll('{app}', app).replaceAll('{env}', env));
}

/**
 * How other workloads reach `port` of `workload`: its Service and service port. With `namespace`, the
 * hostname is `<service>.<namespace>.svc`, which resolves from any namespace without assuming the cluster
 * domain; without, the bare Service name, which resolves inside the same namespace.
 */
export function serviceAddress(
  workload: string,
  port: RenderedPort,
  namespace?: string,
): { hostname: string; port: number } {
  const service = serviceName(workload);
  return { hostname: namespace ? `${service}.${namespace}.svc` : service, port: port.port };
}

/** The name of the Service of `workload`: a DNS-1035 label, as Services require. */
export function serviceName(workload: string): string {
  return dns1035Label(workload);
}

/** The name of the Deployment (and ConfigMap and Secret) of `workload`. */
export function workloadObjectName(workload: string): string {
  return dnsLabel(workload);
}

/**
 * The name of the PersistentVolumeClaim for a volume `source`: the source itself when it is a DNS label,
 * else a cleaned form with a hash suffix. Workloads that mount the same source share the claim.
 */
export function volumeClaimName(source: string): string {
  return dnsLabel(source);
}

/** The label selector of the objects Pave manages for an environment, or for one workload of it. */
export function selectorFor(target: { app: string; env: string }, workload?: string): string {
  return [
    `${LABELS.app}=${labelValue(target.app)}`,
    `${LABELS.env}=${labelValue(target.env)}`,
    ...(workload === undefined ? [] : [`${LABELS.workload}=${labelValue(workload)}`]),
  ].join(',');
}

/** Returns `value` with the keys of every object in it sorted (arrays keep their order). */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => sortKeysDeep(item)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => compareText(a, b))
        .map(([key, item]) => [key, sortKeysDeep(item)]),
    ) as T;
  }
  return value;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function environmentLabels(input: { app: string; env: string }): Record<string, string> {
  return {
    [LABELS.managedBy]: 'pave',
    [LABELS.instance]: labelValue(`${input.app}-${input.env}`),
    [LABELS.app]: labelValue(input.app),
    [LABELS.env]: labelValue(input.env),
  };
}

function workloadLabels(input: { app: string; env: string }, workload: string): Record<string, string> {
  return {
    ...environmentLabels(input),
    [LABELS.name]: labelValue(workload),
    [LABELS.workload]: labelValue(workload),
  };
}

/** The labels a workload's Deployment selects its pods by; they never change for a workload. */
function selectorLabels(input: { app: string; env: string }, workload: string): Record<string, string> {
  return {
    [LABELS.app]: labelValue(input.app),
    [LABELS.env]: labelValue(input.env),
    [LABELS.workload]: labelValue(workload),
  };
}

function renderNamespace(input: RenderManifestsInput): INamespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: input.namespace, labels: environmentLabels(input) },
  };
}

/** The ConfigMap and Secret keys of one workload's containers, built once so the pod spec and data agree. */
interface WorkloadData {
  config: Record<string, string>;
  binary: Record<string, string>;
  secret: Record<string, string>;
  /** ConfigMap items of the files volume. */
  items: IKeyToPath[];
  /** Secret items of the secret files volume. */
  secretItems: IKeyToPath[];
}

function renderWorkload(
  input: RenderManifestsInput,
  workload: RenderedWorkload,
  problems: FieldProblem[],
): KubernetesManifest[] {
  const name = workloadObjectName(workload.name);
  const namespace = input.namespace;
  const labels = workloadLabels(input, workload.name);
  const data: WorkloadData = { config: {}, binary: {}, secret: {}, items: [], secretItems: [] };
  const claims = new Map<string, IVolume>();
  // Score's `before`: a container others wait for is an init container, in start order (see initRole).
  problems.push(...beforeProblems(workload.containers, `workloads.${workload.name}.containers`));
  const ordered = startOrder(workload.containers);
  const apps = ordered.filter((container) => initRole(container) === null);
  // The pod's ports go on its first app container by name: one that exits cannot hold them.
  const portHolder = [...apps].sort((a, b) => compareText(a.name, b.name))[0];
  const shared = { name, data, claims, problems };
  const containers = [...apps]
    .sort((a, b) => compareText(a.name, b.name))
    .map((container) => renderContainer(input, workload, container, container === portHolder, shared));
  const initContainers = ordered
    .filter((container) => initRole(container) !== null)
    .map((container) => renderInitContainer(input, workload, container, shared));
  const volumes: IVolume[] = [...claims.values()];
  if (data.items.length > 0) {
    volumes.push({
      name: FILES_VOLUME,
      configMap: { name, items: [...data.items].sort((a, b) => compareText(a.key, b.key)) },
    });
  }
  if (data.secretItems.length > 0) {
    volumes.push({
      name: SECRET_FILES_VOLUME,
      secret: { secretName: name, items: [...data.secretItems].sort((a, b) => compareText(a.key, b.key)) },
    });
  }
  const objects: KubernetesManifest[] = [];
  // Score's metadata.annotations, as score-k8s places them; Pave's own (pave.dev/*) win over a clash.
  const own = workload.annotations ?? {};
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels,
      annotations: {
        ...own,
        [ANNOTATIONS.hash]: workload.hash,
        [ANNOTATIONS.deployment]: workload.deploymentId,
        [ANNOTATIONS.ports]: JSON.stringify(
          [...workload.ports].sort((a, b) => compareText(a.name, b.name)).map((port) => sortKeysDeep(port)),
        ),
      },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: selectorLabels(input, workload.name) },
      // A volume's claim is usually ReadWriteOnce: the old pod must let go of it before the new one starts.
      strategy: { type: claims.size > 0 ? 'Recreate' : 'RollingUpdate' },
      template: {
        metadata: { labels, annotations: { ...own, [ANNOTATIONS.hash]: workload.hash } },
        spec: {
          containers,
          ...(initContainers.length > 0 ? { initContainers } : {}),
          // Kubernetes would otherwise add variables for every Service in the namespace.
          enableServiceLinks: false,
          ...(volumes.length > 0 ? { volumes: volumes.sort((a, b) => compareText(a.name, b.name)) } : {}),
        },
      },
    },
  };
  objects.push(deployment);
  if (workload.ports.length > 0) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: serviceName(workload.name), namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(input, workload.name),
        ports: [...workload.ports]
          .sort((a, b) => compareText(a.name, b.name))
          .map((port) => ({
            name: dnsLabel(port.name),
            port: port.port,
            protocol: port.protocol,
            targetPort: port.targetPort,
          })),
      },
    });
  }
  if (Object.keys(data.config).length + Object.keys(data.binary).length > 0) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace, labels },
      ...(Object.keys(data.config).length > 0 ? { data: data.config } : {}),
      ...(Object.keys(data.binary).length > 0 ? { binaryData: data.binary } : {}),
    });
  }
  if (Object.keys(data.secret).length > 0) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels },
      type: 'Opaque',
      data: data.secret,
    });
  }
  for (const claim of claims.values()) {
    const claimName = claim.persistentVolumeClaim?.claimName ?? '';
    objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      // Not labelled with the workload: workloads that mount the same source share it, and removing a
      // workload keeps its data. Destroying the environment deletes it.
      metadata: { name: claimName, namespace, labels: environmentLabels(input) },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: input.volumeSize ?? DEFAULT_VOLUME_SIZE } },
      },
    });
  }
  // Profiles shape what Pave renders; the result is validated with everything else.
  return applyProfilePatches(objects, workload);
}

function renderContainer(
  input: RenderManifestsInput,
  workload: RenderedWorkload,
  container: RenderedContainer,
  first: boolean,
  shared: { name: string; data: WorkloadData; claims: Map<string, IVolume>; problems: FieldProblem[] },
): IContainer {
  const { name, data, claims, problems } = shared;
  const secrets = new Set(input.secretKeys?.(workload.name, container.name) ?? []);
  const secretFiles = new Set(input.secretFiles?.(workload.name, container.name) ?? []);
  const env: IEnvVar[] = Object.keys(container.env)
    .sort(compareText)
    .map((variable) => {
      const value = container.env[variable] ?? '';
      const key = dataKey(container.name, variable);
      if (secrets.has(variable)) {
        data.secret[key] = Buffer.from(value, 'utf8').toString('base64');
        return { name: variable, valueFrom: { secretKeyRef: { name, key } } };
      }
      data.config[key] = value;
      return { name: variable, valueFrom: { configMapKeyRef: { name, key } } };
    });
  const mounts: IVolumeMount[] = [];
  for (const file of container.files) {
    const key = dataKey(container.name, 'file', file.target.replace(/^\/+/u, ''));
    const secret = secretFiles.has(file.target);
    // A Secret's data is base64, as a binary file's content already is.
    if (secret) data.secret[key] = file.binary ? file.content : Buffer.from(file.content).toString('base64');
    else if (file.binary) data.binary[key] = file.content;
    else data.config[key] = file.content;
    if (file.mode !== undefined && !/^0?[0-7]{3}$/u.test(file.mode)) {
      problems.push({
        path: `workloads.${workload.name}.containers.${container.name}.files.${file.target}.mode`,
        message: `"${file.mode}" is not an octal file mode such as "0644"`,
      });
    }
    const item = { key, path: key, ...(file.mode ? { mode: Number.parseInt(file.mode, 8) } : {}) };
    (secret ? data.secretItems : data.items).push(item);
    const volume = secret ? SECRET_FILES_VOLUME : FILES_VOLUME;
    mounts.push({ name: volume, mountPath: file.target, subPath: key, readOnly: true });
  }
  for (const volume of container.volumes ?? []) {
    const claimName = volumeClaimName(volume.source);
    const volumeName = dnsLabel(`pvc-${claimName}`);
    claims.set(volumeName, { name: volumeName, persistentVolumeClaim: { claimName } });
    const subPath = volume.path?.replace(/^\/+/u, '');
    mounts.push({
      name: volumeName,
      mountPath: volume.target,
      ...(subPath ? { subPath } : {}),
      ...(volume.readOnly ? { readOnly: true } : {}),
    });
  }
  const ports = first ? containerPorts(workload.ports, input.hostPorts) : [];
  const readinessProbe = renderProbe(container.readinessProbe, workload.ports);
  const livenessProbe = renderProbe(container.livenessProbe, workload.ports);
  const resources = renderResources(container.resources);
  return {
    name: dnsLabel(container.name),
    image: container.image,
    ...(container.command ? { command: container.command } : {}),
    ...(container.args ? { args: container.args } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(ports.length > 0 ? { ports } : {}),
    ...(readinessProbe ? { readinessProbe } : {}),
    ...(livenessProbe ? { livenessProbe } : {}),
    ...(resources ? { resources } : {}),
    ...(mounts.length > 0
      ? { volumeMounts: mounts.sort((a, b) => compareText(a.mountPath, b.mountPath)) }
      : {}),
  };
}

/**
 * How a container others wait for (Score's `before`) runs in the pod: `complete` when one waits for it to
 * complete (a plain init container: it runs to completion before the next starts; probes are not allowed
 * there); `sidecar` when they wait for it to start or be healthy only (an init container with `restartPolicy:
 * Always`, which keeps running: the kubelet starts the next container once it has started, or once its startup
 * probe passes: its readiness probe, else its liveness probe, when one waits for it to be healthy). Null for
 * the pod's app containers, which start together after every init container.
 */
function initRole(container: RenderedContainer): 'complete' | 'sidecar' | null {
  const entries = Object.values(container.before ?? {});
  if (entries.length === 0) return null;
  return entries.some((entry) => entry.ready === 'complete') ? 'complete' : 'sidecar';
}

function renderInitContainer(
  input: RenderManifestsInput,
  workload: RenderedWorkload,
  container: RenderedContainer,
  shared: Parameters<typeof renderContainer>[4],
): IContainer {
  const rendered = renderContainer(input, workload, container, false, shared);
  if (initRole(container) === 'complete') {
    const { readinessProbe: _readiness, livenessProbe: _liveness, ...once } = rendered;
    return once;
  }
  const healthy = Object.values(container.before ?? {}).some((entry) => entry.ready === 'healthy');
  const startupProbe = healthy ? (rendered.readinessProbe ?? rendered.livenessProbe) : undefined;
  return { ...rendered, restartPolicy: 'Always', ...(startupProbe ? { startupProbe } : {}) };
}

/**
 * The pod's ports, declared on its first app container (containers of a pod share one network): one per target
 * port and protocol, without names (a container port name may have only 15 characters, and the Service
 * targets ports by number).
 */
function containerPorts(ports: RenderedPort[], hostPorts: RenderManifestsInput['hostPorts']) {
  const seen = new Set<string>();
  return [...ports]
    .sort((a, b) => a.targetPort - b.targetPort || compareText(a.protocol, b.protocol))
    .filter((port) => {
      const key = `${port.targetPort}/${port.protocol}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((port) => ({
      containerPort: port.targetPort,
      protocol: port.protocol,
      ...(hostPorts
        ? { hostPort: port.hostPort, ...(hostPorts.hostIP ? { hostIP: hostPorts.hostIP } : {}) }
        : {}),
    }));
}

/**
 * A Kubernetes probe. RenderedProbe's HTTP port is the host port Pave allocated; the kubelet probes the
 * pod, so it is mapped back to the container port of the RenderedPort with that host port. Kubernetes takes
 * one handler per probe: httpGet when the Score probe has both.
 */
function renderProbe(probe: RenderedProbe | undefined, ports: RenderedPort[]): IProbe | undefined {
  if (probe?.httpGet) {
    const { port, path, host, scheme, httpHeaders } = probe.httpGet;
    const served = ports.find((candidate) => candidate.hostPort === port);
    return {
      httpGet: {
        path,
        port: served?.targetPort ?? port,
        ...(host ? { host } : {}),
        ...(scheme ? { scheme } : {}),
        ...(httpHeaders && httpHeaders.length > 0 ? { httpHeaders } : {}),
      },
    };
  }
  if (probe?.exec) return { exec: { command: probe.exec.command } };
  return undefined;
}

function renderResources(resources: RenderedContainer['resources']): IContainer['resources'] {
  const pick = (values: { cpu?: string; memory?: string } | undefined) => {
    const picked = Object.fromEntries(
      Object.entries(values ?? {}).filter(([, value]) => typeof value === 'string' && value !== ''),
    );
    return Object.keys(picked).length > 0 ? picked : undefined;
  };
  const limits = pick(resources?.limits);
  const requests = pick(resources?.requests);
  if (!limits && !requests) return undefined;
  return { ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

function renderIngress(
  input: RenderManifestsInput,
  route: RouteSpec,
  path: string,
  problems: FieldProblem[],
): IIngress | undefined {
  const workload = input.workloads.find((candidate) => candidate.name === route.workload);
  if (!workload) {
    problems.push({
      path: `${path}.workload`,
      message: `route ${route.host}${route.path} names workload "${route.workload}", which is not in the set`,
    });
    return undefined;
  }
  const port = workload.ports.find((candidate) => candidate.port === route.port);
  if (!port) {
    const known = workload.ports.map((candidate) => candidate.port).join(', ') || 'none';
    problems.push({
      path: `${path}.port`,
      message: `workload "${route.workload}" serves no port ${route.port} (its ports: ${known})`,
    });
    return undefined;
  }
  if (!route.path.startsWith('/')) {
    problems.push({ path: `${path}.path`, message: `a route path must start with "/", e.g. /${route.path}` });
    return undefined;
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: dnsLabel(`${route.workload}-${route.host}${route.path === '/' ? '' : route.path}`),
      namespace: input.namespace,
      labels: workloadLabels(input, route.workload),
    },
    spec: {
      ...(input.ingressClassName ? { ingressClassName: input.ingressClassName } : {}),
      rules: [
        {
          host: route.host,
          http: {
            paths: [
              {
                path: route.path,
                pathType: 'Prefix',
                backend: {
                  service: { name: serviceName(workload.name), port: { number: port.port } },
                },
              },
            ],
          },
        },
      ],
    },
  };
}
