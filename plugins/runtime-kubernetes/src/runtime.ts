import type { KubeConfig, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { ConflictError, isDnsLabel, InputError, type FieldProblem } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  LogLine,
  LogsOptions,
  ReadyResult,
  RenderableEnvironment,
  RenderedPort,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeTarget,
  WaitReadyOptions,
  WorkloadShape,
  WorkloadStatus,
} from '@pave/plugin-api';
import { DEFAULT_STABLE_MS, sinceFilter, sleep, untilAborted } from '@pave/plugin-api';
import {
  MANAGED_KINDS,
  NAMESPACE_KIND,
  applyManifests,
  deleteManaged,
  deleteObjects,
  describeRef,
  kubernetesClients,
  listDeployments,
  listLabelled,
  listManaged,
  listPods,
  loadKubeConfig,
  namespaceLabels,
  podFailure,
  pruneManifests,
  readPodLogs,
  rolloutStatus,
  waitForRollout,
  waitForStableContainers,
  type KindRef,
  type KubernetesClients,
  type ObjectRef,
  type PodLogLine,
} from './apply.ts';
import {
  ANNOTATIONS,
  DEFAULT_NAMESPACE_PATTERN,
  LABELS,
  namespaceFor,
  namespacePatternProblem,
  renderManifests,
  selectorFor,
  serviceAddress,
  workloadObjectName,
  type KubernetesManifest,
} from './render.ts';
import { manifestsToYaml } from './yaml.ts';
import { renderExtraManifests } from './extra-manifests.ts';
import { manifestPolicyProblems, type ManifestPolicy } from './manifest-policy.ts';
import { labelValue } from './names.ts';

/** Configuration of the Kubernetes runtime. */
export interface KubernetesRuntimeConfig {
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  kubeconfig?: string;
  /** The kubeconfig context; default: its current one. */
  context?: string;
  /** The namespace of an environment, with `{app}` and `{env}`; default {@link DEFAULT_NAMESPACE_PATTERN}. */
  namespacePattern?: string;
  /**
   * How often rollouts and followed logs are polled; default 1 000 ms. Not a target setting (a target's
   * config takes the others): for programs and tests that build the runtime themselves.
   */
  pollMs?: number;
  /**
   * Accept workloads' own manifests (`pave deploy --manifests`) of cluster-scoped kinds (ClusterRole,
   * CustomResourceDefinition, …: see CLUSTER_SCOPED_KINDS); default false. They are shared by every
   * environment of the cluster, so only a platform team that trusts its deployers turns this on.
   */
  allowClusterScoped?: boolean;
  /**
   * What developers' own manifests may contain (see ManifestPolicy): `allow` (default true), `kinds` (default
   * DEFAULT_MANIFEST_KINDS: no RBAC, Ingress or custom resources) and `privileged` (default false: no pod
   * template that uses the node, no binding beyond a Role to the namespace's service accounts).
   */
  manifests?: ManifestPolicy;
}

/** What the Kubernetes runtime takes from its surroundings (replaceable in tests). */
export interface KubernetesRuntimeDeps {
  /** The API clients; default: made from the config's kubeconfig on first use. */
  clients?: KubernetesClients;
  /**
   * The environment variables of a container whose values are secrets (stored in a Secret). Default: every
   * variable, since RenderedContainer.env may hold secrets and this runtime cannot tell which.
   */
  secretKeys?: (workload: RenderedWorkload, container: string) => string[];
}

/** The kinds a workload's deploy renders (and prunes): a workload never renders Ingresses or claims of its own. */
const WORKLOAD_KINDS: readonly KindRef[] = MANAGED_KINDS.filter(
  (kind) => kind.kind !== 'Ingress' && kind.kind !== 'PersistentVolumeClaim',
);
const LAST_LOG_LINES = 20;

/**
 * Runs each workload as a Deployment in its environment's namespace (see renderManifests for everything
 * rendered), applied with server-side apply under the field manager "pave". It keeps no state of its own:
 * what runs is read back from the cluster by the `pave.dev/*` labels and annotations.
 */
