import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type Docker from 'dockerode';
import { ConflictError, UpstreamError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  LogLine,
  LogsOptions,
  ReadyResult,
  RenderedContainer,
  RenderedPort,
  RenderedProbe,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeTarget,
  WaitReadyOptions,
  WorkloadShape,
  WorkloadStatus,
} from '@pave/plugin-api';
import {
  joinedDnsLabel,
  sinceFilter,
  sleep,
  untilAborted,
  waitForReady,
  workloadKey,
  WorkloadLocks,
} from '@pave/plugin-api';
import { runsToCompletion, startOrder, waitsFor, type BeforeReady } from '@pave/plugin-api';
import { containerSpec, portKey } from './container-spec.ts';
import { commitFiles, restoreFiles, stageFiles } from './files.ts';
import {
  advance,
  byTime,
  demuxLogs,
  FollowFilter,
  keySeconds,
  LogDemuxer,
  timeKey,
  type LogPosition,
  type TimedLine,
} from './logs.ts';
import { containerName, environmentDir, LABELS, labelFilters, networkName, workloadDir } from './names.ts';
import { probeOnce, type ProbeOutcome } from './probes.ts';
import { assertValid, assertValidNames, shapeFailures } from './validation.ts';

/** Configuration of the Docker runtime. Without `socketPath` or `host`: DOCKER_HOST, else /var/run/docker.sock. */
export interface DockerRuntimeConfig {
  /** The Engine API's Unix socket: Docker's, or the one `podman system service` listens on. */
  socketPath?: string;
  /** The Engine API over plain HTTP instead of a socket (files and volumes still need a shared disk). */
  host?: string;
  port?: number;
  /** Pave's data directory; container files are kept under `<dataDir>/runtime/docker/`. */
  dataDir: string;
  /**
   * Between SIGTERM and SIGKILL when a container is stopped; default 5 000 ms. For tests and embedding: a
   * docker target's config takes only socketPath, host and port.
   */
  stopGraceMs?: number;
}

/** What the Docker runtime takes from its surroundings. */
export interface DockerRuntimeDeps {
  /** An Engine API client configured elsewhere (TLS, SSH…); replaces socketPath/host/port. */
  docker?: Docker;
}

/** One container of ours, as the container list shows it. */
interface ContainerRecord {
  id: string;
  /** The container's name on the engine (without the leading "/"). */
  name: string;
  workload: string;
  container: string;
  hash: string;
  deploymentId: string;
  /** created, running, restarting, exited… */
  state: string;
  labels: Record<string, string>;
  /** Set while a deployment has renamed the container out of the new version's way: its name before. */
  formerName?: string;
}

/** The running version of a workload: its containers, inspected. */
interface Snapshot {
  workload: string;
  hash: string;
  deploymentId: string;
  containers: Array<{ record: ContainerRecord; info: Docker.ContainerInspectInfo }>;
}

type ContainerPhase = 'starting' | 'running' | 'crash-looping' | 'stopped' | 'completed';

interface ExitInfo {
  code: number | null;
  oomKilled: boolean;
}

const DEFAULT_STOP_GRACE_MS = 5_000;
const POLL_MS = 200;
const LOG_POLL_MS = 1_000;
const LAST_LOG_LINES = 20;
const DEFAULT_TAIL = 100;
const STATUS_PROBE_TIMEOUT_MS = 1_500;
/** A container that restarted and has not run this long since is crash-looping (as in the process runtime). */
const CRASH_LOOP_WINDOW_MS = 10_000;
const EVENTS_TIMEOUT_MS = 3_000;
/** How often, and how far apart, a recent exit's `die` event is looked for. */
const EXIT_EVENT_ATTEMPTS = 4;
const EXIT_EVENT_RETRY_MS = 250;
const ZERO_TIME = '0001-01-01T00:00:00Z';

/**
 * Runs each workload as containers over the Docker Engine API (Docker, or Podman's Docker-compatible
 * socket). Every environment gets one network, `pave-<app>-<env>`, on which a workload's first container
 * answers to the workload's name; its other containers share that container's network namespace. Ports
 * are published on 127.0.0.1 at their host port. Containers restart `unless-stopped` and keep running
 * while the control plane is down; labels (see LABELS) say which workload, version and deployment each
 * belongs to, so nothing but the container files is kept on disk.
 */
export class DockerRuntime implements RuntimeDriver {
  readonly name = 'docker';
  /** The Engine API client, made on first use (see engine). */
  private client: Promise<Docker> | undefined;
  /** Full readiness probes of versions deployed by this instance (labels keep only what is not secret). */
  private readonly probes = new Map<string, { hash: string; probes: Map<string, RenderedProbe> }>();
  private readonly locks = new WorkloadLocks();

  constructor(
    private readonly config: DockerRuntimeConfig,
    deps: DockerRuntimeDeps = {},
  ) {
    if (deps.docker) this.client = Promise.resolve(deps.docker);
  }

  /**
   * The Engine API client. dockerode (with ssh2 under it) is loaded on first use, so a Pave whose targets are
   * not Docker never loads it.
   */
  private engine(): Promise<Docker> {
    this.client ??= import('dockerode').then(({ default: Docker }) =>
      this.config.socketPath
        ? new Docker({ socketPath: this.config.socketPath })
        : this.config.host
          ? new Docker({ host: this.config.host, port: this.config.port ?? 2375, protocol: 'http' })
          : new Docker(),
    );
    return this.client;
  }

  /** The Docker runtime for `config`; nothing is contacted until it is used. */
  static fromConfig(config: DockerRuntimeConfig, deps?: DockerRuntimeDeps): DockerRuntime {
    return new DockerRuntime(config, deps);
  }

  /** Workloads reach each other by workload name on the environment's network, at the container port. */
  serviceAddress(
    _target: RuntimeTarget,
    workload: string,
    port: RenderedPort,
  ): { hostname: string; port: number } {
    return { hostname: workload, port: port.targetPort };
  }

  /** An image to run is needed: the `.` image (build this directory) must be built and named first. */
  check(workload: WorkloadShape): CheckFailure[] {
    return shapeFailures(workload);
  }

