import type {
  CoreV1Api,
  KubeConfig,
  KubernetesObject,
  KubernetesObjectApi,
  V1Deployment,
  V1Pod,
} from '@kubernetes/client-node';
import { UpstreamError } from '@pave/core';
import { sleep } from '@pave/plugin-api';
import { ANNOTATIONS, LABELS } from './render.ts';

/*
 * The thin, typed layer between Pave and a cluster: server-side apply, prune by label, rollout waiting and
 * pod logs over @kubernetes/client-node. Everything goes through KubernetesClients, so tests point a
 * KubeConfig at a local HTTP server that replays recorded API responses.
 */

/**
 * @kubernetes/client-node, loaded on first use: it is about 15 MB of code, so a Pave with no Kubernetes target
 * (and `pave up` starting) never parses it.
 */
const clientNode = () => import('@kubernetes/client-node');

/** The field manager of Pave's server-side applies. */
export const FIELD_MANAGER = 'pave';

/** The API clients Pave uses; make them with {@link kubernetesClients}. */
export interface KubernetesClients {
  /** Kind-agnostic CRUD (discovers each kind's REST path from the API server). */
  objects: KubernetesObjectApi;
  /** Pod logs. */
  core: CoreV1Api;
}

/** Where the cluster's credentials come from. */
export interface KubeConfigSource {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  kubeconfig?: string;
  /** The kubeconfig context to use; default: its current context. */
  context?: string;
}

/** Loads a kubeconfig (see {@link KubeConfigSource}); throws when the file or context does not exist. */
export async function loadKubeConfig(source: KubeConfigSource = {}): Promise<KubeConfig> {
  const { KubeConfig } = await clientNode();
  const config = new KubeConfig();
  if (source.kubeconfig) config.loadFromFile(source.kubeconfig);
  else config.loadFromDefault();
  if (source.context) {
    if (!config.getContextObject(source.context)) {
      const known = config.getContexts().map((context) => context.name);
      throw new Error(
        `the kubeconfig has no context "${source.context}" (it has: ${known.join(', ') || 'none'})`,
      );
    }
    config.setCurrentContext(source.context);
  }
  return config;
}

/** The clients for the cluster `config` points at. Nothing is requested until they are used. */
export async function kubernetesClients(config: KubeConfig): Promise<KubernetesClients> {
  const { CoreV1Api, KubernetesObjectApi } = await clientNode();
  return { objects: KubernetesObjectApi.makeApiClient(config), core: config.makeApiClient(CoreV1Api) };
}

/** A kind Pave manages, with whether its objects live in a namespace. */
export interface KindRef {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

/** Identifies one object in the cluster. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
}

/** The object the apply functions take: any manifest with its type and name. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
}

/** The namespaced kinds Pave renders, in the order prune deletes them: dependents first. */
export const MANAGED_KINDS: readonly KindRef[] = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', namespaced: true },
  { apiVersion: 'v1', kind: 'Secret', namespaced: true },
  { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespaced: true },
];

/** The Namespace kind (cluster-scoped): deleted only when a whole environment is destroyed. */
export const NAMESPACE_KIND: KindRef = { apiVersion: 'v1', kind: 'Namespace', namespaced: false };

/**
 * Server-side applies each object in order (`PATCH` with `application/apply-patch+yaml`, field manager
 * {@link FIELD_MANAGER}, `force=true` so Pave takes back fields someone changed by hand). Returns what was
 * applied. Rejects with
 * UpstreamError naming the object and the API server's message at the first object that fails; the ones
 * before it stay applied.
 */
export async function applyManifests(
  clients: KubernetesClients,
  objects: readonly ManifestObject[],
  options: { signal?: AbortSignal } = {},
): Promise<ObjectRef[]> {
  const { PatchStrategy } = await clientNode();
  const applied: ObjectRef[] = [];
  for (const object of objects) {
    options.signal?.throwIfAborted();
    const ref = refOf(object);
    try {
      await clients.objects.patch(
        // The client fills in defaults (a namespace) on what it is given: give it a copy.
        structuredClone(object) as KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        true,
        PatchStrategy.ServerSideApply,
      );
    } catch (error) {
      throw upstream(`server-side apply of ${describeRef(ref)} failed`, error);
    }
    applied.push(ref);
  }
  return applied;
}