export class KubernetesRuntime implements RuntimeDriver {
  readonly name = 'kubernetes';
  private clientsValue: Promise<KubernetesClients> | undefined;

  constructor(
    private readonly config: KubernetesRuntimeConfig = {},
    private readonly deps: KubernetesRuntimeDeps = {},
  ) {
    this.clientsValue = deps.clients && Promise.resolve(deps.clients);
  }

  /**
   * The Kubernetes runtime for `config`: a runtime target's `config` (kubeconfig, context, namespacePattern,
   * allowClusterScoped, manifests), or `pollMs` too when a program builds it. The kubeconfig is read on first
   * use, not here. Throws InputError listing every setting of the wrong type.
   */
  static fromConfig(config: KubernetesRuntimeConfig = {}, deps?: KubernetesRuntimeDeps): KubernetesRuntime {
    const settings = config as Record<string, unknown>;
    const problems = [
      ...(['kubeconfig', 'context', 'namespacePattern'] as const)
        .filter((key) => settings[key] !== undefined && typeof settings[key] !== 'string')
        .map((key) => ({ path: `config.${key}`, message: 'must be a string' })),
      ...(settings.pollMs !== undefined && !(typeof settings.pollMs === 'number' && settings.pollMs > 0)
        ? [{ path: 'config.pollMs', message: 'must be a positive number of milliseconds' }]
        : []),
      ...(settings.allowClusterScoped !== undefined && typeof settings.allowClusterScoped !== 'boolean'
        ? [{ path: 'config.allowClusterScoped', message: 'must be true or false' }]
        : []),
      ...manifestPolicyProblems(settings.manifests),
    ];
    if (problems.length > 0) {
      throw new InputError('the kubernetes runtime target has invalid settings', problems);
    }
    return new KubernetesRuntime(config, deps);
  }

  /**
   * Why the workload's own manifests (`--manifests`) cannot be deployed, as far as that is known without the
   * environment: cluster-scoped kinds the target does not allow, what the target's `manifests` setting refuses
   * (kinds, and fields such as a privileged container, see checkManifestPolicy), and manifests that fail their
   * schema or the generic checks (see renderExtraManifests), each reason starting with the manifest's
   * `file#document` and the JSON pointer. Whether a manifest names another namespace, or binds a service
   * account of another one, is checked when it is deployed.
   */
  check(workload: WorkloadShape): CheckFailure[] {
    if (!workload.manifests?.length) return [];
    const problems: FieldProblem[] = [];
    renderExtraManifests(
      workload.manifests.map(({ source, manifest }) => {
        const metadata: Record<string, unknown> = { ...(manifest.metadata as object) };
        delete metadata.namespace;
        return { source, manifest: { ...manifest, metadata } };
      }),
      {
        namespace: 'pave-check',
        namespaceUnknown: true,
        labels: {},
        policy: this.config.manifests ?? {},
        ...(this.config.allowClusterScoped ? { allowClusterScoped: true } : {}),
      },
      problems,
    );
    return problems.map((problem) => ({
      property: 'manifests',
      reason: `${problem.path}: ${problem.message}`,
    }));
  }

  /** The namespace of `target`'s objects. */
  namespace(target: RuntimeTarget): string {
    return namespaceFor(this.config.namespacePattern ?? DEFAULT_NAMESPACE_PATTERN, target.app, target.env);
  }

  /** Workloads reach each other through Services: `<service>.<namespace>.svc` and the service port. */
  serviceAddress(
    target: RuntimeTarget,
    workload: string,
    port: RenderedPort,
  ): { hostname: string; port: number } {
    return serviceAddress(workload, port, this.namespace(target));
  }

  /**
   * The manifests `deploy` would apply for every workload and route of `environment`, as YAML, applying
   * nothing (`pave render`). InputError listing every problem for manifests that do not validate.
   */
  renderManifests(target: RuntimeTarget, environment: RenderableEnvironment): string {
    return manifestsToYaml(
      renderManifests({
        app: target.app,
        env: target.env,
        namespace: this.namespace(target),
        workloads: environment.workloads,
        routes: environment.routes,
        secretKeys: environment.secretKeys,
        secretFiles: environment.secretFiles,
        ...(this.config.allowClusterScoped ? { allowClusterScoped: true } : {}),
        ...(this.config.manifests ? { manifestPolicy: this.config.manifests } : {}),
      }),
    );
  }

