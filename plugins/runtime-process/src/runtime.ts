import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError, isDnsLabel, type FieldProblem } from '@pave/core';
import {
  directoryAccessProblem,
  grantToWorkload,
  isolatedCommand,
  searchablePath,
  isolationFor,
  sinceFilter,
  sleep,
  waitForReady,
  workloadKey,
  WorkloadLocks,
  type IsolatedCommand,
  type Isolation,
  type IsolationHost,
  type IsolationLevel,
} from '@pave/plugin-api';
import type {
  CheckFailure,
  DriverContext,
  LogLine,
  LogsOptions,
  ReadyResult,
  RenderedContainer,
  RenderedPort,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeTarget,
  UnprobedContainer,
  WaitReadyOptions,
  WorkloadShape,
  WorkloadStatus,
} from '@pave/plugin-api';
import { beforeProblems, runsToCompletion, startOrder, waitsFor, type BeforeReady } from '@pave/plugin-api';
import { containerEnvironment, inheritedEnvironment } from './environment.ts';
import { relativeFilePath, writeFiles } from './files.ts';
import { HostTimeout, SupervisorHostClient } from './host-client.ts';
import { environmentDir, hostPaths, runtimeRoot, workloadPaths, type WorkloadPaths } from './layout.ts';
import { byTime, listLogSources, LogCursor, tailLog, type SourcedLogLine } from './log-reader.ts';
import { probeOnce, type ProbeOutcome } from './probes.ts';
import { persistableCheck, readinessChecks, type ContainerCheck } from './readiness.ts';
import { isRunning, signalGroup, signalProcess, type ProcessIdentity } from './proc.ts';
import {
  describeExit,
  readJsonFile,
  writeJsonFile,
  type ContainerState,
  type RestartBackoff,
  type SupervisorConfig,
} from './state.ts';
import { assertValid, assertValidNames, shapeFailures } from './validation.ts';

/** Configuration of the process runtime. */
export interface ProcessRuntimeConfig {
  /** Pave's data directory; the runtime keeps everything under `<dataDir>/runtime/process/`. */
  dataDir: string;
  /** The bundled supervisor, `packages/cli/dist/process-supervisor.js` (run with this Node.js). */
  supervisorScript: string;
  /**
   * Longest `waitReady` waits even if `ctx.signal` does not abort, plus the stability window when a container
   * has no readiness probe; default: no limit of its own, the caller's signal ends the wait (Pave's carries the
   * deployment's `--timeout`). For tests and embedding, as are the three below: `pave up` leaves them unset
   * and no target setting changes them.
   */
  readyTimeoutMs?: number;
  /** Restarts of crashed processes; default 1 s doubling to 60 s, reset after a run of 10 s. */
  restartBackoff?: Partial<RestartBackoff>;
  /** Between SIGTERM and SIGKILL when a container is stopped; default 5 000 ms. */
  stopGraceMs?: number;
  /** A container log is rotated (one previous file kept) at this size; default 10 MiB. */
  maxLogBytes?: number;
  /**
   * What the host offers to isolate workloads (detectIsolationHost). Absent: no isolation, workloads run as
   * the control plane's user (only for tests and embedding; `pave up` always passes it).
   */
  isolationHost?: IsolationHost;
}

/** What the process runtime takes from its surroundings (replaceable in tests). */
export interface ProcessRuntimeDeps {
  /** Where PATH, HOME, LANG… for workloads come from (see INHERITED_VARIABLES); default `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
}

/** `workload.json`: the deployed version, without anything secret. */
interface WorkloadRecord {
  app: string;
  env: string;
  workload: string;
  hash: string;
  deploymentId: string;
  ports: RenderedPort[];
  deployedAt: string;
  /** `image` is recorded for people; this runtime does not use it. */
  containers: Array<{ name: string; image: string }>;
  /** Readiness checks that can be kept on disk (see persistableCheck). */
  readiness: ContainerCheck[];
  /** The isolation its processes run with. */
  isolation?: IsolationLevel;
  /** Directories in the data directory handed to the workload user (granted again after a restart). */
  granted?: string[];
}

/** `completed`: a container that runs to completion (Score's before) exited with code 0, as it should. */
type ContainerPhase = 'starting' | 'running' | 'crash-looping' | 'stopped' | 'completed';

/** One container as read from its state file and checked against /proc. */
interface ContainerView {
  name: string;
  phase: ContainerPhase;
  state: ContainerState | null;
}

interface Snapshot {
  paths: WorkloadPaths;
  record: WorkloadRecord;
  containers: ContainerView[];
}

const DEFAULT_BACKOFF: RestartBackoff = { initialMs: 1_000, maxMs: 60_000, resetAfterMs: 10_000 };
const DEFAULT_STOP_GRACE_MS = 5_000;
const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;
/** How long the supervisor host may take to start a container's process (not counting its own start). */
const SUPERVISOR_START_TIMEOUT_MS = 10_000;
/** Beyond the grace period, how long a stopping supervisor may take before its process group is killed. */
const SUPERVISOR_EXIT_MARGIN_MS = 5_000;
const POLL_MS = 200;
const LAST_LOG_LINES = 20;
const STATUS_PROBE_TIMEOUT_MS = 1_500;

/**
 * Runs each container of a workload as a local OS process, watched by the supervisor host of the data
 * directory (see supervisor/main.ts): one detached process, started on first need, that supervises every
 * container, restarts them with exponential backoff and keeps running while the control plane is down.
 * State, files and logs live under `<dataDir>/runtime/process/<app>/<env>/<workload>/`. The container
 * `image` is recorded but not used: a container must give `command`.
 */
export class ProcessRuntime implements RuntimeDriver {
  readonly name = 'process';
  private readonly backoff: RestartBackoff;
  private readonly hostEnv: NodeJS.ProcessEnv;
  /** Full readiness checks of workloads deployed by this instance: they may hold secrets, so never on disk. */
  private readonly checks = new Map<string, { hash: string; checks: ContainerCheck[] }>();
  private readonly locks = new WorkloadLocks();
  private readonly host: SupervisorHostClient;