/**
 * The objects of `kinds` in `namespace` (cluster-wide for cluster-scoped kinds) whose labels match
 * `selector`, sorted by kind order, then name.
 */
export async function listManaged(
  clients: KubernetesClients,
  options: { namespace: string; selector: string; kinds?: readonly KindRef[] },
): Promise<ObjectRef[]> {
  return (await listLabelled(clients, options)).map(({ labels: _labels, ...ref }) => ref);
}

/** As {@link listManaged}, with each object's labels. */
export async function listLabelled(
  clients: KubernetesClients,
  options: { namespace: string; selector: string; kinds?: readonly KindRef[] },
): Promise<Array<ObjectRef & { labels: Record<string, string> }>> {
  const found: Array<ObjectRef & { labels: Record<string, string> }> = [];
  for (const kind of options.kinds ?? MANAGED_KINDS) {
    let list;
    try {
      list = await clients.objects.list(
        kind.apiVersion,
        kind.kind,
        kind.namespaced ? options.namespace : undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        options.selector,
      );
    } catch (error) {
      // A namespace that does not exist yet holds nothing.
      if (statusCode(error) === 404) continue;
      throw upstream(`listing ${kind.kind} objects (${options.selector}) failed`, error);
    }
    for (const item of list.items) {
      const name = item.metadata?.name;
      if (!name) continue;
      found.push({
        apiVersion: kind.apiVersion,
        kind: kind.kind,
        name,
        ...(kind.namespaced ? { namespace: item.metadata?.namespace ?? options.namespace } : {}),
        labels: item.metadata?.labels ?? {},
      });
    }
  }
  return found;
}

/**
 * Deletes the objects of `kinds` that match `selector` (in `namespace`) and are not in `keep`: what a new
 * set no longer has. Objects already gone count as deleted. Returns the objects deleted.
 */
export async function pruneManifests(
  clients: KubernetesClients,
  options: {
    namespace: string;
    selector: string;
    keep: readonly ManifestObject[];
    kinds?: readonly KindRef[];
    signal?: AbortSignal;
  },
): Promise<ObjectRef[]> {
  const kinds = options.kinds ?? MANAGED_KINDS;
  const clusterScoped = (object: ManifestObject) =>
    kinds.some(
      (kind) => !kind.namespaced && kind.kind === object.kind && kind.apiVersion === object.apiVersion,
    );
  // A cluster-scoped object is listed without a namespace: keep it by its name alone.
  const kept = new Set(
    options.keep.map((object) =>
      refKey(refOf(object, clusterScoped(object) ? undefined : options.namespace)),
    ),
  );
  const stale = (await listManaged(clients, options)).filter((ref) => !kept.has(refKey(ref)));
  await deleteObjects(clients, stale, options.signal);
  return stale;
}

/**
 * Deletes every object of `kinds` that matches `selector` in `namespace` (remove a workload, destroy an
 * environment). Idempotent: objects already gone are fine. Returns the objects deleted.
 */
export async function deleteManaged(
  clients: KubernetesClients,
  options: { namespace: string; selector: string; kinds?: readonly KindRef[]; signal?: AbortSignal },
): Promise<ObjectRef[]> {
  const found = await listManaged(clients, options);
  await deleteObjects(clients, found, options.signal);
  return found;
}

/**
 * Applies `objects` then prunes what matches `selector` in `namespace` but is not among them: makes the
 * cluster hold exactly this set. Returns what was applied and what was pruned.
 */