  /**
   * Renders `workload` (its Namespace, Deployment, Service, ConfigMap, Secret and claims), validates the
   * manifests, server-side applies them, and deletes the workload's objects the new version no longer has
   * (a Service once its ports are gone, say). Resolves once applied, not once rolled out: see waitReady.
   * Rejects with InputError listing every problem for manifests that do not validate, or for a target whose
   * namespacePattern lacks `{app}` or `{env}` (see namespacePatternProblem); with ConflictError when the
   * namespace is another environment's (see assertOwnNamespace): nothing is applied then. Rejects with
   * UpstreamError when the API server refuses an object; the running version keeps running until the new
   * Deployment is applied.
   */
  async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void> {
    assertNames(target, workload.name);
    // Status, logs, remove and destroy still work under such a pattern, so what runs there can be taken down.
    const patternProblem = namespacePatternProblem(this.config.namespacePattern ?? DEFAULT_NAMESPACE_PATTERN);
    if (patternProblem) {
      throw new InputError(
        `the kubernetes runtime target's namespacePattern would put ${target.app}/${target.env} in a namespace shared with other environments; nothing was applied`,
        [{ path: 'config.namespacePattern', message: patternProblem }],
      );
    }
    const namespace = this.namespace(target);
    const secretKeys = this.deps.secretKeys ?? ((rendered, container) => allVariables(rendered, container));
    const objects = renderManifests({
      app: target.app,
      env: target.env,
      namespace,
      workloads: [workload],
      secretKeys: (_name, container) => secretKeys(workload, container),
      // Nor which files' content holds a secret: all of them go to the Secret, mounted from it.
      secretFiles: (_name, container) => allFiles(workload, container),
      ...(this.config.allowClusterScoped ? { allowClusterScoped: true } : {}),
      ...(this.config.manifests ? { manifestPolicy: this.config.manifests } : {}),
    });
    const clients = await this.clients();
    const log = { app: target.app, env: target.env, workload: workload.name, namespace, hash: workload.hash };
    const selector = selectorFor(target, workload.name);
    // The kinds of the developer's manifests the running version has: those the new one dropped are pruned.
    await assertOwnNamespace(clients, target, namespace);
    const before = await recordedManifestKinds(clients, namespace, selector);
    await applyManifests(clients, objects, { signal: ctx.signal });
    const pruned = await pruneManifests(clients, {
      namespace,
      selector,
      keep: objects,
      kinds: withKinds(WORKLOAD_KINDS, [...before, ...manifestKindsOf(objects)]),
      signal: ctx.signal,
    });
    ctx.logger.info('applied the workload', {
      ...log,
      objects: objects.length,
      ...(pruned.length > 0 ? { pruned: pruned.map(describeRef) } : {}),
    });
  }

