import type { ScoreContainer } from '@pave/core';
import type { DriverContext } from './context.ts';

/** The environment a runtime driver acts in. */
export interface RuntimeTarget {
  app: string;
  env: string;
}

/** A probe, with ports already mapped to where the runtime exposes them. */
export interface RenderedProbe {
  httpGet?: {
    /** The port as the runtime exposes it (for the process runtime: the host port). */
    port: number;
    path: string;
    host?: string;
    scheme?: 'HTTP' | 'HTTPS';
    httpHeaders?: Array<{ name: string; value: string }>;
  };
  exec?: { command: string[] };
}

/** A file to place before the container starts. */
export interface RenderedFile {
  /** The path the Score file asked for (absolute in a container). */
  target: string;
  /** The content, placeholders already expanded; base64 when `binary`. */
  content: string;
  binary?: boolean;
  /**
   * Octal mode such as "0600". Without one, each runtime chooses: the process and docker runtimes write the
   * file with 0600 (owner only: rendered content may hold secrets); kubernetes leaves it to the ConfigMap or
   * Secret volume's default mode (0644); the Compose export writes 0644.
   */
  mode?: string;
}

/** One container of a workload, with every placeholder expanded: exactly what the runtime should run. */
export interface RenderedContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  /** Final environment variables (may hold secrets: never log or persist them in plaintext). */
  env: Record<string, string>;
  files: RenderedFile[];
  /** Directory the container's command runs in (the process runtime: the Score file's directory). */
  workingDir: string;
  readinessProbe?: RenderedProbe;
  livenessProbe?: RenderedProbe;
  /**
   * Volumes to mount: `source` is what the Score file's `source` expands to (for a `volume` resource, its
   * `source` output: a host directory with the embedded default), `target` the mount path in the container.
   */
  volumes?: RenderedVolume[];
  /** Score's resource limits and requests, as written (e.g. cpu "500m", memory "128Mi"). */
  resources?: {
    limits?: { cpu?: string; memory?: string };
    requests?: { cpu?: string; memory?: string };
  };
  /**
   * Score's `before`: the containers of this workload (by name) that start only once this one is `ready`:
   * `started` (it has been started), `healthy` (its readiness probe passes, else its liveness probe; the
   * control plane refuses `healthy` on a container with neither) or `complete` (it has exited with code 0).
   * A container that another waits for to `complete` runs to completion: a runtime starts it once, does not
   * restart it after it exits 0, and fails the deploy (with its last log lines) when it exits otherwise.
   * The control plane refuses names that are not containers of the workload, the container itself, and
   * cycles; a runtime checks again. Absent: nothing waits for this container.
   */
  before?: Record<string, { ready: 'started' | 'healthy' | 'complete' }>;
}

/** A volume mounted into a container. */
export interface RenderedVolume {
  source: string;
  target: string;
  /** A sub path within the source. */
  path?: string;
  readOnly?: boolean;
}

/** A port a workload serves, with the host port Pave allocated for it (stable per env, workload and port). */
export interface RenderedPort {
  name: string;
  /** The service port from the Score file. */
  port: number;
  /** The port the container listens on (Score's targetPort, default `port`). */
  targetPort: number;
  protocol: 'TCP' | 'UDP';
  hostPort: number;
}

/** A workload ready to run: what a runtime driver receives. */
export interface RenderedWorkload {
  name: string;
  containers: RenderedContainer[];
  ports: RenderedPort[];
  /**
   * Hash of the rendered workload's canonical form. A runtime may skip redeploying a workload whose running
   * version has the same hash.
   */
  hash: string;
  /** The deployment that asked for this version, for labels and logs. */
  deploymentId: string;
  /**
   * Score's `metadata.annotations`, as written (counted in `hash`). Runtimes that render manifests pass them
   * on: kubernetes onto the Deployment and its pod template (Pave's own `pave.dev/*` annotations win), the
   * Compose file onto each service. Others ignore them. Absent: the Score file has none.
   */
  annotations?: Record<string, string>;
  /**
   * Patches and objects of the workload profiles matched to the environment (`pave profiles`), for the
   * manifests a runtime renders for this workload. A runtime that renders manifests applies them (and validates
   * the result); one that renders none ignores them.
   */
  profiles?: WorkloadProfileEffects;
  /**
   * The developer's own manifests deployed with this workload (`pave deploy --manifests DIR`): placed in the
   * environment's namespace, labelled as the workload's, applied, diffed and pruned with it. Only runtimes that
   * render manifests accept them; the control plane refuses them on others before anything starts.
   */
  manifests?: ExtraManifest[];
}