  /**
   * Makes `workload` run as rendered; keeps the running version untouched when its containers carry the
   * same hash and run (or, for one that runs to completion, completed). Otherwise pulls missing images, then:
   * when the workload publishes ports (whose host ports the old version holds), stops and removes the old
   * containers before creating and starting the new ones; without ports, starts the new ones first and
   * removes the old ones after. Containers start in Score's `before` order: one that others wait for starts
   * first, and they start once it is what they wait for (started; healthy: its readiness probe, else its
   * liveness probe, passes; complete: it exited with code 0, and is then left exited, not restarted). Resolves
   * once every container has started (not when ready). Rejects, naming the container, its exit and its last
   * log lines, when one others wait for exits otherwise or `ctx.signal` aborts first; with InputError for a
   * workload it cannot run and
   * with UpstreamError when the engine refuses (a missing image that cannot be pulled, a port in use…);
   * then none of the new containers is left, and without ports the old version keeps running. Rejects with
   * ConflictError, before it changes anything, when the environment's network or one of the workload's
   * container names is taken by another environment (see assertNetworkIsOwn, assertNamesAreFree).
   */
  async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void> {
    const docker = await this.engine();
    assertValid(target, workload);
    await this.locks.run(target, workload.name, async () => {
      const log = { app: target.app, env: target.env, workload: workload.name, hash: workload.hash };
      const current = await this.listContainers(target, workload.name);
      if (isUnchanged(current, workload)) {
        this.remember(target, workload);
        ctx.logger.info('workload unchanged: keeping its running containers', log);
        return;
      }
      ctx.signal.throwIfAborted();
      await this.assertNetworkIsOwn(target);
      await this.assertNamesAreFree(target, workload);
      for (const image of new Set(workload.containers.map((container) => container.image))) {
        await this.ensureImage(image, ctx);
      }
      const network = await this.ensureNetwork(target);
      ctx.signal.throwIfAborted();
      // A host port can be published by one container at a time: the old version must let go first.
      const replaceFirst = workload.ports.length > 0;
      if (replaceFirst) await this.removeContainers(current, this.stopGraceMs);
      const dir = workloadDir(this.config.dataDir, target, workload.name);
      // In start order (Score's before), so the first that does not run to completion holds the network.
      const containers = startOrder(workload.containers);
      const retired: ContainerRecord[] = [];
      const staged: string[] = [];
      const created: ContainerRecord[] = [];
      try {
        if (!replaceFirst) await this.retire(target, current, retired);
        let owner: string | null = null;
        for (const container of containers) {
          ctx.signal.throwIfAborted();
          const containerDir = join(dir, container.name);
          staged.push(containerDir);
          const files = await stageFiles(containerDir, container.files);
          const name = containerName(target, workload.name, container.name);
          const spec = containerSpec({ target, workload, container, name, network, joins: owner, files });
          const made = await docker
            .createContainer(spec)
            .catch((error: unknown) => engineFailure(`creating container "${container.name}"`, error));
          created.push(recordOf(made.id, name, spec.Labels ?? {}, 'created'));
          if (!runsToCompletion(container)) owner ??= made.id;
        }
        const waited = new Map<string, Promise<void>>();
        // `created` is in `containers` order: each starts once those it waits for are what it waits for.
        for (const record of created) {
          ctx.signal.throwIfAborted();
          for (const { container: earlier, ready } of waitsFor(containers, record.container)) {
            const first = created[containers.indexOf(earlier)]!;
            const key = `${earlier.name}/${ready}`;
            if (!waited.has(key))
              waited.set(key, this.awaitBefore(first, earlier, ready, record.container, ctx));
            await waited.get(key);
          }
          await docker
            .getContainer(record.id)
            .start()
            .catch((error: unknown) => engineFailure(`starting container "${record.container}"`, error));
          ctx.logger.info('started container', { ...log, container: record.container, id: record.id });
        }
      } catch (error) {
        // Nothing of the new version may keep running; an old version that still runs stays as it was.
        const report = (what: string) => (cleanup: unknown) =>
          ctx.logger.error(what, { ...log, error: engineMessage(cleanup) });
        await this.removeContainers(created, 0).catch(
          report('could not remove a container of the failed version'),
        );
        for (const containerDir of staged) {
          await (
            replaceFirst ? rm(containerDir, { recursive: true, force: true }) : restoreFiles(containerDir)
          ).catch(report('could not restore the files of the running version'));
        }
        await this.reinstate(retired, ctx);
        throw error;
      }
      // The new version runs, so deploy resolves from here on (rejecting would leave it running): failing
      // to remove the old one is logged (the next deploy, remove or destroy of the workload removes it,
      // since its labels still say whose it is), and so is failing to tidy the files of the old one.
      this.remember(target, workload);
      await this.removeContainers(retired, this.stopGraceMs).catch((error: unknown) =>
        ctx.logger.warn('could not remove the previous version', { ...log, error: engineMessage(error) }),
      );
      try {
        for (const containerDir of staged) await commitFiles(containerDir);
        const kept = new Set(containers.map((container) => container.name));
        for (const entry of await readdir(dir).catch(() => [] as string[])) {
          if (!kept.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
        }
      } catch (error) {
        ctx.logger.warn('could not remove the files of the previous version', {
          ...log,
          error: (error as Error).message,
        });
      }
    });
  }

  /**
   * Waits until `workload` is ready: every container runs and their readiness probes pass (httpGet from
   * this host: a 2xx/3xx answer; exec inside the container: exit code 0); a container without a probe must
   * have kept running `options.stableMs` (default DEFAULT_STABLE_MS) since it last started. Not ready when
   * a container exits or restarts before that (`container "main" exited with code 3`, with its exit code
   * and last log lines), or when `ctx.signal` aborts (Pave's carries the deployment's `--timeout`).
   */
  async waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options: WaitReadyOptions = {},
  ): Promise<ReadyResult> {
    assertValidNames(target, workload);
    return waitForReady(
      workload,
      { signal: ctx.signal, pollMs: POLL_MS, stableMs: options.stableMs },
      {
        snapshot: () => this.snapshot(target, workload),
        probe: (snapshot, signal) => this.evaluateReadiness(target, snapshot, signal),
        unprobed: (snapshot) =>
          this.probesOf(target, snapshot)
            .filter(({ probe, info, record }) => !probe && !hasCompleted(record, info))
            .map(({ record, info }) => ({
              name: record.container,
              runningSinceMs: isRunning(info) ? Date.parse(info.State.StartedAt) || null : null,
            })),
        failed: async (snapshot) => {
          const failed = snapshot.containers.find(
            ({ record, info }) => hasFailed(info) && !hasCompleted(record, info),
          );
          if (!failed) return null;
          const exit = await this.lastExit(failed.info, true);
          const restarts = failed.info.RestartCount;
          return {
            ready: false,
            reason:
              `container "${failed.record.container}" ${describeExit(exit)}` +
              (restarts > 0 ? ` (restarted ${restarts} time${restarts === 1 ? '' : 's'})` : ''),
            lastLogs: await this.lastLogs(snapshot, [failed.record]),
          };
        },
        lastLogs: (snapshot) =>
          this.lastLogs(
            snapshot,
            snapshot.containers.map(({ record }) => record),
          ),
      },
    );
  }