export async function applySet(
  clients: KubernetesClients,
  options: {
    namespace: string;
    selector: string;
    objects: readonly ManifestObject[];
    kinds?: readonly KindRef[];
    signal?: AbortSignal;
  },
): Promise<{ applied: ObjectRef[]; pruned: ObjectRef[] }> {
  const applied = await applyManifests(clients, options.objects, options);
  const pruned = await pruneManifests(clients, { ...options, keep: options.objects });
  return { applied, pruned };
}

/** Deletes `refs` in order; objects already gone are fine. UpstreamError naming the first that fails. */
export async function deleteObjects(
  clients: KubernetesClients,
  refs: readonly ObjectRef[],
  signal: AbortSignal | undefined,
): Promise<void> {
  for (const ref of refs) {
    signal?.throwIfAborted();
    try {
      await clients.objects.delete(
        {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
    } catch (error) {
      if (statusCode(error) === 404) continue;
      throw upstream(`deleting ${describeRef(ref)} failed`, error);
    }
  }
}

/** The labels of Namespace `name`, or null when it does not exist; UpstreamError when it cannot be read. */
export async function namespaceLabels(
  clients: KubernetesClients,
  name: string,
): Promise<Record<string, string> | null> {
  try {
    const namespace = await clients.objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return namespace.metadata?.labels ?? {};
  } catch (error) {
    if (statusCode(error) === 404) return null;
    throw upstream(`reading Namespace ${name} failed`, error);
  }
}

/** Where a Deployment's rollout stands, judged from its status as `kubectl rollout status` does. */
export type RolloutStatus =
  { state: 'complete' } | { state: 'progressing'; message: string } | { state: 'failed'; reason: string };

/**
 * Judges a Deployment's rollout from its status alone: not yet observed (`observedGeneration` below
 * `generation`), failed (condition Progressing with reason ProgressDeadlineExceeded), progressing (fewer
 * updated or available replicas than wanted, old replicas still there, or condition Available not True),
 * else complete.
 */
export function rolloutStatus(deployment: V1Deployment): RolloutStatus {
  const name = deployment.metadata?.name ?? '(unnamed)';
  const status = deployment.status ?? {};
  const conditions = status.conditions ?? [];
  if ((status.observedGeneration ?? 0) < (deployment.metadata?.generation ?? 0)) {
    return {
      state: 'progressing',
      message: 'waiting for the Deployment controller to observe the new version',
    };
  }
  const progressing = conditions.find((condition) => condition.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      state: 'failed',
      reason: `Deployment "${name}" exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}`,
    };
  }
  const wanted = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) {
    return { state: 'progressing', message: `${updated} of ${wanted} replicas run the new version` };
  }
  if (replicas > updated) {
    return {
      state: 'progressing',
      message: `${replicas - updated} replica${replicas - updated === 1 ? '' : 's'} of the old version still running`,
    };
  }
  if (available < updated) {
    return { state: 'progressing', message: `${available} of ${updated} new replicas are available` };
  }
  const availableCondition = conditions.find((condition) => condition.type === 'Available');
  if (wanted > 0 && availableCondition?.status !== 'True') {
    return {
      state: 'progressing',
      message: `not available yet${availableCondition?.message ? `: ${availableCondition.message}` : ''}`,
    };
  }
  return { state: 'complete' };
}

/** Container waiting reasons that do not go away by waiting: the rollout fails at once. */
const FATAL_WAITING_REASONS = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Why pods of a version cannot become ready, if one of their containers is stuck. */
export interface PodFailure {
  reason: string;
  pod: string;
}

/**
 * The first container of `pods` (only those whose `pave.dev/hash` annotation is `hash`, when given) that
 * is stuck in a state waiting will not fix, e.g. CrashLoopBackOff (with its last exit) or ImagePullBackOff;
 * null when there is none.
 */