  constructor(
    private readonly config: ProcessRuntimeConfig,
    deps: ProcessRuntimeDeps = {},
  ) {
    this.backoff = { ...DEFAULT_BACKOFF, ...config.restartBackoff };
    this.hostEnv = deps.hostEnv ?? process.env;
    this.host = new SupervisorHostClient({
      paths: hostPaths(config.dataDir),
      supervisorScript: config.supervisorScript,
      env: inheritedEnvironment(this.hostEnv),
    });
  }

  /** The process runtime for `config`; nothing is started or read until it is used. */
  static fromConfig(config: ProcessRuntimeConfig, deps?: ProcessRuntimeDeps): ProcessRuntime {
    return new ProcessRuntime(config, deps);
  }

  /**
   * This runtime with workloads deployed at isolation `level` (default: the configured one), for a process
   * target's `isolation` setting. Everything but `deploy` is the same runtime.
   */
  isolated(level: IsolationLevel | undefined): RuntimeDriver {
    return new IsolatedProcessRuntime(this, level);
  }

  /** A container without `command` cannot run here: a process cannot run an image's entrypoint. */
  check(workload: WorkloadShape): CheckFailure[] {
    return shapeFailures(workload);
  }

  /**
   * Starts `workload`'s containers under the supervisor host (started if none runs), after stopping the version that ran
   * before; keeps the running version untouched when its hash is the same. Containers start in Score's `before`
   * order: one that others wait for starts first, and they start once it is what they wait for (started;
   * healthy: its readiness probe, else its liveness probe, passes; complete: its process exited with code 0,
   * and it is then not restarted). Resolves once every process has been started (not when ready). Rejects,
   * naming the container, its exit and its last log lines, when one others wait for exits otherwise (or
   * `ctx.signal` aborts first), stopping what started. Rejects with InputError (listing every problem) for a
   * workload this runtime cannot run, e.g. a container without `command`, a `before` naming no container of
   * it, a working directory the workload user cannot read, or an isolation level the host cannot give; if it
   * rejects, none of the new processes runs. Runs them at the strongest isolation the host offers; a target
   * chooses its own level through `isolated`.
   */
  async deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void> {
    return this.deployIsolated(target, workload, ctx, undefined);
  }

  /** `deploy` at isolation `level` (see isolated()). */
  async deployIsolated(
    target: RuntimeTarget,
    workload: RenderedWorkload,
    ctx: DriverContext,
    level: IsolationLevel | undefined,
  ): Promise<void> {
    assertValid(target, workload);
    const order = beforeProblems(workload.containers, 'containers');
    if (order.length > 0) {
      throw new InputError(
        `workload "${workload.name}" cannot start: ${order.map((problem) => problem.message).join('; ')}`,
        order,
      );
    }
    const isolation = this.isolationOf(level);
    const problems: FieldProblem[] = workload.containers.flatMap((container) => {
      const problem = directoryAccessProblem(isolation, container.workingDir);
      return [
        ...(problem ? [{ path: `containers.${container.name}.workingDir`, message: problem }] : []),
        ...hiddenDirectoryProblems(isolation, this.config.dataDir, target, container),
      ];
    });
    if (problems.length > 0) {
      throw new InputError(
        `workload "${workload.name}" cannot run with isolation "${isolation.level}": ${problems.map((problem) => problem.message).join('; ')}`,
        problems,
      );
    }
    warnOfScorePaths(workload, ctx);
    warnOfLivenessProbes(workload, ctx);
    await this.locks.run(target, workload.name, async () => {
      const paths = this.paths(target, workload.name);
      const current = this.snapshot(target, workload.name);
      const log = { app: target.app, env: target.env, workload: workload.name, hash: workload.hash };
      if (
        current?.record.hash === workload.hash &&
        (current.record.isolation ?? 'none') === isolation.level &&
        current.containers.every((container) => container.phase !== 'stopped')
      ) {
        this.remember(target, workload, paths, isolation);
        ctx.logger.info('workload unchanged: keeping its running processes', log);
        return;
      }
      await this.stopWorkload(paths, ctx);
      await rm(paths.stateDir, { recursive: true, force: true });
      await rm(paths.filesDir, { recursive: true, force: true });
      await rm(paths.homeDir, { recursive: true, force: true });
      await mkdir(paths.logsDir, { recursive: true, mode: 0o700 });
      const granted: string[] = [];
      for (const container of workload.containers) {
        await writeFiles(paths.files(container.name), container.files);
        granted.push(paths.files(container.name));
        if (isolation.identity) {
          await mkdir(paths.home(container.name), { recursive: true, mode: 0o700 });
          granted.push(paths.home(container.name));
        }
        for (const volume of volumesOf(container)) {
          if (isInside(this.config.dataDir, volume.path)) granted.push(volume.path);
        }
      }
      for (const path of new Set(granted)) grantToWorkload(isolation, path, this.config.dataDir);
      const checks = this.remember(target, workload, paths, isolation);
      const record: WorkloadRecord = {
        app: target.app,
        env: target.env,
        workload: workload.name,
        hash: workload.hash,
        deploymentId: workload.deploymentId,
        ports: workload.ports,
        deployedAt: new Date().toISOString(),
        containers: workload.containers.map((container) => ({
          name: container.name,
          image: container.image,
        })),
        readiness: checks.map((check) => persistableCheck(check, workload.ports)),
        isolation: isolation.level,
        granted: [...new Set(granted)],
      };
      writeJsonFile(paths.record, record);
      try {
        const waited = new Map<string, Promise<void>>();
        for (const container of startOrder(workload.containers)) {
          ctx.signal.throwIfAborted();
          for (const { container: earlier, ready } of waitsFor(workload.containers, container.name)) {
            const key = `${earlier.name}/${ready}`;
            if (!waited.has(key)) {
              waited.set(
                key,
                this.awaitBefore(target, workload, earlier, ready, container.name, { paths, isolation }, ctx),
              );
            }
            await waited.get(key);
          }
          const supervisor = await this.startSupervisor(target, workload, container, paths, isolation);
          ctx.logger.info('started container', {
            ...log,
            container: container.name,
            supervisor: supervisor.pid,
          });
        }
      } catch (error) {
        // Nothing of the new version may keep running: stop the containers that did start, and forget the
        // version (its logs stay) so status does not list a workload that never ran.
        this.checks.delete(workloadKey(target, workload.name));
        await this.stopWorkload(paths, ctx);
        await rm(paths.record, { force: true });
        await rm(paths.stateDir, { recursive: true, force: true });
        throw error;
      }
    });
  }

