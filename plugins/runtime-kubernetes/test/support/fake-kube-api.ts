import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { kubernetesClients, type KubernetesClients } from '../../src/index.ts';
import discoveryApps from '../recorded/discovery-apps-v1.json' with { type: 'json' };
import discoveryNetworking from '../recorded/discovery-networking-v1.json' with { type: 'json' };
import discoveryCore from '../recorded/discovery-v1.json' with { type: 'json' };
import errors from '../recorded/errors.json' with { type: 'json' };

/** A request the client made, as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  /** The body parsed as JSON (undefined without a body). */
  body: unknown;
}

/** One canned answer. */
export interface Reply {
  status?: number;
  /** JSON-encoded unless it is a string. */
  body: unknown;
  contentType?: string;
}

/**
 * Answers requests with `method` and `path` (without the query; a string matches exactly): a reply, a list
 * of replies given in turn (the last one repeats), or a function of the request.
 */
export interface Route {
  method: string;
  path: string | RegExp;
  reply: Reply | Reply[] | ((request: SeenRequest) => Reply);
}

/** A local HTTP server standing in for the Kubernetes API server. */
export interface FakeKubeApi {
  url: string;
  kubeConfig: KubeConfig;
  /** A kubeconfig file (context "fake") pointing at the server. */
  kubeconfigFile: string;
  clients: KubernetesClients;
  /** Every request, in order, discovery included. */
  requests: SeenRequest[];
  /** The requests other than API discovery (`GET /api/v1`, `GET /apis/<group>/<version>`). */
  calls(): SeenRequest[];
  close(): Promise<void>;
}

/** The RBAC group's discovery document, cut down to the kinds the tests apply (as a 1.31 API server says). */
const discoveryRbac = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'rbac.authorization.k8s.io/v1',
  resources: [
    ['clusterroles', 'clusterrole', false, 'ClusterRole'],
    ['clusterrolebindings', 'clusterrolebinding', false, 'ClusterRoleBinding'],
    ['roles', 'role', true, 'Role'],
    ['rolebindings', 'rolebinding', true, 'RoleBinding'],
  ].map(([name, singularName, namespaced, kind]) => ({
    name,
    singularName,
    namespaced,
    kind,
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  })),
};

const DISCOVERY: Route[] = [
  { method: 'GET', path: '/api/v1', reply: { body: discoveryCore } },
  { method: 'GET', path: '/apis/apps/v1', reply: { body: discoveryApps } },
  { method: 'GET', path: '/apis/networking.k8s.io/v1', reply: { body: discoveryNetworking } },
  { method: 'GET', path: '/apis/rbac.authorization.k8s.io/v1', reply: { body: discoveryRbac } },
];

const isDiscovery = (request: SeenRequest) =>
  request.method === 'GET' && DISCOVERY.some((route) => route.path === request.path);

/**
 * Starts a fake API server on 127.0.0.1 that replays recorded responses: the API discovery documents of a
 * Kubernetes 1.31 API server plus `routes`. A request no route answers gets the API server's 404 Status,
 * which is what a real one says about an object that does not exist. Like the API server, it applies a
 * request's equality `labelSelector` to the items of a recorded list.
 */