/** An RFC 6902 JSON Patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

/** One patch of a workload profile: operations for every rendered object of `kind` (and `name`, when given). */
export interface ManifestPatch {
  /** The profile it comes from, for errors ("profile prod-hardening, patch 1, operation 2, /spec/replicas"). */
  profile: string;
  /** Its index in the profile's `patches`. */
  index: number;
  target: { kind: string; name?: string };
  /** Placeholders (`${workload.name}`, `${app}`, `${env}`) already expanded. */
  ops: JsonPatchOperation[];
}

/** A manifest added to a workload's own (by a profile, or the developer's `--manifests`). */
export interface ExtraManifest {
  /** Where it comes from, for errors: `profile prod-hardening` or `k8s/netpol.yaml#2`. */
  source: string;
  manifest: Record<string, unknown>;
}

/** What the profiles matched to an environment do to a workload's manifests. */
export interface WorkloadProfileEffects {
  /** Profile ids, most specific first. */
  ids: string[];
  patches: ManifestPatch[];
  /** Extra objects (a PodDisruptionBudget, a ServiceAccount), placeholders expanded. */
  objects: ExtraManifest[];
}

/** The outcome of waiting for a workload to become ready. */
export type ReadyResult =
  | { ready: true }
  | {
      ready: false;
      /**
       * Why, for people: `container "main" exited with code 3`, "readiness probe GET /health: 500",
       * "timed out after 60 s: …".
       */
      reason: string;
      /** The last log lines of the failing container(s), at most 20. */
      lastLogs: string[];
    };

/** What a runtime reports about one deployed workload. */
export interface WorkloadStatus {
  workload: string;
  state: 'starting' | 'running' | 'ready' | 'crash-looping' | 'stopped';
  /** Restarts since this version started. */
  restarts: number;
  /** Hash of the running version (see RenderedWorkload.hash). */
  hash: string;
  deploymentId: string;
  ports: RenderedPort[];
  /**
   * Its containers, shown by `pave status --containers`, the API's environment status and the portal:
   * `state` in the runtime's words (`running`, `waiting: CrashLoopBackOff`), `pid` on the host where there is
   * one, `lastExit` how it last ended for people (`exited with code 3 at <RFC 3339 time>`). Pave masks the
   * environment's secrets in `lastExit`, as in `detail`.
   */
  containers: Array<{ name: string; state: string; pid?: number; restarts: number; lastExit?: string }>;
  detail?: string;
}

/** One line of a workload's log. */
export interface LogLine {
  workload: string;
  container: string;
  stream: 'stdout' | 'stderr';
  /** When the runtime saw the line, RFC 3339. */
  at: string;
  line: string;
}

/** What RuntimeDriver.logs reads. */
export interface LogsOptions {
  /** Only this workload's containers; default: every workload of the target. */
  workload?: string;
  /**
   * At most this many lines of each container (its last ones), default 100. Per container: the caller
   * merges the containers by time and keeps the last lines overall (`pave logs --tail`).
   */
  tail?: number;
  /**
   * Only lines printed at or after this RFC 3339 time (`LogLine.at` compared as an instant), in the backlog
   * and while following. Runtimes whose API filters by whole seconds filter the rest themselves.
   */
  since?: string;
  /** After the backlog, keep yielding new lines until `ctx.signal` aborts. */
  follow: boolean;
}

/** A route of an environment, as a runtime that renders manifests publishes it. */
export interface RenderedRoute {
  host: string;
  /** A path prefix, starting with "/". */
  path: string;
  workload: string;
  /** The service port (Score's `port`, not the target port). */
  port: number;
}