  /**
   * Waits until `workload` is ready: every process runs and its containers' readiness probes pass (httpGet:
   * a 2xx/3xx answer; exec: exit code 0); without probes, its first port accepts connections. A container
   * without a probe must also have kept running `options.stableMs` (default DEFAULT_STABLE_MS) since it
   * last started. Not ready when a process exits before that (`container "main" exited with code 3`, with
   * its exit code or signal and the last lines the deployed version logged), or when `ctx.signal` aborts or
   * `readyTimeoutMs` (if set) passes ("timed out after …").
   */
  async waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options: WaitReadyOptions = {},
  ): Promise<ReadyResult> {
    assertValidNames(target, workload);
    const timeoutMs = this.config.readyTimeoutMs;
    return waitForReady(
      workload,
      { signal: ctx.signal, timeoutMs, pollMs: POLL_MS, stableMs: options.stableMs },
      {
        snapshot: () => this.snapshot(target, workload),
        before: async (snapshot) => {
          const stopped = snapshot.containers.find((container) => container.phase === 'stopped');
          if (!stopped) return null;
          const lastExit = stopped.state?.lastExit;
          return {
            ready: false,
            reason: `container "${stopped.name}" is stopped${lastExit ? ` (it ${describeExit(lastExit)})` : ''}`,
            lastLogs: await this.lastLogs(snapshot, [stopped.name]),
          };
        },
        probe: (snapshot, signal) => this.evaluateReadiness(target, snapshot, signal),
        unprobed: (snapshot) => this.unprobed(target, snapshot),
        failed: async (snapshot) => {
          const exited = snapshot.containers
            .filter((container) => container.state?.lastExit && container.phase !== 'completed')
            .sort((a, b) => ((a.state?.lastExit?.at ?? '') < (b.state?.lastExit?.at ?? '') ? 1 : -1))[0];
          const lastExit = exited?.state?.lastExit;
          if (!exited || !lastExit) return null;
          return {
            ready: false,
            reason: `container "${exited.name}" ${describeExit(lastExit)}`,
            lastLogs: await this.lastLogs(snapshot, [exited.name]),
          };
        },
        lastLogs: (snapshot) => this.lastLogs(snapshot, null),
      },
    );
  }