export async function startFakeKubeApi(routes: Route[]): Promise<FakeKubeApi> {
  const requests: SeenRequest[] = [];
  const turns = new Map<Route, number>();
  const all = [...DISCOVERY, ...routes];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      const seen: SeenRequest = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: request.headers['content-type'],
        body: text ? (JSON.parse(text) as unknown) : undefined,
      };
      requests.push(seen);
      const route = all.find(
        (candidate) =>
          candidate.method === seen.method &&
          (typeof candidate.path === 'string'
            ? candidate.path === seen.path
            : candidate.path.test(seen.path)),
      );
      let reply: Reply;
      if (!route) reply = { status: 404, body: errors.notFound };
      else if (typeof route.reply === 'function') reply = route.reply(seen);
      else if (Array.isArray(route.reply)) {
        const turn = turns.get(route) ?? 0;
        turns.set(route, turn + 1);
        reply = route.reply[Math.min(turn, route.reply.length - 1)] ?? { status: 500, body: 'no reply' };
      } else reply = route.reply;
      const selected = seen.query.labelSelector
        ? selectItems(reply.body, seen.query.labelSelector)
        : reply.body;
      const body = typeof selected === 'string' ? selected : JSON.stringify(selected);
      response.writeHead(reply.status ?? 200, {
        'content-type':
          reply.contentType ?? (typeof reply.body === 'string' ? 'text/plain' : 'application/json'),
      });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'pave-fake-kube-'));
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigFile,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      // The client refuses plain HTTP unless TLS verification is off; the server is on loopback.
      `- cluster: { server: '${url}', insecure-skip-tls-verify: true }`,
      '  name: fake',
      'users:',
      '- name: fake',
      '  user: { token: recorded }',
      'contexts:',
      '- context: { cluster: fake, user: fake }',
      '  name: fake',
      'current-context: fake',
      '',
    ].join('\n'),
  );
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigFile);
  return {
    url,
    kubeConfig,
    kubeconfigFile,
    clients: await kubernetesClients(kubeConfig),
    requests,
    calls: () => requests.filter((request) => !isDiscovery(request)),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the API server answers a server-side apply with: the object as stored, with server-set fields. */
export function appliedObject(request: SeenRequest): Reply {
  const object = request.body as { metadata?: Record<string, unknown> };
  return {
    body: {
      ...object,
      metadata: {
        ...object.metadata,
        uid: '3b9d2c1a-0f4e-4d5c-8b7a-6e5f4d3c2b1a',
        resourceVersion: '48211',
        generation: 1,
        creationTimestamp: '2026-11-28T10:59:58Z',
        managedFields: [
          {
            manager: request.query.fieldManager,
            operation: 'Apply',
            apiVersion: (request.body as { apiVersion?: string }).apiVersion,
            time: '2026-11-28T10:59:58Z',
            fieldsType: 'FieldsV1',
            fieldsV1: {},
          },
        ],
      },
    },
  };
}

/**
 * `body` with only the list items whose labels match every term of `selector`: `key=value`, or `key` (the
 * label exists).
 */
function selectItems(body: unknown, selector: string): unknown {
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { items?: unknown }).items))
    return body;
  const wanted = selector.split(',').map((term) => term.split('=') as [string, string | undefined]);
  const items = (body as { items: Array<{ metadata?: { labels?: Record<string, string> } }> }).items;
  return {
    ...body,
    items: items.filter((item) =>
      wanted.every(([key, value]) => {
        const label = item.metadata?.labels?.[key];
        return value === undefined ? label !== undefined : label === value;
      }),
    ),
  };
}

/** What the containers of a fake cluster's pod do, as its kubelet would report them. */
export type PodBehaviour =
  /** They start, log `logs` and pass their readiness probes. */
  | { kind: 'ready'; logs?: string[] }
  /** They start and log `logs`, but never pass their readiness probes. */
  | { kind: 'never-ready'; logs?: string[] }
  /** They print `logs`, exit with `exitCode` and are restarted again and again: CrashLoopBackOff. */
  | { kind: 'crash'; exitCode: number; logs: string[] }
  /**
   * They start and count as ready (with no readiness probe, Kubernetes counts a running container ready),
   * then, `afterMs` later, print `logs`, exit with `exitCode` and are restarted once.
   */
  | { kind: 'restarts'; afterMs: number; exitCode: number; logs: string[] };

/** The stand-in for a cluster's controllers, kubelet and admission. */
export interface FakeClusterOptions {
  /** How the pods of a Deployment behave, from its pod template's containers; default: ready. */
  kubelet?: (containers: FakeContainer[]) => PodBehaviour;
  /** Refuses an applied object as an admission webhook would: the reason, or null to admit it. */
  admission?: (object: FakeObject) => string | null;
}

/** A stored object of the fake cluster. */
export interface FakeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** A container of a pod template, as far as the fake cluster reads it. */
export interface FakeContainer {
  name: string;
  image: string;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }>;
  readinessProbe?: unknown;
}

const KINDS: Record<string, { kind: string; namespaced: boolean }> = {
  namespaces: { kind: 'Namespace', namespaced: false },
  configmaps: { kind: 'ConfigMap', namespaced: true },
  secrets: { kind: 'Secret', namespaced: true },
  services: { kind: 'Service', namespaced: true },
  persistentvolumeclaims: { kind: 'PersistentVolumeClaim', namespaced: true },
  pods: { kind: 'Pod', namespaced: true },
  deployments: { kind: 'Deployment', namespaced: true },
  ingresses: { kind: 'Ingress', namespaced: true },
  networkpolicies: { kind: 'NetworkPolicy', namespaced: true },
  roles: { kind: 'Role', namespaced: true },
  rolebindings: { kind: 'RoleBinding', namespaced: true },
  clusterroles: { kind: 'ClusterRole', namespaced: false },
  clusterrolebindings: { kind: 'ClusterRoleBinding', namespaced: false },
};