  /** Stops and removes `workload`'s containers and deletes its files. Succeeds if it is not there. */
  async remove(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<void> {
    assertValidNames(target, workload);
    // The engine's client takes no signal: an engine that never answers is given up when the call's time is.
    const removed = this.locks.run(target, workload, async () => {
      await this.removeContainers(await this.listContainers(target, workload), this.stopGraceMs);
      this.probes.delete(workloadKey(target, workload));
      await rm(workloadDir(this.config.dataDir, target, workload), { recursive: true, force: true });
    });
    await untilAborted(ctx.signal, removed, `removing workload "${workload}" from the container engine`);
  }

  /**
   * Every workload of `target` that has containers, sorted by name: `stopped` when a container is not
   * running (and not about to restart), `crash-looping` while one restarts or has not run 10 s since it
   * did, `starting` before a container has started, then `ready` when the readiness checks pass right
   * now, else `running`. Ports are read from the published bindings. Changes nothing.
   */
  async status(target: RuntimeTarget, ctx: DriverContext): Promise<WorkloadStatus[]> {
    assertValidNames(target);
    const read = async () => {
      const workloads = [...new Set((await this.listContainers(target)).map((record) => record.workload))];
      const statuses = await Promise.all(
        workloads.sort().map(async (workload) => {
          const snapshot = await this.snapshot(target, workload);
          return snapshot ? this.workloadStatus(target, snapshot) : null;
        }),
      );
      return statuses.filter((status): status is WorkloadStatus => status !== null);
    };
    return untilAborted(ctx.signal, read(), 'asking the container engine for the workloads');
  }

  /**
   * Removes every container of `target` (found by its labels), its network (unless the network of that name
   * is not labelled for `target`: it is kept, and logged) and its files. Idempotent.
   */
  async destroy(target: RuntimeTarget, ctx: DriverContext): Promise<void> {
    assertValidNames(target);
    await untilAborted(
      ctx.signal,
      this.destroyNow(target, ctx),
      'removing the environment from the container engine',
    );
  }

  private async destroyNow(target: RuntimeTarget, ctx: DriverContext): Promise<void> {
    const docker = await this.engine();
    const workloads = new Set((await this.listContainers(target)).map((record) => record.workload));
    await Promise.all(
      [...workloads].map((workload) =>
        this.locks.run(target, workload, async () => {
          await this.removeContainers(await this.listContainers(target, workload), this.stopGraceMs);
          this.probes.delete(workloadKey(target, workload));
        }),
      ),
    );
    // Containers the list missed (created while it ran) would keep the network: list once more.
    await this.removeContainers(await this.listContainers(target), 0);
    const name = networkName(target);
    const network = await this.networkOf(target);
    if (network && !network.ours) {
      ctx.logger.warn(
        `kept network ${name}: ${network.owner ? `it belongs to environment ${network.owner}` : 'Pave did not create it'}`,
        { app: target.app, env: target.env },
      );
    } else if (network) {
      await docker
        .getNetwork(name)
        .remove()
        .catch((error: unknown) => {
          if (statusCode(error) !== 404) engineFailure(`removing network "${name}"`, error);
        });
    }
    const dir = environmentDir(this.config.dataDir, target);
    await rm(dir, { recursive: true, force: true });
    await rmdir(dirname(dir)).catch(() => undefined); // the app's directory, once its last environment is gone
  }

  /**
   * Takes stock after a control-plane start. The engine keeps containers running (and restarts them) on
   * its own, and labels say what they are, so there is nothing to take back: this only reports them.
   */
  async adopt(ctx: DriverContext): Promise<void> {
    const docker = await this.engine();
    try {
      const found = await untilAborted(
        ctx.signal,
        docker.listContainers({ all: true, filters: { label: [LABELS.app] } }),
        'listing the containers of the container engine',
      );
      ctx.logger.info('containers keep running under the container engine', {
        running: found.filter((container) => container.State === 'running').length,
        total: found.length,
      });
    } catch (error) {
      ctx.logger.warn('the container engine cannot be reached', { error: engineMessage(error) });
    }
  }

  /**
   * The last `tail` (default 100) lines since `since` of each container of `workload` (or of every
   * workload of `target`), merged in time order; with `follow`, then the lines that come after, as they come
   * (from containers started meanwhile too), until `ctx.signal` aborts. Logs go with their containers: a
   * removed workload has none.
   */
  async *logs(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine> {
    assertValidNames(target, options.workload);
    const positions = new Map<string, LogPosition>();
    const initial: LogLine[] = [];
    // Following a container starts after its backlog, or at `since` (the start of its log without one).
    const start: LogPosition = {
      key: options.since === undefined ? '' : timeKey(options.since),
      linesAtKey: [],
    };
    for (const record of await this.listContainers(target, options.workload)) {
      const lines = await this.readLogs(record.id, options.tail ?? DEFAULT_TAIL, options.since);
      positions.set(record.id, advance(start, lines));
      initial.push(...lines.map((line) => toLogLine(record, line)));
    }
    yield* byTime(initial);
    if (!options.follow) return;
    const stop = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stop.signal]);
    const queue = new LineQueue(signal);
    const following = new Set<string>();
    const watch = async () => {
      do {
        const records = await this.listContainers(target, options.workload).catch(() => []);
        for (const record of records) {
          if (following.has(record.id) || (positions.has(record.id) && record.state !== 'running')) continue;
          following.add(record.id);
          const position = positions.get(record.id) ?? start;
          positions.set(record.id, position);
          void this.followLogs(record, position, signal, (lines) => {
            positions.set(record.id, advance(positions.get(record.id) ?? position, lines));
            queue.push(lines.map((line) => toLogLine(record, line)));
          }).finally(() => following.delete(record.id));
        }
      } while (await sleep(LOG_POLL_MS, signal));
    };
    const watching = watch();
    try {
      for (let lines = await queue.next(); lines; lines = await queue.next()) {
        for (const line of lines) {
          // Aborted while the caller took the lines before it: the rest of the batch is not its.
          if (signal.aborted) return;
          yield line;
        }
      }
    } finally {
      stop.abort();
      await watching;
    }
  }