export function podFailure(pods: readonly V1Pod[], hash?: string): PodFailure | null {
  for (const pod of [...pods].sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''))) {
    if (hash !== undefined && pod.metadata?.annotations?.[ANNOTATIONS.hash] !== hash) continue;
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const container of statuses) {
      const waiting = container.state?.waiting;
      if (!waiting?.reason || !FATAL_WAITING_REASONS.has(waiting.reason)) continue;
      const last = container.lastState?.terminated;
      const exit = last
        ? `; it last ${last.signal ? `was killed by signal ${last.signal}` : `exited with code ${last.exitCode}`}${last.reason ? ` (${last.reason})` : ''}`
        : '';
      return {
        reason: `container "${container.name}" of pod ${pod.metadata?.name ?? '?'} is in ${waiting.reason}${exit}${waiting.message ? `: ${waiting.message}` : ''}`,
        pod: pod.metadata?.name ?? '',
      };
    }
  }
  return null;
}

/** The outcome of {@link waitForRollout}. */
export type RolloutOutcome =
  | { ok: true }
  | {
      ok: false;
      reason: string;
      /** The pod whose container failed, when one did: where to read the last logs from. */
      pod?: string;
    };

/**
 * Waits until Deployment `name` has rolled out (see {@link rolloutStatus}), polling every `pollMs` (default
 * 1 s). Fails at once when the rollout failed (progress deadline exceeded), when the Deployment does not
 * exist, or when a container of the new version's pods is stuck (see {@link podFailure}); fails with
 * "timed out after N s: <where it stood>" when `signal` aborts, which alone ends the wait: the caller's
 * deadline (a deployment's `--timeout`) is the one.
 */
export async function waitForRollout(
  clients: KubernetesClients,
  options: { namespace: string; name: string; pollMs?: number; signal: AbortSignal },
): Promise<RolloutOutcome> {
  const { signal } = options;
  const started = Date.now();
  for (;;) {
    const deployment = await readDeployment(clients, options.namespace, options.name);
    if (!deployment) {
      return { ok: false, reason: `Deployment ${options.namespace}/${options.name} does not exist` };
    }
    const status = rolloutStatus(deployment);
    if (status.state === 'complete') return { ok: true };
    if (status.state === 'failed') return { ok: false, reason: status.reason };
    const where = status.message;
    const pods = await listPods(clients, options.namespace, matchLabelsSelector(deployment));
    const failure = podFailure(pods, deployment.spec?.template?.metadata?.annotations?.[ANNOTATIONS.hash]);
    if (failure) {
      return { ok: false, reason: failure.reason, pod: failure.pod };
    }
    if (!(await sleep(options.pollMs ?? 1_000, signal))) {
      return {
        ok: false,
        reason: `timed out after ${Math.round((Date.now() - started) / 1000)} s: ${where}`,
      };
    }
  }
}

/** Deployment `namespace`/`name`, or null when it does not exist; UpstreamError when it cannot be read. */
async function readDeployment(
  clients: KubernetesClients,
  namespace: string,
  name: string,
): Promise<V1Deployment | null> {
  try {
    return await clients.objects.read<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
    });
  } catch (error) {
    if (statusCode(error) === 404) return null;
    throw upstream(`reading Deployment ${namespace}/${name} failed`, error);
  }
}

/**
 * After a rollout, waits until every container without a readiness probe in the current pods of Deployment
 * `name` (those whose `pave.dev/hash` annotation is the pod template's) has kept running `stableMs` since it
 * last started, polling every `pollMs` (default 1 s): Kubernetes counts such a container ready as soon as it
 * runs, so a workload that crashes a few seconds after it starts would otherwise pass. Fails at once when
 * one of them restarted within that window or stopped running after a restart (with its last exit), or the
 * Deployment does not exist; fails with "timed out after N s: …" when `signal` aborts, which alone ends the
 * wait. Ages are measured from the kubelet's `startedAt` against this machine's clock.
 */