/** A REST path taken apart: `/api/v1/namespaces/ns/pods/name/log` and the like. */
interface ParsedPath {
  apiVersion: string;
  plural: string;
  namespace: string;
  name?: string;
  log?: boolean;
}

function parsePath(path: string): ParsedPath | null {
  const match = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))\/(.+)$/u.exec(path);
  if (!match) return null;
  const apiVersion = match[1] ?? match[2] ?? '';
  const parts = (match[3] ?? '').split('/');
  const clusterScoped = KINDS[parts[0] ?? ''];
  if (clusterScoped && !clusterScoped.namespaced && clusterScoped.kind !== 'Namespace') {
    return { apiVersion, plural: parts[0] ?? '', namespace: '', ...(parts[1] ? { name: parts[1] } : {}) };
  }
  if (parts[0] !== 'namespaces') return null;
  if (parts.length <= 2) {
    return { apiVersion, plural: 'namespaces', namespace: '', ...(parts[1] ? { name: parts[1] } : {}) };
  }
  const [, namespace = '', plural = '', name, log] = parts;
  return {
    apiVersion,
    plural,
    namespace,
    ...(name ? { name } : {}),
    ...(log === 'log' ? { log: true } : {}),
  };
}

const status = (code: number, reason: string, message: string): Reply => ({
  status: code,
  body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code },
});

/**
 * An in-memory cluster behind the fake API server: it stores what is applied (server-side apply), lists
 * and reads it by label selector, deletes it (a Deployment's pods with it, a Namespace's objects with it),
 * and runs the Deployment controller and kubelet in miniature: every applied Deployment gets one pod per
 * replica of its current pod template, with the statuses `kubelet` decides (ready, never ready,
 * crash-looping), and the Deployment's status follows as the real controller would report it.
 */
export class FakeCluster {
  /** Every stored object by `<plural>/<namespace>/<name>`. */
  readonly objects = new Map<string, FakeObject>();
  /** How each pod's containers behave, by pod name: what the kubelet would see them do. */
  private readonly behaviours = new Map<string, PodBehaviour>();
  /** The pods whose containers restarted (behaviour `restarts`), by pod name. */
  private readonly restarted = new Set<string>();
  private nextUid = 1;

  constructor(private readonly options: FakeClusterOptions = {}) {}

  /** The API server routes that serve this cluster (give them to startFakeKubeApi). */
  routes(): Route[] {
    return ['GET', 'PATCH', 'DELETE'].map((method) => ({
      method,
      path: /^\/apis?\//u,
      reply: (request: SeenRequest) => this.handle(request),
    }));
  }

  /**
   * What GET / on `hostPort` answers: the first container's `GREETING` of the ready pod of the Deployment
   * whose `pave.dev/ports` annotation has that host port (its value read from the ConfigMap or Secret the
   * variable refers to), or "no answer …" when no ready pod serves the port.
   */
  answer(hostPort: number): string {
    for (const deployment of this.list('deployments')) {
      const ports = JSON.parse(deployment.metadata.annotations?.['pave.dev/ports'] ?? '[]') as Array<{
        hostPort: number;
      }>;
      if (!ports.some((port) => port.hostPort === hostPort)) continue;
      const namespace = deployment.metadata.namespace ?? '';
      const pod = this.podsOf(deployment).find((candidate) =>
        (podStatus(candidate).containerStatuses ?? []).every((container) => container.ready),
      );
      if (!pod) continue;
      const container = (pod.spec as { containers: FakeContainer[] }).containers[0];
      const variable = container?.env?.find((candidate) => candidate.name === 'GREETING');
      if (!variable) return '';
      if (variable.value !== undefined) return variable.value;
      const secret = variable.valueFrom?.secretKeyRef;
      if (secret) {
        const data = this.objects.get(`secrets/${namespace}/${secret.name}`)?.data as Record<string, string>;
        return Buffer.from(data?.[secret.key] ?? '', 'base64').toString('utf8');
      }
      const config = variable.valueFrom?.configMapKeyRef;
      if (config) {
        const data = this.objects.get(`configmaps/${namespace}/${config.name}`)?.data as Record<
          string,
          string
        >;
        return data?.[config.key] ?? '';
      }
    }
    return `no answer (no ready pod serves host port ${hostPort})`;
  }