  private get stopGraceMs(): number {
    return this.config.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  }

  /**
   * Waits until `earlier` (started as `record`) is what `later` waits for (Score's before): `healthy` (its
   * readiness probe, else its liveness probe, passes) or `complete` (it exited with code 0); `started` it
   * already is. Rejects naming it, how it ended and its last log lines when it exits otherwise (or, waiting
   * for healthy, at all), and when `ctx.signal` aborts first.
   */
  private async awaitBefore(
    record: ContainerRecord,
    earlier: RenderedContainer,
    ready: BeforeReady,
    later: string,
    ctx: DriverContext,
  ): Promise<void> {
    if (ready === 'started') return;
    const docker = await this.engine();
    const handle = docker.getContainer(record.id);
    const probe = earlier.readinessProbe ?? earlier.livenessProbe;
    const waits = `container "${later}" waits for it to ${ready === 'complete' ? 'complete' : 'be healthy'} (Score's before)`;
    const failure = async (what: string) => {
      const lines = await this.readLogs(record.id, LAST_LOG_LINES).catch(() => []);
      const logs = lines.length ? `\nlast log lines:\n${lines.map((line) => line.line).join('\n')}` : '';
      return new Error(`container "${earlier.name}" ${what}: ${waits}${logs}`);
    };
    let detail = 'its probe has not run yet';
    for (;;) {
      const info = await askAgainAfterExitRace(() => handle.inspect()).catch((error: unknown) =>
        engineFailure(`inspecting container "${record.name}"`, error),
      );
      const ended = !info.State.Running && ['exited', 'dead', 'stopped'].includes(info.State.Status);
      if (ended || (ready === 'healthy' && hasFailed(info))) {
        const exit = ended ? { code: info.State.ExitCode, oomKilled: info.State.OOMKilled } : null;
        if (ready === 'complete' && exit?.code === 0 && !exit.oomKilled) return;
        throw await failure(exit ? describeExit(exit) : 'restarted');
      } else if (ready === 'healthy' && isRunning(info) && probe) {
        const outcome = await probeOnce(probe, handle, ctx.signal);
        if (outcome.ok) return;
        detail = outcome.detail;
      }
      if (!(await sleep(POLL_MS, ctx.signal))) {
        throw await failure(
          ready === 'complete'
            ? 'had not completed when the deployment stopped waiting'
            : `was not healthy when the deployment stopped waiting (${detail})`,
        );
      }
    }
  }

  /**
   * Keeps the full readiness probes of `workload`'s version in memory (they may hold credentials); not those of
   * containers that run to completion, which are done rather than ready.
   */
  private remember(target: RuntimeTarget, workload: RenderedWorkload): void {
    const probes = new Map<string, RenderedProbe>();
    for (const container of workload.containers) {
      if (container.readinessProbe && !runsToCompletion(container)) {
        probes.set(container.name, container.readinessProbe);
      }
    }
    this.probes.set(workloadKey(target, workload.name), { hash: workload.hash, probes });
  }