export async function waitForStableContainers(
  clients: KubernetesClients,
  options: { namespace: string; name: string; stableMs: number; pollMs?: number; signal: AbortSignal },
): Promise<RolloutOutcome> {
  const { signal } = options;
  const started = Date.now();
  for (;;) {
    const deployment = await readDeployment(clients, options.namespace, options.name);
    if (!deployment) {
      return { ok: false, reason: `Deployment ${options.namespace}/${options.name} does not exist` };
    }
    const template = deployment.spec?.template;
    const unprobed = new Set(
      (template?.spec?.containers ?? [])
        .filter((container) => !container.readinessProbe)
        .map((container) => container.name),
    );
    if (unprobed.size === 0) return { ok: true };
    const hash = template?.metadata?.annotations?.[ANNOTATIONS.hash];
    const pods = (await listPods(clients, options.namespace, matchLabelsSelector(deployment))).filter(
      (pod) => pod.metadata?.annotations?.[ANNOTATIONS.hash] === hash && !pod.metadata?.deletionTimestamp,
    );
    let waitMs = pods.length === 0 ? options.stableMs : 0;
    let where = pods.length === 0 ? 'no pod of the new version runs' : '';
    for (const pod of pods) {
      for (const container of pod.status?.containerStatuses ?? []) {
        if (!unprobed.has(container.name)) continue;
        const since = container.state?.running?.startedAt;
        const ageMs = since ? Date.now() - new Date(since).getTime() : 0;
        if (container.restartCount > 0 && (!since || ageMs < options.stableMs)) {
          const last = container.lastState?.terminated ?? container.state?.terminated;
          const exit = last
            ? `; it last ${last.signal ? `was killed by signal ${last.signal}` : `exited with code ${last.exitCode}`}${last.reason ? ` (${last.reason})` : ''}`
            : '';
          return {
            ok: false,
            reason: `container "${container.name}" of pod ${pod.metadata?.name ?? '?'} restarted within ${options.stableMs} ms of starting${exit}`,
            pod: pod.metadata?.name ?? '',
          };
        }
        if (options.stableMs - ageMs > waitMs || !since) {
          waitMs = since ? options.stableMs - ageMs : options.stableMs;
          where = since
            ? `container "${container.name}" has run ${ageMs} of the ${options.stableMs} ms it must run without a restart`
            : `container "${container.name}" is not running`;
        }
      }
    }
    if (waitMs <= 0) return { ok: true };
    if (!(await sleep(Math.min(waitMs, options.pollMs ?? 1_000), signal))) {
      return {
        ok: false,
        reason: `timed out after ${Math.round((Date.now() - started) / 1000)} s: ${where}`,
      };
    }
  }
}

/** The Deployments in `namespace` whose labels match `selector`; none when the namespace does not exist. */
export async function listDeployments(
  clients: KubernetesClients,
  namespace: string,
  selector: string,
): Promise<V1Deployment[]> {
  try {
    const list = await clients.objects.list<V1Deployment>(
      'apps/v1',
      'Deployment',
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      selector,
    );
    return list.items;
  } catch (error) {
    if (statusCode(error) === 404) return [];
    throw upstream(`listing Deployments (${selector}) failed`, error);
  }
}