  private handle(request: SeenRequest): Reply {
    this.restartDue();
    const path = parsePath(request.path);
    const type = path ? KINDS[path.plural] : undefined;
    if (!path || !type) return status(404, 'NotFound', `the server could not find ${request.path}`);
    const key = `${path.plural}/${path.namespace}/${path.name ?? ''}`;
    if (request.method === 'GET' && path.log) return this.log(path, request.query);
    if (request.method === 'GET' && path.name === undefined) {
      return {
        body: {
          kind: `${type.kind}List`,
          apiVersion: path.apiVersion,
          metadata: { resourceVersion: String(this.nextUid) },
          items: this.list(path.plural, type.namespaced ? path.namespace : undefined),
        },
      };
    }
    const stored = this.objects.get(key);
    if (request.method === 'GET') {
      return stored ? { body: stored } : status(404, 'NotFound', `${path.plural} "${path.name}" not found`);
    }
    if (request.method === 'DELETE') {
      if (!stored) return status(404, 'NotFound', `${path.plural} "${path.name}" not found`);
      this.delete(key, stored);
      return { body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' } };
    }
    const object = request.body as FakeObject;
    const refused = this.options.admission?.(object);
    if (refused) {
      return status(403, 'Forbidden', `admission webhook "policy.fake" denied the request: ${refused}`);
    }
    const applied: FakeObject = {
      ...structuredClone(object),
      metadata: {
        ...structuredClone(object.metadata),
        ...(type.namespaced ? { namespace: path.namespace } : {}),
        uid: stored?.metadata.uid ?? `uid-${this.nextUid++}`,
        creationTimestamp: stored?.metadata.creationTimestamp ?? new Date().toISOString(),
        generation: generationOf(stored, object),
      },
    };
    if (request.query.dryRun) return { body: applied };
    this.objects.set(key, applied);
    if (applied.kind === 'Deployment') this.reconcile(applied);
    return { body: applied };
  }

  /** Restarts the containers of pods whose `restarts` behaviour says they exit by now. */
  private restartDue(): void {
    const now = Date.now();
    for (const pod of this.list('pods')) {
      const behaviour = this.behaviours.get(pod.metadata.name);
      const status = pod.status as { startTime: string; containerStatuses: Array<Record<string, unknown>> };
      if (behaviour?.kind !== 'restarts' || this.restarted.has(pod.metadata.name)) continue;
      const startedAt = status.startTime;
      if (now < new Date(startedAt).getTime() + behaviour.afterMs) continue;
      this.restarted.add(pod.metadata.name);
      const finishedAt = new Date(now).toISOString();
      for (const container of status.containerStatuses) {
        container.restartCount = 1;
        container.lastState = {
          terminated: { exitCode: behaviour.exitCode, reason: 'Error', startedAt, finishedAt },
        };
        container.state = { running: { startedAt: finishedAt } };
      }
    }
  }

  private list(plural: string, namespace?: string): FakeObject[] {
    return [...this.objects]
      .filter(([key]) => key.startsWith(`${plural}/${namespace === undefined ? '' : `${namespace}/`}`))
      .map(([, object]) => object);
  }

  private delete(key: string, object: FakeObject): void {
    this.objects.delete(key);
    if (object.kind === 'Deployment') {
      for (const pod of this.podsOf(object))
        this.objects.delete(`pods/${object.metadata.namespace}/${pod.metadata.name}`);
    }
    if (object.kind === 'Namespace') {
      for (const other of [...this.objects.keys()]) {
        if (other.split('/')[1] === object.metadata.name) this.objects.delete(other);
      }
    }
  }

  private podsOf(deployment: FakeObject): FakeObject[] {
    return this.list('pods', deployment.metadata.namespace).filter((pod) =>
      (pod.metadata.ownerReferences as Array<{ name: string }>).some((owner) =>
        owner.name.startsWith(`${deployment.metadata.name}-`),
      ),
    );
  }

  /** The Deployment controller and kubelet: pods for the current template, and the rollout's status. */
  private reconcile(deployment: FakeObject): void {
    const namespace = deployment.metadata.namespace ?? '';
    const spec = deployment.spec as {
      replicas?: number;
      template: {
        metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
        spec: { containers: FakeContainer[] };
      };
    };
    const templateHash = createHash('sha256')
      .update(JSON.stringify(spec.template))
      .digest('hex')
      .slice(0, 10);
    const wanted = spec.replicas ?? 1;
    const behaviour = this.options.kubelet?.(spec.template.spec.containers) ?? { kind: 'ready' };
    for (const pod of this.podsOf(deployment)) {
      if (pod.metadata.labels?.['pod-template-hash'] !== templateHash) {
        this.objects.delete(`pods/${namespace}/${pod.metadata.name}`);
      }
    }
    const current = this.podsOf(deployment);
    for (let index = current.length; index < wanted; index += 1) {
      const name = `${deployment.metadata.name}-${templateHash}-${String(this.nextUid++).padStart(5, 'x')}`;
      const startedAt = new Date().toISOString();
      this.behaviours.set(name, behaviour);
      this.objects.set(`pods/${namespace}/${name}`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name,
          namespace,
          labels: { ...spec.template.metadata?.labels, 'pod-template-hash': templateHash },
          annotations: spec.template.metadata?.annotations ?? {},
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: `${deployment.metadata.name}-${templateHash}`,
            },
          ],
        },
        spec: structuredClone(spec.template.spec),
        status: {
          phase: 'Running',
          startTime: startedAt,
          containerStatuses: spec.template.spec.containers.map((container) =>
            behaviour.kind === 'crash'
              ? {
                  name: container.name,
                  image: container.image,
                  ready: false,
                  started: false,
                  restartCount: 2,
                  state: {
                    waiting: {
                      reason: 'CrashLoopBackOff',
                      message: `back-off 20s restarting failed container=${container.name} pod=${name}`,
                    },
                  },
                  lastState: {
                    terminated: {
                      exitCode: behaviour.exitCode,
                      reason: 'Error',
                      startedAt,
                      finishedAt: startedAt,
                    },
                  },
                }
              : {
                  name: container.name,
                  image: container.image,
                  ready: behaviour.kind === 'ready' || behaviour.kind === 'restarts',
                  started: true,
                  restartCount: 0,
                  state: { running: { startedAt } },
                  lastState: {},
                },
          ),
        },
      });
    }
    const ready = behaviour.kind === 'ready' || behaviour.kind === 'restarts' ? wanted : 0;
    deployment.status = {
      observedGeneration: deployment.metadata.generation,
      replicas: wanted,
      updatedReplicas: wanted,
      readyReplicas: ready,
      availableReplicas: ready,
      conditions: [
        {
          type: 'Available',
          status: ready === wanted ? 'True' : 'False',
          reason: ready === wanted ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message: `Deployment ${ready === wanted ? 'has' : 'does not have'} minimum availability.`,
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: ready === wanted ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: `ReplicaSet "${deployment.metadata.name}-${templateHash}" ${ready === wanted ? 'has successfully progressed' : 'is progressing'}.`,
        },
      ],
    };
  }

  /** A container's log, as the kubelet serves it: current run, or `previous` (400 when there is none). */
  private log(path: ParsedPath, query: Record<string, string>): Reply {
    const pod = this.objects.get(`pods/${path.namespace}/${path.name ?? ''}`);
    if (!pod) return status(404, 'NotFound', `pods "${path.name}" not found`);
    const behaviour = this.behaviours.get(pod.metadata.name) ?? { kind: 'ready' };
    const container = query.container ?? '';
    const waiting = behaviour.kind === 'crash';
    const exited = waiting || this.restarted.has(pod.metadata.name);
    if (query.previous === 'true' ? !exited : waiting) {
      return status(
        400,
        'BadRequest',
        waiting && query.previous !== 'true'
          ? `container "${container}" in pod "${path.name}" is waiting to start: CrashLoopBackOff`
          : `previous terminated container "${container}" in pod "${path.name}" not found`,
      );
    }
    // The kubelet stamps lines in RFC 3339 with nanoseconds.
    const stamp = (pod.status as { startTime: string }).startTime.replace(/\.(\d{3})Z$/u, '.$1000000Z');
    const lines = (behaviour.logs ?? []).map((line) => `${stamp} ${line}`);
    const tail = query.tailLines ? lines.slice(-Number(query.tailLines)) : lines;
    return { body: tail.map((line) => `${line}\n`).join(''), contentType: 'text/plain' };
  }
}

/** Starts the fake API server in front of a new {@link FakeCluster}. */
export async function startFakeCluster(
  options: FakeClusterOptions = {},
): Promise<{ api: FakeKubeApi; cluster: FakeCluster }> {
  const cluster = new FakeCluster(options);
  return { api: await startFakeKubeApi(cluster.routes()), cluster };
}

/** A Deployment's generation goes up when its spec changes, as the API server counts it. */
function generationOf(stored: FakeObject | undefined, applied: FakeObject): number {
  const before = (stored?.metadata.generation as number | undefined) ?? 0;
  return !stored || JSON.stringify(stored.spec) !== JSON.stringify(applied.spec) ? before + 1 : before;
}

function podStatus(pod: FakeObject): { containerStatuses?: Array<{ ready: boolean }> } {
  return (pod.status ?? {}) as { containerStatuses?: Array<{ ready: boolean }> };
}