  /**
   * Waits until the workload's Deployment has rolled out and every container without a readiness probe has
   * kept running `options.stableMs` (default DEFAULT_STABLE_MS) since it last started: ready. Not ready when
   * the rollout fails (progress deadline exceeded), a container of the new version is stuck (CrashLoopBackOff
   * with its last exit code, ImagePullBackOff, …) or restarts within that window, or the workload is not
   * deployed; then with the last 20 log lines of the failing container (or of the workload's pods). Only
   * `ctx.signal` ends the wait otherwise ("timed out after N s: <where it stood>"): the caller's deadline (a
   * deployment's `--timeout`) is the one, as the runtime contract says.
   */
  async waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options: WaitReadyOptions = {},
  ): Promise<ReadyResult> {
    assertNames(target, workload);
    const namespace = this.namespace(target);
    const clients = await this.clients();
    const pollMs = this.config.pollMs ?? 1_000;
    const stableMs = options.stableMs ?? DEFAULT_STABLE_MS;
    const name = workloadObjectName(workload);
    const rollout = await waitForRollout(clients, { namespace, name, pollMs, signal: ctx.signal });
    const outcome = !rollout.ok
      ? rollout
      : await waitForStableContainers(clients, { namespace, name, stableMs, pollMs, signal: ctx.signal });
    if (outcome.ok) return { ready: true };
    const selector = selectorFor(target, workload);
    let lines: PodLogLine[];
    if (outcome.pod) {
      const pods = (await listPods(clients, namespace, selector)).filter(
        (pod) => pod.metadata?.name === outcome.pod,
      );
      // A crash-looping container is waiting to restart: what it printed is in its previous run.
      lines = await readPodLogs(clients, { namespace, selector, pods, tail: LAST_LOG_LINES, previous: true });
      if (lines.length === 0) {
        lines = await readPodLogs(clients, { namespace, selector, pods, tail: LAST_LOG_LINES });
      }
    } else {
      lines = await readPodLogs(clients, { namespace, selector, tail: LAST_LOG_LINES });
    }
    const prefix = new Set(lines.map((line) => `${line.pod}/${line.container}`)).size > 1;
    return {
      ready: false,
      reason: outcome.reason,
      lastLogs: lines
        .slice(-LAST_LOG_LINES)
        .map((line) => (prefix ? `${line.container}: ${line.line}` : line.line)),
    };
  }

  /**
   * Deletes the workload's objects (found by its labels: Deployment, Service, ConfigMap, Secret, Ingress).
   * Volume claims stay: they may be shared, and their data outlives a workload until the environment is
   * destroyed. Succeeds if nothing is there.
   */
  async remove(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<void> {
    assertNames(target, workload);
    const options = { namespace: this.namespace(target), selector: selectorFor(target, workload) };
    const kinds = withKinds(
      MANAGED_KINDS.filter((kind) => kind.kind !== 'PersistentVolumeClaim'),
      await recordedManifestKinds(await this.clients(), options.namespace, options.selector),
    );
    const deleted = await deleteManaged(await this.clients(), { ...options, kinds, signal: ctx.signal });
    ctx.logger.info('removed the workload', { ...options, objects: deleted.map(describeRef) });
  }

  /**
   * Every workload of `target` that has a Deployment, sorted by name: `ready` once rolled out,
   * `crash-looping` when a container of its current version is stuck (see podFailure), `stopped` when
   * scaled to zero, `running` while pods run but the rollout is not complete, else `starting`. Reads only.
   */
  async status(target: RuntimeTarget, ctx: DriverContext): Promise<WorkloadStatus[]> {
    assertNames(target);
    const namespace = this.namespace(target);
    const read = async () => {
      const clients = await this.clients();
      const selector = selectorFor(target);
      const deployments = await listDeployments(clients, namespace, selector);
      const pods = await listPods(clients, namespace, selector);
      return deployments
        .map((deployment) => workloadStatus(deployment, pods))
        .sort((a, b) => (a.workload < b.workload ? -1 : a.workload > b.workload ? 1 : 0));
    };
    // The cluster client takes no signal here: a cluster that never answers is given up when the call's time is.
    return untilAborted(ctx.signal, read(), `asking the cluster for the workloads of namespace ${namespace}`);
  }

  /**
   * Deletes everything of `target` (found by its labels, so nothing of another environment): its workloads'
   * objects, its volume claims, and the Namespaces labelled with its app and env, except one that still holds
   * Pave's objects of another environment (left by a version of Pave that let two environments share a
   * namespace), which is kept and logged. Idempotent.
   */
  async destroy(target: RuntimeTarget, ctx: DriverContext): Promise<void> {
    assertNames(target);
    const clients = await this.clients();
    const options = { namespace: this.namespace(target), selector: selectorFor(target) };
    // The workloads' own manifests first (a cluster-scoped one outlives the Namespace), then Pave's objects.
    const kinds = withKinds(
      await recordedManifestKinds(clients, options.namespace, options.selector),
      MANAGED_KINDS,
    );
    const deleted = await deleteManaged(clients, { ...options, kinds, signal: ctx.signal });
    for (const namespace of await listManaged(clients, { ...options, kinds: [NAMESPACE_KIND] })) {
      const others = await foreignObjects(clients, target, namespace.name);
      if (others.length > 0) {
        ctx.logger.warn(`kept namespace ${namespace.name}: it holds objects of other environments`, {
          namespace: namespace.name,
          objects: others.map((other) => `${describeRef(other)} (${other.owner})`),
        });
        continue;
      }
      await deleteObjects(clients, [namespace], ctx.signal);
      deleted.push(namespace);
    }
    ctx.logger.info('destroyed the environment', { ...options, objects: deleted.map(describeRef) });
  }

  /**
   * The last `tail` (default 100) lines since `since` of each container of the workload's pods (or of every
   * workload of `target`), in time order; with `follow`, then new lines as they come (polled), until
   * `ctx.signal` aborts. Kubernetes merges stdout and stderr: every line is reported as stdout. The API's
   * `sinceSeconds` counts whole seconds back on the kubelet's clock: it is asked for a little more, and the
   * lines before `since` are dropped here.
   */
  async *logs(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine> {
    assertNames(target, options.workload);
    const namespace = this.namespace(target);
    const selector = selectorFor(target, options.workload);
    const clients = await this.clients();
    const seen = new Map<string, { at: string; lines: Set<string> }>();
    const fresh = (line: PodLogLine): boolean => {
      const key = `${line.pod}/${line.container}`;
      const last = seen.get(key);
      if (last && (line.at < last.at || (line.at === last.at && last.lines.has(line.line)))) return false;
      if (!last || line.at > last.at) seen.set(key, { at: line.at, lines: new Set([line.line]) });
      else last.lines.add(line.line);
      return true;
    };
    const recent = sinceFilter(options.since);
    const backlogSeconds =
      options.since === undefined
        ? undefined
        : Math.max(1, Math.ceil((Date.now() - Date.parse(options.since)) / 1000) + 1);
    let since = Date.now();
    // Asked for no lines, it reads none: a tailLines of 0 is easily taken for "not given" on the way.
    const tail = options.tail ?? 100;
    const backlog =
      tail === 0
        ? []
        : await readPodLogs(clients, {
            namespace,
            selector,
            tail,
            ...(backlogSeconds !== undefined ? { sinceSeconds: backlogSeconds } : {}),
          });
    for (const line of backlog) {
      if (recent(line) && fresh(line)) yield toLogLine(line);
    }
    if (!options.follow) return;
    while (await sleep(this.config.pollMs ?? 1_000, ctx.signal)) {
      const sinceSeconds = Math.max(1, Math.ceil((Date.now() - since) / 1000) + 1);
      since = Date.now();
      for (const line of await readPodLogs(clients, { namespace, selector, sinceSeconds })) {
        // Aborted while the caller took the lines before it: the rest of the batch is not its.
        if (ctx.signal.aborted) return;
        if (recent(line) && fresh(line)) yield toLogLine(line);
      }
    }
  }

  /** The clients, made on first use; a failure (no kubeconfig, say) is not kept, so the next call tries again. */
  private clients(): Promise<KubernetesClients> {
    this.clientsValue ??= this.kubeConfig()
      .then(kubernetesClients)
      .catch((error: unknown) => {
        this.clientsValue = undefined;
        throw error;
      });
    return this.clientsValue;
  }

  private kubeConfig(): Promise<KubeConfig> {
    return loadKubeConfig({
      ...(this.config.kubeconfig ? { kubeconfig: this.config.kubeconfig } : {}),
      ...(this.config.context ? { context: this.config.context } : {}),
    });
  }
}

/** `app/env` as a Pave-labelled object's labels name its environment, or null when they name none. */
function ownerOf(labels: Record<string, string>): string | null {
  const app = labels[LABELS.app];
  const env = labels[LABELS.env];
  return app === undefined && env === undefined ? null : `${app ?? '?'}/${env ?? '?'}`;
}

/** The `app/env` of `target` as its objects' labels carry it. */
function ownerLabel(target: RuntimeTarget): string {
  return `${labelValue(target.app)}/${labelValue(target.env)}`;
}

/**
 * Pave's objects (of the kinds it renders) in `namespace` whose labels name an environment other than
 * `target`, each with that environment (`app/env`).
 */
async function foreignObjects(
  clients: KubernetesClients,
  target: RuntimeTarget,
  namespace: string,
): Promise<Array<ObjectRef & { owner: string }>> {
  const found = await listLabelled(clients, { namespace, selector: LABELS.app, kinds: MANAGED_KINDS });
  return found.flatMap(({ labels, ...ref }) => {
    const owner = ownerOf(labels);
    return owner !== null && owner !== ownerLabel(target) ? [{ ...ref, owner }] : [];
  });
}

/**
 * Refuses (ConflictError) to deploy `target` into `namespace` when that namespace is another environment's:
 * its Namespace carries Pave's app and env labels of another environment, or it holds Pave's objects of one.
 * Two environments can be given one namespace (app `shop` env `prod-eu` and app `shop-prod` env `eu` under
 * `pave-{app}-{env}`), and these names cannot change: applying would take over the other's Namespace and
 * overwrite its same-named objects, and destroying would delete them. A Namespace without Pave's labels
 * (made by the platform team) is used, and labelled, as it is.
 */
async function assertOwnNamespace(
  clients: KubernetesClients,
  target: RuntimeTarget,
  namespace: string,
): Promise<void> {
  const labels = await namespaceLabels(clients, namespace);
  if (labels === null) return;
  const fix = {
    path: 'namespace',
    message:
      `give this environment another id (or the app another name) so that its namespace is not "${namespace}"; ` +
      `a target's namespacePattern must include both {app} and {env} (default "${DEFAULT_NAMESPACE_PATTERN}")`,
  };
  const mine = ownerLabel(target);
  const owner = ownerOf(labels);
  if (owner !== null && owner !== mine) {
    throw new ConflictError(
      `namespace "${namespace}" belongs to environment ${owner} (its ${LABELS.app} and ${LABELS.env} labels), ` +
        `not to ${mine}: nothing was applied`,
      [fix],
    );
  }
  const [other] = await foreignObjects(clients, target, namespace);
  if (other) {
    throw new ConflictError(
      `namespace "${namespace}" holds ${describeRef(other)} of environment ${other.owner}, not only objects of ` +
        `${mine}: nothing was applied`,
      [fix],
    );
  }
}

/**
 * The kinds of the developer's own manifests recorded on the Deployments matching `selector` (the
 * ANNOTATIONS.manifestKinds annotation render puts there); none when there are none or the namespace is new.
 */
async function recordedManifestKinds(
  clients: KubernetesClients,
  namespace: string,
  selector: string,
): Promise<KindRef[]> {
  const deployments = await listDeployments(clients, namespace, selector);
  return deployments.flatMap((deployment) =>
    parseKinds(deployment.metadata?.annotations?.[ANNOTATIONS.manifestKinds]),
  );
}

/** The kinds of the developer's manifests recorded on the rendered Deployment among `objects`. */
function manifestKindsOf(objects: readonly KubernetesManifest[]): KindRef[] {
  return objects.flatMap((object) =>
    object.kind === 'Deployment' ? parseKinds(object.metadata?.annotations?.[ANNOTATIONS.manifestKinds]) : [],
  );
}

function parseKinds(text: string | undefined): KindRef[] {
  if (!text) return [];
  try {
    const kinds: unknown = JSON.parse(text);
    if (!Array.isArray(kinds)) return [];
    return kinds.filter(
      (kind): kind is KindRef =>
        kind !== null &&
        typeof kind === 'object' &&
        typeof (kind as KindRef).apiVersion === 'string' &&
        typeof (kind as KindRef).kind === 'string' &&
        typeof (kind as KindRef).namespaced === 'boolean',
    );
  } catch {
    return [];
  }
}

/** `first`, then the kinds of `more` not in it yet, each once. */
function withKinds(first: readonly KindRef[], more: readonly KindRef[]): KindRef[] {
  const result = [...first];
  const seen = new Set(result.map((kind) => `${kind.apiVersion} ${kind.kind}`));
  for (const kind of more) {
    const key = `${kind.apiVersion} ${kind.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(kind);
  }
  return result;
}

function allVariables(workload: RenderedWorkload, container: string): string[] {
  return Object.keys(workload.containers.find((candidate) => candidate.name === container)?.env ?? {});
}

function allFiles(workload: RenderedWorkload, container: string): string[] {
  return (workload.containers.find((candidate) => candidate.name === container)?.files ?? []).map(
    (file) => file.target,
  );
}

function assertNames(target: RuntimeTarget, workload?: string): void {
  const problems = [
    ...(isDnsLabel(target.app) ? [] : [{ path: 'app', message: `"${target.app}" is not a DNS label` }]),
    ...(isDnsLabel(target.env) ? [] : [{ path: 'env', message: `"${target.env}" is not a DNS label` }]),
    ...(workload === undefined || isDnsLabel(workload)
      ? []
      : [{ path: 'workload', message: `"${workload}" is not a DNS label` }]),
  ];
  if (problems.length > 0) throw new InputError('the Kubernetes runtime needs DNS-label names', problems);
}

/** A workload's status from its Deployment and the environment's pods. */
function workloadStatus(deployment: V1Deployment, allPods: readonly V1Pod[]): WorkloadStatus {
  const labels = deployment.metadata?.labels ?? {};
  const annotations = deployment.metadata?.annotations ?? {};
  const workload = labels[LABELS.workload] ?? deployment.metadata?.name ?? '';
  const hash = annotations[ANNOTATIONS.hash] ?? '';
  const pods = allPods.filter((pod) => pod.metadata?.labels?.[LABELS.workload] === workload);
  const current = pods.filter((pod) => pod.metadata?.annotations?.[ANNOTATIONS.hash] === hash);
  const rollout = rolloutStatus(deployment);
  const failure = podFailure(pods, hash);
  let state: WorkloadStatus['state'];
  let detail: string | undefined;
  if (deployment.spec?.replicas === 0) {
    state = 'stopped';
    detail = 'scaled to zero replicas';
  } else if (failure) {
    state = 'crash-looping';
    detail = failure.reason;
  } else if (rollout.state === 'complete') {
    state = 'ready';
  } else {
    const running = current.some((pod) => pod.status?.phase === 'Running');
    state = running ? 'running' : 'starting';
    detail = rollout.state === 'failed' ? rollout.reason : rollout.message;
  }
  const containers = containerStates(deployment, current[0]);
  return {
    workload,
    state,
    restarts: current.reduce(
      (sum, pod) =>
        sum + (pod.status?.containerStatuses ?? []).reduce((total, status) => total + status.restartCount, 0),
      0,
    ),
    hash,
    deploymentId: annotations[ANNOTATIONS.deployment] ?? '',
    ports: parsePorts(annotations[ANNOTATIONS.ports]),
    containers,
    ...(detail ? { detail } : {}),
  };
}

function containerStates(deployment: V1Deployment, pod: V1Pod | undefined): WorkloadStatus['containers'] {
  return (deployment.spec?.template?.spec?.containers ?? []).map((container) => {
    const status = pod?.status?.containerStatuses?.find((candidate) => candidate.name === container.name);
    const state = status?.state;
    const last = status?.lastState?.terminated;
    return {
      name: container.name,
      state: state?.running
        ? 'running'
        : state?.waiting
          ? `waiting${state.waiting.reason ? `: ${state.waiting.reason}` : ''}`
          : state?.terminated
            ? `terminated: exit code ${state.terminated.exitCode}`
            : 'pending',
      restarts: status?.restartCount ?? 0,
      ...(last
        ? {
            lastExit: `exited with code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}${last.finishedAt ? ` at ${new Date(last.finishedAt).toISOString()}` : ''}`,
          }
        : {}),
    };
  });
}

function parsePorts(text: string | undefined): RenderedPort[] {
  if (!text) return [];
  try {
    const ports: unknown = JSON.parse(text);
    return Array.isArray(ports) ? (ports as RenderedPort[]) : [];
  } catch {
    return [];
  }
}

function toLogLine(line: PodLogLine): LogLine {
  return {
    workload: line.workload,
    container: line.container,
    stream: 'stdout',
    at: line.at,
    line: line.line,
  };
}