  /**
   * Stops `workload` (every process of its containers, waiting until they are gone) and deletes its runtime
   * directory except `logs/`, so its logs can still be read. Succeeds if the workload is not there.
   */
  async remove(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<void> {
    assertValidNames(target, workload);
    await this.locks.run(target, workload, async () => {
      const paths = this.paths(target, workload);
      await this.stopWorkload(paths, ctx);
      this.checks.delete(workloadKey(target, workload));
      for (const entry of await readdir(paths.dir).catch(() => [] as string[])) {
        if (entry !== 'logs') await rm(join(paths.dir, entry), { recursive: true, force: true });
      }
      await rmdir(paths.dir).catch(() => undefined); // only if no logs were kept
    });
  }

  /**
   * Every workload of `target` the runtime has a record of, sorted by name: `stopped` when its supervisors
   * are gone (a live pid with another start time is a stranger, not ours), `crash-looping` while a process
   * is waiting to restart or has not yet run 10 s since it last failed, `starting`, then `ready` when one
   * readiness check passes right now, else `running`. Changes nothing.
   */
  async status(target: RuntimeTarget, _ctx: DriverContext): Promise<WorkloadStatus[]> {
    assertValidNames(target);
    const names = await this.workloadNames(target);
    const statuses = await Promise.all(names.map((name) => this.workloadStatus(target, name)));
    return statuses.filter((status): status is WorkloadStatus => status !== null);
  }

  /** Stops every workload of `target` and deletes its runtime directory, logs included. Idempotent. */
  async destroy(target: RuntimeTarget, ctx: DriverContext): Promise<void> {
    assertValidNames(target);
    const dir = environmentDir(this.config.dataDir, target);
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.map((name) =>
        this.locks.run(target, name, async () => {
          await this.stopWorkload(this.paths(target, name), ctx);
          this.checks.delete(workloadKey(target, name));
        }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
    await rmdir(dirname(dir)).catch(() => undefined); // the app's directory, once its last environment is gone
  }

  /**
   * Takes stock after a control-plane start, of every workload of this runtime whatever its target (every
   * process target is a view of this runtime, see isolated(): the control plane asks this once). The
   * supervisor host keeps running on its own, so a container whose supervisor is alive (pid and start time
   * match) needs nothing; a container whose supervisor is gone (the host was killed) is recorded as stopped,
   * and a process it left behind (verified the same way) is killed, since nothing would restart or log it.
   */
  async adopt(ctx: DriverContext): Promise<void> {
    let adopted = 0;
    let stopped = 0;
    for (const paths of await this.allWorkloads()) {
      this.grantAgain(paths, ctx);
      for (const file of await readdir(paths.stateDir).catch(() => [] as string[])) {
        if (!file.endsWith('.json')) continue;
        const stateFile = join(paths.stateDir, file);
        const state = readJsonFile<ContainerState>(stateFile);
        if (!state || state.status === 'stopped' || state.status === 'exited') continue;
        if (isRunning(state.supervisor)) {
          adopted += 1;
          continue;
        }
        if (state.child && isRunning(state.child)) {
          ctx.logger.warn('stopping a process whose supervisor is gone', {
            workload: state.workload,
            container: state.container,
            pid: state.child.pid,
          });
          await killGroup(state.child);
        }
        writeJsonFile(stateFile, {
          ...state,
          status: 'stopped',
          child: null,
          updatedAt: new Date().toISOString(),
        });
        stopped += 1;
      }
    }
    ctx.logger.info('adopted running containers', { adopted, stopped });
  }

  /**
   * The last `tail` (default 100) lines since `since` of each container of `workload` (or of every
   * workload of `target`), merged in time order; with `follow`, then the lines appended after, as they come,
   * until `ctx.signal` aborts. Logs of a removed workload can still be read (remove keeps them).
   */
  async *logs(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine> {
    assertValidNames(target, options.workload);
    const dir = environmentDir(this.config.dataDir, target);
    const workloads = options.workload ? [options.workload] : null;
    const cursors = new Map<string, LogCursor>();
    const initial: SourcedLogLine[] = [];
    // A file's lines are in time order, so the last `tail` lines since `since` are the last `tail` read
    // with the older ones dropped.
    const recent = sinceFilter(options.since);
    for (const source of await listLogSources(dir, workloads)) {
      const { cursor, end } = await LogCursor.atEnd(source);
      cursors.set(source.path, cursor);
      initial.push(...(await tailLog(source, options.tail ?? 100, end)).filter(recent));
    }
    for (const line of byTime(initial)) yield toLogLine(line);
    if (!options.follow) return;
    while (await sleep(POLL_MS, ctx.signal)) {
      for (const source of await listLogSources(dir, workloads)) {
        if (!cursors.has(source.path)) cursors.set(source.path, LogCursor.atStart(source));
      }
      const batch: SourcedLogLine[] = [];
      for (const cursor of cursors.values()) batch.push(...(await cursor.readNew()).filter(recent));
      for (const line of byTime(batch)) {
        // Aborted while the caller took the lines before it: the rest of the batch is not its.
        if (ctx.signal.aborted) return;
        yield toLogLine(line);
      }
    }
  }

  /** The isolation for `level` (default: the strongest the host offers); InputError when the host lacks it. */
  private isolationOf(level: IsolationLevel | undefined): Isolation {
    const host = this.config.isolationHost;
    if (!host) {
      if (level && level !== 'none') {
        throw new InputError(
          `isolation "${level}" is not available: this process runtime runs without isolation`,
          [{ path: 'isolation', message: 'choose "none", or run the runtime with an isolation host' }],
        );
      }
      return { level: 'none', identity: null, bwrap: null, setpriv: null, hidden: [] };
    }
    return isolationFor(host, level, 'runtime target config.isolation');
  }

  /**
   * A running workload at level user lost its way through the data directory when the control plane
   * restarted (it makes the data directory owner-only again): hand its directories back.
   */
  private grantAgain(paths: WorkloadPaths, ctx: DriverContext): void {
    const record = readJsonFile<WorkloadRecord>(paths.record);
    if (record?.isolation !== 'user' || !record.granted) return;
    try {
      const isolation = this.isolationOf('user');
      for (const path of record.granted) grantToWorkload(isolation, path, this.config.dataDir);
    } catch (error) {
      ctx.logger.warn('cannot give a running workload its directories back', {
        workload: record.workload,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private paths(target: RuntimeTarget, workload: string): WorkloadPaths {
    return workloadPaths(this.config.dataDir, target, workload);
  }

  /** Keeps `workload`'s full readiness checks in memory and returns them. */
  private remember(
    target: RuntimeTarget,
    workload: RenderedWorkload,
    paths: WorkloadPaths,
    isolation: Isolation,
  ): ContainerCheck[] {
    // A container that runs to completion is done rather than ready: its probes are not run.
    const lasting = {
      ...workload,
      containers: workload.containers.map((container) =>
        runsToCompletion(container)
          ? { ...container, readinessProbe: undefined, livenessProbe: undefined }
          : container,
      ),
    };
    const checks = readinessChecks(
      lasting,
      (container) => this.environmentOf(workload, container, paths, isolation),
      (container, argv) => this.commandOf(container, argv, paths, isolation),
    );
    this.checks.set(workloadKey(target, workload.name), { hash: workload.hash, checks });
    return checks;
  }

  private environmentOf(
    workload: RenderedWorkload,
    container: RenderedContainer,
    paths: WorkloadPaths,
    isolation: Isolation,
  ): Record<string, string> {
    const identity = isolation.identity;
    return containerEnvironment({
      hostEnv: identity
        ? {
            ...this.hostEnv,
            USER: identity.user,
            LOGNAME: identity.user,
            HOME: paths.home(container.name),
            ...(this.hostEnv.PATH !== undefined
              ? { PATH: searchablePath(isolation, this.hostEnv.PATH) }
              : {}),
          }
        : this.hostEnv,
      ports: workload.ports,
      filesDir: paths.files(container.name),
      env: container.env,
    });
  }

  /** `argv` run for `container` with `isolation`: its working, files, home and volume directories usable. */
  private commandOf(
    container: RenderedContainer,
    argv: string[],
    paths: WorkloadPaths,
    isolation: Isolation,
  ): IsolatedCommand {
    const volumes = volumesOf(container);
    return isolatedCommand(isolation, {
      argv,
      cwd: container.workingDir,
      writable: [
        paths.files(container.name),
        ...(isolation.identity ? [paths.home(container.name)] : []),
        ...volumes.filter((volume) => !volume.readOnly).map((volume) => volume.path),
      ],
      readOnly: volumes.filter((volume) => volume.readOnly).map((volume) => volume.path),
    });
  }

  /**
   * Waits until `earlier`, started, is what `later` waits for (Score's before): `healthy` (its readiness probe,
   * else its liveness probe, passes) or `complete` (its process exited with code 0); `started` it already is.
   * Rejects naming it, how it ended and its last log lines when it exits otherwise (or, waiting for healthy, at
   * all) or is stopped, and when `ctx.signal` aborts first.
   */
  private async awaitBefore(
    target: RuntimeTarget,
    workload: RenderedWorkload,
    earlier: RenderedContainer,
    ready: BeforeReady,
    later: string,
    run: { paths: WorkloadPaths; isolation: Isolation },
    ctx: DriverContext,
  ): Promise<void> {
    if (ready === 'started') return;
    const { paths, isolation } = run;
    const waits = `container "${later}" waits for it to ${ready === 'complete' ? 'complete' : 'be healthy'} (Score's before)`;
    const failure = async (what: string) => {
      const snapshot = this.snapshot(target, workload.name);
      const lines = snapshot ? await this.lastLogs(snapshot, [earlier.name]) : [];
      const logs = lines.length ? `\nlast log lines:\n${lines.join('\n')}` : '';
      return new Error(`container "${earlier.name}" ${what}: ${waits}${logs}`);
    };
    // Healthy: its readiness probe, else its liveness probe, as a readiness check of its own.
    const probe = earlier.readinessProbe ?? earlier.livenessProbe;
    const check =
      ready === 'healthy' && probe
        ? readinessChecks(
            { ...workload, containers: [{ ...earlier, readinessProbe: probe }] },
            (container) => this.environmentOf(workload, container, paths, isolation),
            (container, argv) => this.commandOf(container, argv, paths, isolation),
          ).find((entry) => entry.container === earlier.name)?.check
        : undefined;
    let detail = 'its probe has not run yet';
    for (;;) {
      const state = readJsonFile<ContainerState>(paths.state(earlier.name));
      const exit = state?.lastExit;
      if (state?.status === 'exited' || (ready === 'healthy' && exit)) {
        if (ready === 'complete' && exit?.code === 0 && !exit.signal && !exit.error) return;
        throw await failure(exit ? describeExit(exit) : 'ended');
      }
      if (!state || state.status === 'stopped' || !isRunning(state.supervisor)) {
        throw await failure('was stopped');
      }
      if (check && check.kind !== 'running' && state.status === 'running') {
        const outcome = await probeOnce(check, ctx.signal);
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
   * Has the supervisor host start one container (starting the host first if none runs) and waits until it
   * has started the process (or failed to); resolves with the host's identity.
   */
  private async startSupervisor(
    target: RuntimeTarget,
    workload: RenderedWorkload,
    container: RenderedContainer,
    paths: WorkloadPaths,
    isolation: Isolation,
  ): Promise<ProcessIdentity> {
    const command = this.commandOf(
      container,
      [...(container.command ?? []), ...(container.args ?? [])],
      paths,
      isolation,
    );
    const config: SupervisorConfig = {
      app: target.app,
      env: target.env,
      workload: workload.name,
      container: container.name,
      hash: workload.hash,
      deploymentId: workload.deploymentId,
      ports: workload.ports,
      argv: [command.file, ...command.args],
      cwd: command.cwd,
      ...(command.uid !== undefined ? { uid: command.uid } : {}),
      ...(command.gid !== undefined ? { gid: command.gid } : {}),
      environment: this.environmentOf(workload, container, paths, isolation),
      logFile: paths.log(container.name),
      eventLogFile: paths.eventLog(container.name),
      stateFile: paths.state(container.name),
      maxLogBytes: this.config.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES,
      stopGraceMs: this.config.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
      backoff: this.backoff,
      ...(runsToCompletion(container) ? { runToCompletion: true } : {}),
    };
    // The configuration (environment included) crosses the host's socket only.
    const reply = await this.host.send({ type: 'start', config }, SUPERVISOR_START_TIMEOUT_MS);
    if (!reply.ok || !reply.host || !reply.state) {
      throw new Error(
        `the supervisor did not start container "${container.name}" (${reply.error ?? 'no state in its answer'}); ` +
          `see ${hostPaths(this.config.dataDir).log}`,
      );
    }
    if (config.runToCompletion && reply.runsToCompletion !== true) {
      // The caller stops what started; an older host would restart the container each time it completes.
      throw new Error(
        `the process runtime's supervisor host (pid ${reply.host.pid}) was started by an older Pave and ` +
          `cannot run container "${container.name}" to completion (Score's before): stop the process ` +
          'workloads (`pave down`), start Pave again and deploy again, so that a new host supervises them',
      );
    }
    const state = reply.state;
    // A command that cannot be spawned at all (missing, not executable) would only be retried: the deploy
    // rejects instead, and its caller stops the container.
    if (state.status !== 'running' && state.lastExit?.error) {
      throw new Error(
        `container "${container.name}" could not start: ${state.lastExit.error}; check its command ` +
          `(${JSON.stringify(config.argv[0])}) exists in ${config.cwd} or on PATH and is executable`,
      );
    }
    return reply.host;
  }

  /** Stops every container with a state file in `paths` and waits until their processes are gone. */
  private async stopWorkload(paths: WorkloadPaths, ctx: DriverContext): Promise<void> {
    const files = await readdir(paths.stateDir).catch(() => [] as string[]);
    await Promise.all(
      files
        .filter((file) => file.endsWith('.json'))
        .map(async (file) => {
          const state = readJsonFile<ContainerState>(join(paths.stateDir, file));
          if (state) await this.stopContainer(state, ctx);
        }),
    );
  }

  /**
   * Stops one container: asks the supervisor host to stop it and waits until its process group is gone. A
   * live supervisor that the host is not (one per container, from an earlier Pave) or that does not answer on
   * the socket is stopped with SIGTERM as before, and killed if it does not exit in time. Whatever is left of
   * the process group afterwards (its supervisor was killed) is killed.
   */
  private async stopContainer(state: ContainerState, ctx: DriverContext): Promise<void> {
    const grace = this.config.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    const stateFile = this.stateFileOf(state);
    let signal = isRunning(state.supervisor) && state.status !== 'stopped' && state.status !== 'exited';
    if (signal) {
      try {
        const reply = await this.host.request(
          { type: 'stop', stateFile, graceMs: grace, reason: 'stop requested by the runtime' },
          grace + SUPERVISOR_EXIT_MARGIN_MS,
        );
        signal = reply.host?.pid !== state.supervisor.pid;
      } catch (error) {
        if (error instanceof HostTimeout) {
          // The host keeps it stopped (it will not restart a stopping container): end its group here.
          ctx.logger.warn('supervisor did not stop the container in time: killing its processes', {
            workload: state.workload,
            container: state.container,
          });
          signal = false;
        }
      }
    }
    if (signal) {
      signalProcess(state.supervisor.pid, 'SIGTERM');
      if (!(await until(() => !isRunning(state.supervisor), grace + SUPERVISOR_EXIT_MARGIN_MS))) {
        ctx.logger.warn('supervisor did not stop in time: killing it', {
          workload: state.workload,
          container: state.container,
          pid: state.supervisor.pid,
        });
        signalProcess(state.supervisor.pid, 'SIGKILL');
        await until(() => !isRunning(state.supervisor), SUPERVISOR_EXIT_MARGIN_MS);
      }
    }
    // The supervisor stops its process group; this covers a supervisor that was killed.
    const child = readJsonFile<ContainerState>(stateFile)?.child ?? state.child;
    if (child && isRunning(child)) await killGroup(child);
  }

  private stateFileOf(state: ContainerState): string {
    return this.paths(state, state.workload).state(state.container);
  }

  /** The record and container states of `workload`, or null if it has no record. */
  private snapshot(target: RuntimeTarget, workload: string): Snapshot | null {
    const paths = this.paths(target, workload);
    const record = readJsonFile<WorkloadRecord>(paths.record);
    if (!record) return null;
    const now = Date.now();
    const containers = record.containers.map(({ name }) => {
      const state = readJsonFile<ContainerState>(paths.state(name));
      return { name, state, phase: containerPhase(state, now) };
    });
    return { paths, record, containers };
  }

  private async workloadStatus(target: RuntimeTarget, workload: string): Promise<WorkloadStatus | null> {
    const snapshot = this.snapshot(target, workload);
    if (!snapshot) return null;
    const { record, containers } = snapshot;
    // The first phase in this order that a container is in decides; its container explains why.
    const decisive = (['stopped', 'crash-looping', 'starting'] as const)
      .map((phase) => {
        const found = containers.find((container) => container.phase === phase);
        return found && { ...found, phase };
      })
      .find((container) => container !== undefined);
    let state: WorkloadStatus['state'];
    let detail: string | undefined;
    if (decisive) {
      state = decisive.phase;
      detail = describeContainer(decisive);
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
      workload,
      state,
      restarts: containers.reduce((sum, container) => sum + (container.state?.restarts ?? 0), 0),
      hash: record.hash,
      deploymentId: record.deploymentId,
      ports: record.ports,
      containers: containers.map((container) => ({
        name: container.name,
        state: container.phase,
        ...(container.phase !== 'stopped' && container.phase !== 'completed' && container.state?.child
          ? { pid: container.state.child.pid }
          : {}),
        restarts: container.state?.restarts ?? 0,
        ...(container.state?.lastExit
          ? { lastExit: `${describeExit(container.state.lastExit)} at ${container.state.lastExit.at}` }
          : {}),
      })),
      ...(detail ? { detail } : {}),
    };
  }

  /** One round of readiness checks; every container must also have a running process. */
  private async evaluateReadiness(
    target: RuntimeTarget,
    snapshot: Snapshot,
    signal: AbortSignal,
  ): Promise<ProbeOutcome> {
    for (const container of snapshot.containers) {
      const state = container.state;
      if (container.phase === 'completed') continue;
      if (container.phase !== 'running' || state?.status !== 'running' || !isRunning(state.child)) {
        return { ok: false, detail: `container "${container.name}" is not running` };
      }
    }
    for (const { check } of this.checksOf(target, snapshot)) {
      if (check.kind === 'running') continue;
      const outcome = await probeOnce(check, signal);
      if (!outcome.ok) return outcome;
    }
    return { ok: true, detail: 'ready' };
  }

  /** The readiness checks of the running version: those it was deployed with, else those on disk. */
  private checksOf(target: RuntimeTarget, snapshot: Snapshot): ContainerCheck[] {
    const remembered = this.checks.get(workloadKey(target, snapshot.record.workload));
    return remembered?.hash === snapshot.record.hash ? remembered.checks : (snapshot.record.readiness ?? []);
  }

  /** The containers without a readiness probe of their own, with when their process started. */
  private unprobed(target: RuntimeTarget, snapshot: Snapshot): UnprobedContainer[] {
    const probed = new Set(this.checksOf(target, snapshot).map((entry) => entry.container));
    return snapshot.containers
      .filter((container) => !probed.has(container.name) && container.phase !== 'completed')
      .map((container) => ({
        name: container.name,
        runningSinceMs:
          container.state?.child && container.state.childStartedAt
            ? Date.parse(container.state.childStartedAt)
            : null,
      }));
  }

  /**
   * The last log lines of `containers` (null: all) for a ReadyResult, prefixed when there are several: only
   * those of the deployed version. A container's log file keeps the output of every version before it (for
   * `logs`), and those lines would blame a failure on another deployment's output.
   */
  private async lastLogs(snapshot: Snapshot, containers: string[] | null): Promise<string[]> {
    const lines: SourcedLogLine[] = [];
    for (const { name, state } of snapshot.containers) {
      if (containers && !containers.includes(name)) continue;
      // The supervisor host stamps each line and the version's start with one clock, and the version before
      // was stopped, its log closed, before this one started: its lines are all older than `startedAt`.
      const since = state?.startedAt;
      if (!since) continue; // this version has not started it: nothing in the file is its
      const source = { workload: snapshot.record.workload, container: name, path: snapshot.paths.log(name) };
      lines.push(...(await tailLog(source, LAST_LOG_LINES)).filter((line) => line.at >= since));
    }
    const prefix = snapshot.record.containers.length > 1;
    return byTime(lines)
      .slice(-LAST_LOG_LINES)
      .map((line) => (prefix ? `${line.container}: ${line.line}` : line.line));
  }

  private async workloadNames(target: RuntimeTarget): Promise<string[]> {
    const dir = environmentDir(this.config.dataDir, target);
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((name) => isDnsLabel(name)).sort();
  }

  /** The paths of every workload directory under the runtime root. */
  private async allWorkloads(): Promise<WorkloadPaths[]> {
    const root = runtimeRoot(this.config.dataDir);
    const result: WorkloadPaths[] = [];
    for (const app of await readdir(root).catch(() => [] as string[])) {
      for (const env of await readdir(join(root, app)).catch(() => [] as string[])) {
        for (const workload of await readdir(join(root, app, env)).catch(() => [] as string[])) {
          result.push(this.paths({ app, env }, workload));
        }
      }
    }
    return result;
  }
}

/** A process runtime whose `deploy` uses one isolation level; see ProcessRuntime.isolated. */
class IsolatedProcessRuntime implements RuntimeDriver {
  readonly name = 'process';

  constructor(
    private readonly runtime: ProcessRuntime,
    private readonly level: IsolationLevel | undefined,
  ) {}

  /** The runtime this is a view of: its `adopt` is asked once, however many process targets there are. */
  get viewOf(): RuntimeDriver {
    return this.runtime;
  }

  deploy(target: RuntimeTarget, workload: RenderedWorkload, ctx: DriverContext): Promise<void> {
    return this.runtime.deployIsolated(target, workload, ctx, this.level);
  }
  check(workload: WorkloadShape): CheckFailure[] {
    return this.runtime.check(workload);
  }
  waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    options?: WaitReadyOptions,
  ): Promise<ReadyResult> {
    return this.runtime.waitReady(target, workload, ctx, options);
  }
  remove(target: RuntimeTarget, workload: string, ctx: DriverContext): Promise<void> {
    return this.runtime.remove(target, workload, ctx);
  }
  status(target: RuntimeTarget, ctx: DriverContext): Promise<WorkloadStatus[]> {
    return this.runtime.status(target, ctx);
  }
  destroy(target: RuntimeTarget, ctx: DriverContext): Promise<void> {
    return this.runtime.destroy(target, ctx);
  }
  adopt(ctx: DriverContext): Promise<void> {
    return this.runtime.adopt(ctx);
  }
  logs(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine> {
    return this.runtime.logs(target, options, ctx);
  }
}

/**
 * A process has no root file system of its own: a container's files are under `$PAVE_FILES_DIR` and its volumes
 * at their host directories, not at their Score targets. Says so, once per container that has any, naming each
 * target and where the process finds it instead (the deployment's journal shows a runtime's warnings).
 */
function warnOfScorePaths(workload: RenderedWorkload, ctx: DriverContext): void {
  for (const container of workload.containers) {
    const places = [
      ...container.files.flatMap((file) => {
        const inside = relativeFilePath(file.target);
        return inside === null ? [] : [`file /${inside} is at $PAVE_FILES_DIR/${inside}`];
      }),
      ...(container.volumes ?? []).map((volume) => {
        const source = volume.path ? join(volume.source, volume.path) : volume.source;
        return `volume ${volume.target} is at ${source}`;
      }),
    ];
    if (places.length === 0) continue;
    ctx.logger.warn(
      `container "${container.name}" of ${workload.name}: the process runtime does not place files and volumes ` +
        `at their Score targets: ${places.join('; ')}`,
      { workload: workload.name, container: container.name },
    );
  }
}

/**
 * A process runtime runs readiness probes only: a container's liveness probe is never run, so a process that
 * hangs is not restarted. Says so, once per container that has one (the deployment's journal shows a runtime's
 * warnings).
 */
function warnOfLivenessProbes(workload: RenderedWorkload, ctx: DriverContext): void {
  for (const container of workload.containers) {
    if (!container.livenessProbe) continue;
    ctx.logger.warn(
      `container "${container.name}" of ${workload.name}: the process runtime does not run liveness probes: ` +
        'its livenessProbe is ignored, so a process that hangs is not restarted (one that exits is); the ' +
        'kubernetes runtime runs it',
      { workload: workload.name, container: container.name },
    );
  }
}

/**
 * What a container would show of the directories its isolation hides (Pave's data directory): it may not run
 * in one of them, nor mount a volume inside one unless it is one of this environment's own volume-dir volumes
 * (`<dataDir>/volumes/<app>/<env>/…`). The control plane only hands over volumes Pave provisioned for the
 * environment; this keeps a bind from exposing the rest (the master key, other environments' volumes) whatever
 * reaches the runtime.
 */
function hiddenDirectoryProblems(
  isolation: Isolation,
  dataDir: string,
  target: RuntimeTarget,
  container: RenderedContainer,
): FieldProblem[] {
  if (isolation.level === 'none') return [];
  // Where each path really is: a symbolic link (one a workload made in its own directory, say) is bound as
  // what it points to.
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const hidden = isolation.hidden.map(real);
  const within = (path: string) => {
    const target = real(path);
    return hidden.find((dir) => target === dir || isInside(dir, target));
  };
  const problems: FieldProblem[] = [];
  const where = `containers.${container.name}`;
  const cwdIn = within(container.workingDir);
  if (cwdIn) {
    problems.push({
      path: `${where}.workingDir`,
      message:
        `${resolve(container.workingDir)} is inside ${cwdIn}, which workloads may not see (Pave's data ` +
        'directory): deploy from a directory outside it',
    });
  }
  const ownVolumes = join(real(dataDir), 'volumes', target.app, target.env);
  (container.volumes ?? []).forEach((volume, index) => {
    const path = volume.path ? join(volume.source, volume.path) : volume.source;
    const volumeIn = within(path);
    if (volumeIn && !isInside(ownVolumes, real(path))) {
      problems.push({
        path: `${where}.volumes[${index}].source`,
        message: `${resolve(path)} is inside ${volumeIn}, which workloads may not see, and not a volume of ${target.app}/${target.env}`,
      });
    }
  });
  return problems;
}

/** The host directories of a container's volumes (source, plus sub path), that exist. */
function volumesOf(container: RenderedContainer): Array<{ path: string; readOnly: boolean }> {
  return (container.volumes ?? [])
    .map((volume) => ({
      path: volume.path ? join(volume.source, volume.path) : volume.source,
      readOnly: volume.readOnly === true,
    }))
    .filter((volume) => isAbsolute(volume.path) && existsSync(volume.path));
}

function isInside(dir: string, path: string): boolean {
  const inside = relative(resolve(dir), resolve(path));
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

function containerPhase(state: ContainerState | null, now: number): ContainerPhase {
  if (state?.status === 'exited') {
    const exit = state.lastExit;
    return exit?.code === 0 && !exit.signal && !exit.error ? 'completed' : 'stopped';
  }
  if (!state || state.status === 'stopped' || !isRunning(state.supervisor)) return 'stopped';
  if (state.status === 'starting') return 'starting';
  const ranMs = now - (Date.parse(state.childStartedAt ?? '') || now);
  if (state.status === 'backoff' || (state.consecutiveFailures > 0 && ranMs < state.resetAfterMs)) {
    return 'crash-looping';
  }
  return 'running';
}

function describeContainer(container: ContainerView): string {
  const state = container.state;
  if (container.phase === 'stopped') {
    if (state?.status === 'exited' && state.lastExit) {
      return `container "${container.name}" ${describeExit(state.lastExit)} (it runs to completion)`;
    }
    return state && state.status !== 'stopped'
      ? `container "${container.name}" is not running: its supervisor is gone`
      : `container "${container.name}" is stopped`;
  }
  const exit = state?.lastExit ? `${describeExit(state.lastExit)}` : 'has not run yet';
  const next = state?.nextRestartAt ? `; restarting at ${state.nextRestartAt}` : '';
  return `container "${container.name}" ${exit}${next} (restarts: ${state?.restarts ?? 0})`;
}

/** SIGKILLs the process group led by `leader` (verified by the caller) and waits until the leader is gone. */
async function killGroup(leader: ProcessIdentity): Promise<void> {
  signalGroup(leader.pid, 'SIGKILL');
  await until(() => !isRunning(leader), 2_000);
}

function toLogLine(line: SourcedLogLine): LogLine {
  return {
    workload: line.workload,
    container: line.container,
    stream: line.stream,
    at: line.at,
    line: line.line,
  };
}

/** Polls `condition` every 50 ms for up to `ms`; whether it became true. */
async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}