  /** Our containers in `target` (of one workload), found by their labels. */
  private async listContainers(target: RuntimeTarget, workload?: string): Promise<ContainerRecord[]> {
    const docker = await this.engine();
    const found = await askAgainAfterExitRace(() =>
      docker.listContainers({ all: true, filters: { label: labelFilters(target, workload) } }),
    ).catch((error: unknown) => engineFailure('listing containers', error));
    return found
      .map((summary) =>
        recordOf(summary.Id, (summary.Names[0] ?? '').replace(/^\//, ''), summary.Labels, summary.State),
      )
      .filter(
        (record) =>
          record.labels[LABELS.app] === target.app &&
          record.labels[LABELS.env] === target.env &&
          (workload === undefined || record.workload === workload),
      );
  }

  /** The containers of `workload`'s current version, inspected; null if it has none. */
  private async snapshot(target: RuntimeTarget, workload: string): Promise<Snapshot | null> {
    const docker = await this.engine();
    const records = await this.listContainers(target, workload);
    // During a deployment the old version may still run under another name: the canonical name is current.
    const current =
      records.find((record) => record.name === containerName(target, workload, record.container)) ??
      records[0];
    if (!current) return null;
    const containers: Snapshot['containers'] = [];
    for (const record of records.filter((candidate) => candidate.hash === current.hash)) {
      const info = await askAgainAfterExitRace(() => docker.getContainer(record.id).inspect()).catch(
        (error: unknown) => {
          if (statusCode(error) === 404) return null; // removed meanwhile
          return engineFailure(`inspecting container "${record.name}"`, error);
        },
      );
      if (info) containers.push({ record, info });
    }
    if (containers.length === 0) return null;
    containers.sort((a, b) => a.record.container.localeCompare(b.record.container));
    return { workload, hash: current.hash, deploymentId: current.deploymentId, containers };
  }

  private async workloadStatus(target: RuntimeTarget, snapshot: Snapshot): Promise<WorkloadStatus> {
    const now = Date.now();
    const phases = snapshot.containers.map(({ record, info }) => ({
      record,
      info,
      phase: hasCompleted(record, info) ? ('completed' as const) : containerPhase(info, now),
    }));
    // The first phase in this order that a container is in decides; its container explains why.
    const decisive = (['stopped', 'crash-looping', 'starting'] as const)
      .map((phase) => {
        const found = phases.find((container) => container.phase === phase);
        return found && { ...found, phase };
      })
      .find((container) => container !== undefined);
    let state: WorkloadStatus['state'];
    let detail: string | undefined;
    if (decisive) {
      state = decisive.phase;
      const exit = decisive.phase === 'starting' ? null : await this.lastExit(decisive.info, false);
      detail =
        `container "${decisive.record.container}" is ${decisive.info.State.Status}` +
        (exit && exit.code !== null ? ` (it ${describeExit(exit)})` : '') +
        ` (restarts: ${decisive.info.RestartCount})`;
    } else {
      const outcome = await this.evaluateReadiness(
        target,
        snapshot,
        AbortSignal.timeout(STATUS_PROBE_TIMEOUT_MS),
      );
      state = outcome.ok ? 'ready' : 'running';
      if (!outcome.ok) detail = outcome.detail;
    }
    return {
      workload: snapshot.workload,
      state,
      restarts: phases.reduce((sum, { info }) => sum + info.RestartCount, 0),
      hash: snapshot.hash,
      deploymentId: snapshot.deploymentId,
      ports: publishedPorts(snapshot),
      containers: phases.map(({ record, info, phase }) => ({
        name: record.container,
        state: phase,
        ...(info.State.Running && info.State.Pid ? { pid: info.State.Pid } : {}),
        restarts: info.RestartCount,
        ...(!info.State.Running && info.State.FinishedAt && info.State.FinishedAt !== ZERO_TIME
          ? { lastExit: `exited with code ${info.State.ExitCode} at ${info.State.FinishedAt}` }
          : {}),
      })),
      ...(detail ? { detail } : {}),
    };
  }

  /** One round of readiness checks; every container must also be running. */
  private async evaluateReadiness(
    target: RuntimeTarget,
    snapshot: Snapshot,
    signal: AbortSignal,
  ): Promise<ProbeOutcome> {
    const docker = await this.engine();
    for (const { record, info } of snapshot.containers) {
      if (!isRunning(info) && !hasCompleted(record, info)) {
        return { ok: false, detail: `container "${record.container}" is ${info.State.Status}` };
      }
    }
    for (const { record, probe } of this.probesOf(target, snapshot)) {
      if (!probe) continue;
      const outcome = await probeOnce(probe, docker.getContainer(record.id), signal);
      if (!outcome.ok) return { ok: false, detail: `container "${record.container}": ${outcome.detail}` };
    }
    return { ok: true, detail: 'ready' };
  }

  /**
   * The readiness probe of each container of the running version (undefined: it has none): as deployed by
   * this instance, else as its label keeps it.
   */
  private probesOf(
    target: RuntimeTarget,
    snapshot: Snapshot,
  ): Array<Snapshot['containers'][number] & { probe: RenderedProbe | undefined }> {
    const remembered = this.probes.get(workloadKey(target, snapshot.workload));
    return snapshot.containers.map((container) => ({
      ...container,
      probe:
        remembered?.hash === snapshot.hash
          ? remembered.probes.get(container.record.container)
          : (parseLabel<RenderedProbe>(container.record.labels[LABELS.readiness]) ?? undefined),
    }));
  }

  /**
   * How a container last ended. A stopped container says so itself; a restarted one (Podman resets the
   * exit code when it restarts a container) is looked up in the engine's events, waiting up to a second
   * for the latest when `recent`.
   */
  private async lastExit(info: Docker.ContainerInspectInfo, recent: boolean): Promise<ExitInfo> {
    const oomKilled = info.State.OOMKilled;
    if (!info.State.Running || info.State.ExitCode !== 0 || info.RestartCount === 0) {
      return { code: info.State.ExitCode, oomKilled };
    }
    // Podman may list a restart before the `die` event that carries the exit code: a recent exit is asked
    // for again, briefly, before it is reported as unknown.
    for (let attempt = 1; ; attempt++) {
      const found = await this.exitFromEvents(info, recent);
      if (found !== null || !recent || attempt === EXIT_EVENT_ATTEMPTS) return { code: found, oomKilled };
      await sleep(EXIT_EVENT_RETRY_MS);
    }
  }

  /** The exit code of the container's last `die` event, or null when there is none (or the engine fails). */
  private async exitFromEvents(info: Docker.ContainerInspectInfo, recent: boolean): Promise<number | null> {
    const docker = await this.engine();
    const since = Math.floor(Date.parse(info.Created) / 1000) || 0;
    const until = Math.floor(Date.now() / 1000) + (recent ? 1 : 0);
    try {
      const stream = await docker.getEvents({
        since,
        until,
        filters: { container: [info.Id], type: ['container'] },
        abortSignal: AbortSignal.timeout(EVENTS_TIMEOUT_MS),
      } as Docker.GetEventsOptions);
      let text = '';
      for await (const chunk of stream) text += String(chunk);
      let code: number | null = null;
      for (const line of text.split('\n')) {
        const event = parseLabel<{ Action?: string; Actor?: { Attributes?: Record<string, string> } }>(line);
        const exitCode = event?.Actor?.Attributes?.exitCode;
        if (event?.Action === 'die' && exitCode !== undefined) code = Number(exitCode);
      }
      return code;
    } catch {
      return null;
    }
  }

  /** The last log lines of `records` for a ReadyResult, prefixed when the workload has several containers. */
  private async lastLogs(snapshot: Snapshot, records: ContainerRecord[]): Promise<string[]> {
    const lines: Array<TimedLine & { container: string }> = [];
    for (const record of records) {
      const read = await this.readLogs(record.id, LAST_LOG_LINES).catch(() => []);
      lines.push(...read.map((line) => ({ ...line, container: record.container })));
    }
    const prefix = snapshot.containers.length > 1;
    return byTime(lines)
      .slice(-LAST_LOG_LINES)
      .map((line) => (prefix ? `${line.container}: ${line.line}` : line.line));
  }

  /**
   * The last `tail` lines since `since` of a container's log, stdout and stderr in the order the engine
   * keeps them. The Engine API's `since` takes whole seconds: the lines of that second before `since` are
   * dropped here.
   */
  private async readLogs(id: string, tail: number, since?: string): Promise<TimedLine[]> {
    const docker = await this.engine();
    try {
      const fromSeconds = since === undefined ? 0 : keySeconds(timeKey(since));
      const buffer = await docker.getContainer(id).logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        tail,
        follow: false,
        ...(fromSeconds > 0 ? { since: fromSeconds } : {}),
      });
      return demuxLogs(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer))).filter(
        sinceFilter(since),
      );
    } catch (error) {
      if (statusCode(error) === 404) return [];
      throw error;
    }
  }

  /** Streams a container's log from `position` on to `emit` until the log ends or `signal` aborts. */
  private async followLogs(
    record: ContainerRecord,
    position: LogPosition,
    signal: AbortSignal,
    emit: (lines: TimedLine[]) => void,
  ): Promise<void> {
    const docker = await this.engine();
    const filter = new FollowFilter(position);
    const demuxer = new LogDemuxer();
    try {
      const stream = await docker.getContainer(record.id).logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        follow: true,
        since: keySeconds(position.key),
        abortSignal: signal,
      });
      for await (const chunk of stream) {
        const lines = filter.accept(demuxer.push(Buffer.from(chunk as Buffer)));
        if (lines.length) emit(lines);
      }
      const rest = filter.accept(demuxer.end());
      if (rest.length) emit(rest);
    } catch {
      // Aborted, or the container went away: the watcher decides whether to follow it again.
    }
  }

  /** Pulls `image` unless the engine has it; UpstreamError naming the image when that fails. */
  private async ensureImage(image: string, ctx: DriverContext): Promise<void> {
    const docker = await this.engine();
    try {
      await docker.getImage(image).inspect();
      return;
    } catch (error) {
      if (statusCode(error) !== 404) engineFailure(`looking up image "${image}"`, error);
    }
    ctx.logger.info('pulling image', { image });
    try {
      const stream = await docker.pull(image, { abortSignal: ctx.signal });
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(stream, (error: Error | null, output: Array<{ error?: string }>) => {
          const failed = output?.find((event) => event.error);
          if (error || failed) reject(error ?? new Error(failed?.error));
          else resolve();
        });
      });
      await docker.getImage(image).inspect();
    } catch (error) {
      ctx.signal.throwIfAborted();
      throw new UpstreamError(
        `image "${image}" is not on the container engine and could not be pulled (${engineMessage(error)}); ` +
          `no registry may be reachable from here: build or load "${image}" on the engine ` +
          `(e.g. \`docker build -t ${image} .\` or \`podman build -t ${image} .\`), or use an image it has`,
      );
    }
  }

  /**
   * The network named for `target`, if there is one: whether its labels say it is `target`'s, and whose it
   * is (`app/env`; null without Pave's labels). Every version of this runtime labelled the networks it
   * created (dev.pave.app, dev.pave.env), so one without them is not Pave's.
   */
  private async networkOf(target: RuntimeTarget): Promise<{ ours: boolean; owner: string | null } | null> {
    const docker = await this.engine();
    const name = networkName(target);
    const info = await askAgainAfterExitRace(() => docker.getNetwork(name).inspect()).catch(
      (error: unknown) =>
        statusCode(error) === 404 ? null : engineFailure(`inspecting network "${name}"`, error),
    );
    if (!info) return null;
    const owner = ownerOf((info as { Labels?: Record<string, string> | null }).Labels ?? {});
    return { ours: owner === `${target.app}/${target.env}`, owner };
  }

  /**
   * Whether the network named for `target` exists; refuses (ConflictError) one that is not labelled for it.
   * Two environments can be given one name (app `shop` env `prod-eu` and app `shop-prod` env `eu` are both
   * `pave-shop-prod-eu`), names that cannot change; joining the other's network would let each reach the
   * other's workloads by name.
   */
  private async assertNetworkIsOwn(target: RuntimeTarget): Promise<boolean> {
    const network = await this.networkOf(target);
    if (!network) return false;
    if (network.ours) return true;
    const name = networkName(target);
    if (network.owner) {
      throw new ConflictError(
        `network "${name}" belongs to environment ${network.owner} (its ${LABELS.app} and ${LABELS.env} ` +
          `labels), not to ${target.app}/${target.env}: nothing was deployed`,
        [
          {
            path: 'env',
            message:
              'give this environment another id (or the app another name) so that its Docker names ' +
              "(pave-<app>-<env>…) differ from the other environment's",
          },
        ],
      );
    }
    throw new ConflictError(
      `network "${name}" exists but was not created by Pave for ${target.app}/${target.env} (it has no ` +
        `${LABELS.app} and ${LABELS.env} labels): nothing was deployed`,
      [
        {
          path: 'env',
          message: `remove it if nothing uses it (\`docker network rm ${name}\` or \`podman network rm ${name}\`), or give this environment another id`,
        },
      ],
    );
  }

  /**
   * Refuses (ConflictError) to deploy `workload` when a container that is not this container of this workload
   * of `target` holds one of the names its containers take: another environment's whose names run together
   * with these (`pave-<app>-<env>-<workload>-<container>`), another workload's, or one Pave did not create.
   * It is left as it is: removing it is for whoever knows what it is.
   */
  private async assertNamesAreFree(target: RuntimeTarget, workload: RenderedWorkload): Promise<void> {
    const docker = await this.engine();
    for (const container of workload.containers) {
      const name = containerName(target, workload.name, container.name);
      const info = await askAgainAfterExitRace(() => docker.getContainer(name).inspect()).catch(
        (error: unknown) =>
          statusCode(error) === 404 ? null : engineFailure(`inspecting container "${name}"`, error),
      );
      if (!info) continue;
      const labels = info.Config?.Labels ?? {};
      const owner = ownerOf(labels);
      const theirs = { workload: labels[LABELS.workload], container: labels[LABELS.container] };
      const env = `${target.app}/${target.env}`;
      if (owner === env && theirs.workload === workload.name && theirs.container === container.name) continue;
      const path = `workloads.${workload.name}`;
      if (owner && theirs.workload && theirs.container) {
        throw new ConflictError(
          `container "${name}" is container "${theirs.container}" of workload "${theirs.workload}" of ` +
            `${owner === env ? `this environment (${env})` : `environment ${owner}, not of ${env}`}: nothing was deployed`,
          [
            {
              path,
              message:
                'rename the workload (or its container), or give this environment another id, so that its ' +
                'container names (pave-<app>-<env>-<workload>-<container>) differ',
            },
          ],
        );
      }
      throw new ConflictError(
        `container "${name}" was not created by Pave for ${env} (its ${LABELS.app} and ${LABELS.env} labels ` +
          'do not name it): nothing was deployed',
        [
          {
            path,
            message: `remove it if nothing needs it (\`docker rm ${name}\` or \`podman rm ${name}\`), or rename the workload or its container`,
          },
        ],
      );
    }
  }

  /** Creates the environment's network, labelled for it, unless it exists and is its own; its name. */
  private async ensureNetwork(target: RuntimeTarget): Promise<string> {
    const docker = await this.engine();
    const name = networkName(target);
    if (await this.assertNetworkIsOwn(target)) return name;
    try {
      await docker.createNetwork({
        Name: name,
        CheckDuplicate: true,
        Labels: { [LABELS.app]: target.app, [LABELS.env]: target.env },
      });
    } catch (error) {
      // Another deployment of the same environment created it first (Docker: 409, Podman: 500); one of
      // another environment that has the same name is refused.
      if (!(await this.assertNetworkIsOwn(target))) engineFailure(`creating network "${name}"`, error);
    }
    return name;
  }

  /**
   * Renames the running version's containers out of the way of the new one (those under another name, left
   * by an interrupted deployment, already are), adding each to `retired` (renamed ones with `formerName`)
   * as it goes, so a failure part way can be undone.
   */
  private async retire(
    target: RuntimeTarget,
    records: ContainerRecord[],
    retired: ContainerRecord[],
  ): Promise<void> {
    const docker = await this.engine();
    for (const record of records) {
      if (record.name !== containerName(target, record.workload, record.container)) {
        retired.push(record);
        continue;
      }
      const name = joinedDnsLabel([record.name, 'old', record.id.slice(0, 8)]);
      await docker
        .getContainer(record.id)
        .rename({ name })
        .catch((error: unknown) => engineFailure(`renaming container "${record.name}"`, error));
      retired.push({ ...record, name, formerName: record.name });
    }
  }

  /** Gives retired containers their names back after a failed deployment. */
  private async reinstate(retired: ContainerRecord[], ctx: DriverContext): Promise<void> {
    const docker = await this.engine();
    for (const { id, name, formerName } of retired) {
      if (!formerName) continue;
      await docker
        .getContainer(id)
        .rename({ name: formerName })
        .catch((error: unknown) =>
          ctx.logger.warn('could not give a container of the running version its name back', {
            container: name,
            error: engineMessage(error),
          }),
        );
    }
  }

  /**
   * Stops (SIGTERM, then SIGKILL after `graceMs`) and removes containers; a workload's first container
   * last, since the others use its network namespace. Containers already gone are fine. Every container is
   * tried even when removing another fails (a failed deployment must not leave one running); then the first
   * failure is thrown.
   */
  private async removeContainers(records: ContainerRecord[], graceMs: number): Promise<void> {
    const versions = new Map<string, ContainerRecord[]>();
    for (const record of records) {
      const key = `${record.workload}/${record.hash}`;
      versions.set(key, [...(versions.get(key) ?? []), record]);
    }
    const removed = await Promise.allSettled(
      [...versions.values()].map(async (version) => {
        // Those that share another's network (labelled so) go first; before that label, all but the first by name.
        const labelled = version.some((record) => record.labels[LABELS.joins] !== undefined);
        const sorted = version.sort((a, b) => a.container.localeCompare(b.container));
        const others = labelled
          ? sorted.filter((record) => record.labels[LABELS.joins] !== undefined)
          : sorted.slice(1);
        const holders = sorted.filter((record) => !others.includes(record));
        const othersRemoved = await Promise.allSettled(
          others.map((record) => this.removeContainer(record, graceMs)),
        );
        const holdersRemoved = await Promise.allSettled(
          holders.map((record) => this.removeContainer(record, graceMs)),
        );
        throwFirstFailure(othersRemoved);
        throwFirstFailure(holdersRemoved);
      }),
    );
    throwFirstFailure(removed);
  }

  private async removeContainer(record: ContainerRecord, graceMs: number): Promise<void> {
    const docker = await this.engine();
    const container = docker.getContainer(record.id);
    if (graceMs > 0) {
      await container.stop({ t: Math.ceil(graceMs / 1000) }).catch(() => undefined); // remove decides
    }
    await container.remove({ force: true, v: true }).catch((error: unknown) => {
      if (statusCode(error) !== 404) engineFailure(`removing container "${record.name}"`, error);
    });
  }
}