/** The pods in `namespace` whose labels match `selector`, sorted by name. */
export async function listPods(
  clients: KubernetesClients,
  namespace: string,
  selector: string,
): Promise<V1Pod[]> {
  try {
    const list = await clients.objects.list<V1Pod>(
      'v1',
      'Pod',
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      selector,
    );
    return [...list.items].sort((a, b) => compareText(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  } catch (error) {
    if (statusCode(error) === 404) return [];
    throw upstream(`listing pods (${selector}) failed`, error);
  }
}

/** One line of a pod's log. */
export interface PodLogLine {
  pod: string;
  /** The pod's `pave.dev/workload` label. */
  workload: string;
  container: string;
  /** RFC 3339 with nine fraction digits (so lines order as text), as the kubelet stamped it. */
  at: string;
  line: string;
}

/**
 * The log lines of every container of the pods matching `selector` (or of `pods`, when given), in time
 * order: the last `tail` lines of each, or those of the last `sinceSeconds`; with `previous`, of the
 * container's previous run (what a crash-looping container printed before it exited). Containers that have
 * no log (not started yet) are skipped.
 */
export async function readPodLogs(
  clients: KubernetesClients,
  options: {
    namespace: string;
    selector: string;
    pods?: readonly V1Pod[];
    tail?: number;
    sinceSeconds?: number;
    previous?: boolean;
  },
): Promise<PodLogLine[]> {
  const pods = options.pods ?? (await listPods(clients, options.namespace, options.selector));
  const lines: PodLogLine[] = [];
  for (const pod of pods) {
    const podName = pod.metadata?.name;
    if (!podName) continue;
    const workload = pod.metadata?.labels?.[LABELS.workload] ?? '';
    for (const container of pod.spec?.containers ?? []) {
      let text: string;
      try {
        text = await clients.core.readNamespacedPodLog({
          name: podName,
          namespace: options.namespace,
          container: container.name,
          timestamps: true,
          ...(options.tail !== undefined ? { tailLines: options.tail } : {}),
          ...(options.sinceSeconds !== undefined ? { sinceSeconds: options.sinceSeconds } : {}),
          ...(options.previous ? { previous: true } : {}),
        });
      } catch (error) {
        // 400: the container is waiting to start or has no previous run; 404: the pod is gone.
        const code = statusCode(error);
        if (code === 400 || code === 404) continue;
        throw upstream(`reading the log of ${podName}/${container.name} failed`, error);
      }
      for (const raw of text.split('\n')) {
        if (raw === '') continue;
        const space = raw.indexOf(' ');
        const stamp = space > 0 ? normalizeTimestamp(raw.slice(0, space)) : null;
        lines.push({
          pod: podName,
          workload,
          container: container.name,
          at: stamp ?? new Date(0).toISOString(),
          line: stamp ? raw.slice(space + 1) : raw,
        });
      }
    }
  }
  return lines.sort((a, b) => compareText(a.at, b.at));
}

/** `2024-05-01T10:00:00.5Z` as `2024-05-01T10:00:00.500000000Z`; null if it is not such a timestamp. */
function normalizeTimestamp(stamp: string): string | null {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/u.exec(stamp);
  if (!match) return null;
  const [, seconds, fraction = '', zone] = match;
  if (zone !== 'Z') {
    const date = new Date(`${seconds}${zone}`);
    if (Number.isNaN(date.getTime())) return null;
    return `${date.toISOString().slice(0, 19)}.${fraction.padEnd(9, '0')}Z`;
  }
  return `${seconds}.${fraction.padEnd(9, '0')}Z`;
}

/** The label selector of a Deployment's pods, as text. */
export function matchLabelsSelector(deployment: V1Deployment): string {
  return Object.entries(deployment.spec?.selector?.matchLabels ?? {})
    .sort(([a], [b]) => compareText(a, b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** The HTTP status of a failed API call, if it was one. */
export function statusCode(error: unknown): number | undefined {
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'number') {
    return error.code;
  }
  return undefined;
}

/** An UpstreamError with the API server's own message (from its Status body) when there is one. */
function upstream(what: string, error: unknown): UpstreamError {
  const code = statusCode(error);
  let detail = error instanceof Error ? error.message : String(error);
  const body = error !== null && typeof error === 'object' && 'body' in error ? error.body : undefined;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    if (typeof status?.message === 'string') detail = status.message;
  } catch {
    // Not a Status body: keep the error's message.
  }
  return new UpstreamError(`${what}: ${detail}${code ? ` (HTTP ${code})` : ''}`);
}

function refOf(object: ManifestObject, defaultNamespace?: string): ObjectRef {
  const namespace =
    object.metadata?.namespace ?? (object.kind === 'Namespace' ? undefined : defaultNamespace);
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata?.name ?? '',
    ...(namespace ? { namespace } : {}),
  };
}

function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion} ${ref.kind} ${ref.namespace ?? ''}/${ref.name}`;
}

/** `Deployment pave-shop-dev/api`. */
export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