/** What RuntimeDriver.renderManifests renders: an environment's workloads and routes, as they would run. */
export interface RenderableEnvironment {
  workloads: RenderedWorkload[];
  routes: RenderedRoute[];
  /** The names of the environment variables of a container whose values are secrets. */
  secretKeys: (workload: string, container: string) => string[];
  /** The targets of a container's files whose content holds a secret. */
  secretFiles: (workload: string, container: string) => string[];
}

/** How `waitReady` judges readiness. */
export interface WaitReadyOptions {
  /**
   * A container without a readiness probe counts as ready only after it kept running this long without a
   * restart (the stability window). Default DEFAULT_STABLE_MS.
   */
  stableMs?: number;
}

/**
 * What `check` looks at: a workload as planned, before anything of it is provisioned or rendered. A
 * container's `files`, `volumes` and `readinessProbe` are as the Score file writes them (placeholders not
 * expanded; files and volumes a map keyed by target, or the deprecated list).
 */
export interface WorkloadShape {
  containers: Array<
    { name: string; image: string; command?: string[] } & Partial<
      Pick<ScoreContainer, 'files' | 'volumes' | 'readinessProbe'>
    >
  >;
  /** The developer's own manifests (`--manifests`), for runtimes that render manifests to check. */
  manifests?: ExtraManifest[];
}

/**
 * Runs workloads somewhere: local processes, Docker/Podman, Kubernetes. Optional methods are capabilities:
 * a runtime without `logs` cannot stream logs.
 *
 * - `deploy` makes `workload` run as rendered, replacing the version that ran before (if its hash differs),
 *   and resolves once it is started, not ready. If it rejects, nothing of the new version is left running.
 *   It refuses what `check` refuses, with the same reasons: a driver does not trust its caller.
 * - `waitReady` resolves with the readiness outcome: ready once every container runs and its readiness probe
 *   passes; a container without a probe counts only after it kept running `options.stableMs` (default
 *   DEFAULT_STABLE_MS) without a restart, so a workload that crashes a few seconds after it starts is not
 *   reported ready. A container that exits or restarts before then makes the workload not ready at once,
 *   with a reason naming its exit code, and its last log lines. It stops waiting when `ctx.signal` aborts.
 * - `remove` stops and removes one workload; removing one that is not there succeeds.
 * - `status` never changes anything; it lists every workload of the target the runtime knows.
 * - `destroy` removes everything of the target (environment deletion); idempotent.
 * - `adopt` is called once at control-plane start so the runtime can take back workloads that kept running
 *   while the control plane was down: once per driver, however many targets use it (views of one driver,
 *   see `viewOf`, count as that driver). It takes no target: it takes stock of everything the driver runs.
 *
 * `ctx.dryRun` is false in every runtime call: planning a deployment asks a runtime only `check` (and
 * `renderManifests` for `pave render`), which take no context.
 */