/** `app/env` as Pave's labels on a network or container name its environment, or null when they name none. */
function ownerOf(labels: Record<string, string>): string | null {
  const app = labels[LABELS.app];
  const env = labels[LABELS.env];
  return app === undefined && env === undefined ? null : `${app ?? '?'}/${env ?? '?'}`;
}

/** Throws the reason of the first of `results` that failed, if one did. */
function throwFirstFailure(results: PromiseSettledResult<unknown>[]): void {
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Whether `current` is exactly `workload`'s version, with every container running (or restarting), or exited
 * for one that runs to completion (the deploy that started it waited for it to exit with code 0).
 */
function isUnchanged(current: ContainerRecord[], workload: RenderedWorkload): boolean {
  if (current.length !== workload.containers.length) return false;
  return workload.containers.every((container) =>
    current.some(
      (record) =>
        record.container === container.name &&
        record.hash === workload.hash &&
        (record.state === 'running' ||
          record.state === 'restarting' ||
          (record.state === 'exited' && record.labels[LABELS.completes] === 'true')),
    ),
  );
}

/** Whether a container that runs to completion (see LABELS.completes) did: it exited with code 0. */
function hasCompleted(record: ContainerRecord, info: Docker.ContainerInspectInfo): boolean {
  return (
    record.labels[LABELS.completes] === 'true' &&
    !info.State.Running &&
    info.State.Status === 'exited' &&
    info.State.ExitCode === 0 &&
    !info.State.OOMKilled
  );
}

function recordOf(id: string, name: string, labels: Record<string, string>, state: string): ContainerRecord {
  return {
    id,
    name,
    workload: labels[LABELS.workload] ?? '',
    container: labels[LABELS.container] ?? '',
    hash: labels[LABELS.hash] ?? '',
    deploymentId: labels[LABELS.deployment] ?? '',
    state,
    labels,
  };
}

/** Running now, neither restarting nor paused. */
function isRunning(info: Docker.ContainerInspectInfo): boolean {
  return info.State.Running && !info.State.Restarting && !info.State.Paused;
}

/** Exited or restarting: a container that did not keep running since its version started. */
function hasFailed(info: Docker.ContainerInspectInfo): boolean {
  return (
    info.State.Status === 'exited' ||
    info.State.Status === 'dead' ||
    info.State.Restarting ||
    info.RestartCount > 0
  );
}

function containerPhase(info: Docker.ContainerInspectInfo, now: number): ContainerPhase {
  const { State: state } = info;
  if (state.Restarting) return 'crash-looping';
  if (state.Running && !state.Paused) {
    const ranMs = now - (Date.parse(state.StartedAt) || now);
    return info.RestartCount > 0 && ranMs < CRASH_LOOP_WINDOW_MS ? 'crash-looping' : 'running';
  }
  if (state.Status === 'created' || state.Status === 'configured' || state.Status === 'initialized') {
    return 'starting';
  }
  // Podman shows a container it is about to restart as exited for a moment. Pave removes the containers it
  // stops, so an exited container under a restart policy is one the engine is restarting (FinishedAt is not
  // reliable for this: under load it can still hold the zero time).
  const restarts = (info.HostConfig?.RestartPolicy?.Name ?? 'no') !== 'no';
  const sinceExitMs = now - (Date.parse(state.FinishedAt) || 0);
  // Podman's Docker API passes its own in-between states through ('stopping', 'stopped') while it restarts.
  if (
    ['exited', 'stopping', 'stopped'].includes(state.Status) &&
    (restarts || (info.RestartCount > 0 && sinceExitMs < CRASH_LOOP_WINDOW_MS))
  ) {
    return 'crash-looping';
  }
  return 'stopped';
}

function describeExit(exit: ExitInfo): string {
  if (exit.oomKilled) return 'was killed for using more memory than its limit';
  return exit.code === null ? 'exited' : `exited with code ${exit.code}`;
}

/** The workload's published ports, named from the `dev.pave.ports` label where it matches a binding. */
function publishedPorts(snapshot: Snapshot): RenderedPort[] {
  // The container that holds the workload's network publishes them (the first by name, unless it joins another's).
  const first =
    snapshot.containers.find(({ info }) => Object.keys(info.HostConfig.PortBindings ?? {}).length > 0) ??
    snapshot.containers[0];
  if (!first) return [];
  const declared = parseLabel<RenderedPort[]>(first.record.labels[LABELS.ports]) ?? [];
  const ports: RenderedPort[] = [];
  for (const [key, bindings] of Object.entries(first.info.HostConfig.PortBindings ?? {})) {
    const [target = '', protocol = 'tcp'] = key.split('/');
    for (const binding of (bindings ?? []) as Array<{ HostPort?: string }>) {
      const hostPort = Number(binding.HostPort);
      const known = declared.find(
        (port) => portKey(port) === `${target}/${protocol}` && port.hostPort === hostPort,
      );
      ports.push(
        known ?? {
          name: key,
          port: Number(target),
          targetPort: Number(target),
          protocol: protocol === 'udp' ? 'UDP' : 'TCP',
          hostPort,
        },
      );
    }
  }
  return ports.sort((a, b) => a.name.localeCompare(b.name));
}

function parseLabel<T>(value: string | undefined): T | null {
  if (!value) return null;
  try {
    return JSON.parse(value) as T;
  } catch {
    return null;
  }
}

function toLogLine(record: ContainerRecord, line: TimedLine): LogLine {
  return {
    workload: record.workload,
    container: record.container,
    stream: line.stream,
    at: line.at,
    line: line.line,
  };
}

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** The engine's own words for a failed call (dockerode prefixes them with the HTTP status). */
function engineMessage(error: unknown): string {
  const { json, message } = error as { json?: { message?: string } | null; message?: string };
  return (json && typeof json === 'object' && json.message) || message || String(error);
}

/** How long a read waits before asking the engine again after it lost a race with an exiting process. */
const EXIT_RACE_RETRY_MS = [50, 200];

/**
 * Podman before 4.4 fails a read (listing or inspecting containers) with a 500 "read /proc/<pid>/cgroup: no such
 * process" when a container's process exits while it looks at it; a crash-looping container makes that common.
 * Asking again gets a consistent answer, so a read that failed that way is tried again (EXIT_RACE_RETRY_MS).
 * Only reads: they change nothing, so asking twice is harmless.
 */
async function askAgainAfterExitRace<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      const delay = EXIT_RACE_RETRY_MS[attempt];
      if (delay === undefined || !lostExitRace(error)) throw error;
      await sleep(delay);
    }
  }
}

function lostExitRace(error: unknown): boolean {
  return statusCode(error) === 500 && /\/proc\/\d+\/\S+: no such process/.test(engineMessage(error));
}

function engineFailure(what: string, error: unknown): never {
  throw new UpstreamError(`${what} failed: ${engineMessage(error)}`);
}

/** Log lines handed from follow streams to the `logs` generator; `next` is null once `signal` aborts. */
class LineQueue {
  private batches: LogLine[][] = [];
  private wake: (() => void) | null = null;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', () => this.wake?.(), { once: true });
  }

  push(lines: LogLine[]): void {
    this.batches.push(lines);
    this.wake?.();
  }

  async next(): Promise<LogLine[] | null> {
    while (this.batches.length === 0) {
      if (this.signal.aborted) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
    return this.signal.aborted ? null : (this.batches.shift() ?? null);
  }
}