export interface RuntimeDriver {
  readonly name: string;
  /**
   * How workloads of this runtime reach another workload's port (the outputs of a `service-port` resource).
   * Without it: `127.0.0.1` and the port's host port, which is right for local processes.
   */
  serviceAddress?(
    target: RuntimeTarget,
    workload: string,
    port: RenderedPort,
  ): { hostname: string; port: number };
  /**
   * Capability, called when a deployment is planned, before anything is provisioned or started: why this
   * runtime cannot run the workload (empty when it can); each reason says how to fix it. `property` is a
   * path such as `containers.main.command`.
   */
  check?(workload: WorkloadShape): CheckFailure[];
  deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void>;
  waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options?: WaitReadyOptions,
  ): Promise<ReadyResult>;
  remove(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<void>;
  status(target: RuntimeTarget, ctx: DriverContext): Promise<WorkloadStatus[]>;
  destroy(target: RuntimeTarget, ctx: DriverContext): Promise<void>;
  adopt?(ctx: DriverContext): Promise<void>;
  /**
   * The driver this one is a view of, when it is one (the process runtime as one target sees it, at the
   * target's isolation level): the control plane asks `adopt` of the views of one driver once, not once per
   * view. Absent: this driver is its own.
   */
  readonly viewOf?: RuntimeDriver;
  /**
   * Capability: the manifests this runtime would apply for `environment`, as one text (YAML for kubernetes),
   * applying nothing (`pave render`). A runtime without it cannot render manifests. Throws an InputError
   * naming what to fix when the environment cannot be rendered.
   */
  renderManifests?(target: RuntimeTarget, environment: RenderableEnvironment): string;
  /**
   * Capability: the log lines of `options.workload` (or of every workload of `target`), see {@link LogsOptions}:
   * first the last `tail` lines of each container printed at or after `since`, merged in time order; then,
   * with `follow`, the lines printed after, as they come, until `ctx.signal` aborts. A runtime without it
   * cannot stream logs.
   */
  logs?(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine>;
}

/** Where a resource lives and what it is: given to every resource driver call. */
export interface ResourceScope {
  app: string;
  env: string;
  envType: string;
  /** The resource type: postgres, redis, dns, route, volume, … */
  type: string;
  /** Score's `class`; "default" when the Score file names none. */
  class: string;
  /** The Score resource `id` of a shared resource, else `<workload>.<name>`. */
  resId: string;
  /** The graph address: `<workload>.<name>` or `shared.<id>`. */
  address: string;
}

/** What a resource driver provisions from. */
export interface ResourceInputs {
  scope: ResourceScope;
  /** `driverInputs.values` of the matched resource definition. */
  driverInputs: Record<string, unknown>;
  /** `driverInputs.secrets` of the definition, decrypted (never log them). */
  driverSecrets: Record<string, unknown>;
  /** The Score resource's `params`, placeholders expanded. */
  params: Record<string, unknown>;
  /**
   * Create only: the outputs of a resource of the same type (in another environment) whose data the new
   * resource starts with (`pave envs create --from E --with-data`). Drivers that cannot copy data ignore it.
   */
  cloneFrom?: ResourceOutputs;
}

/** What a resource provides to workloads: plain values and secrets (encrypted at rest, masked in the API). */
export interface ResourceOutputs {
  values: Record<string, string>;
  secrets: Record<string, string>;
}

/** A problem `check` found (in a resource's inputs, or a workload a runtime cannot run), with where it is. */
export interface CheckFailure {
  property: string;
  reason: string;
}

/** What `diff` decided. */
export interface ResourceDiff {
  changes: boolean;
  /** The change cannot be made in place: the resource is deleted and created anew. */
  replace?: boolean;
  /** Input properties that differ. */
  changedProperties?: string[];
}

/**
 * Provisions one kind of resource (a database, a cache, a DNS name…), following Pulumi's dynamic provider
 * verbs and failure rules:
 * - `check` validates inputs and returns every failure at once (an empty list means valid);
 * - `create`: if it rejects, the resource must not exist;
 * - `update`: if it rejects, the resource keeps its previous outputs;
 * - `read` returns the current outputs, or null if the resource is gone; `drift` says, for people, what the
 *   driver found changed outside Pave although the resource exists (a Terraform refresh that finds changes, a
 *   failing check), with no secret in it: `pave resources check` reports such a resource as drifted;
 * - `delete`: if it rejects, the resource is assumed to still exist; deleting a missing one succeeds.
 *
 * `diff` and `read` are the calls that get `ctx.dryRun` set (planning, `pave resources check`): they report
 * and change nothing. `check`, `create`, `update` and `delete` get it unset.
 */
export interface ResourceDriver<Inputs = ResourceInputs, Outputs = ResourceOutputs> {
  readonly name: string;
  check(inputs: Inputs, ctx: DriverContext): Promise<CheckFailure[]>;
  diff(id: string, olds: Inputs, news: Inputs, ctx: DriverContext): Promise<ResourceDiff>;
  create(inputs: Inputs, ctx: DriverContext): Promise<{ id: string; outputs: Outputs }>;
  update(id: string, olds: Inputs, news: Inputs, ctx: DriverContext): Promise<{ outputs: Outputs }>;
  read(
    id: string,
    inputs: Inputs,
    ctx: DriverContext,
  ): Promise<{ outputs: Outputs; drift?: string[] } | null>;
  delete(id: string, inputs: Inputs, ctx: DriverContext): Promise<void>;
}
