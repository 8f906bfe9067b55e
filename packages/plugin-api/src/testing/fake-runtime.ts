import { createServer, type Server } from 'node:http';
import { InputError } from '@pave/core';
import type { DriverContext } from '../context.ts';
import type {
  CheckFailure,
  LogLine,
  LogsOptions,
  ReadyResult,
  RenderedWorkload,
  RuntimeDriver,
  RuntimeTarget,
  WaitReadyOptions,
  WorkloadShape,
  WorkloadStatus,
} from '../drivers.ts';
import { byLogTime, sinceFilter } from '../log-times.ts';
import { sleep } from '../readiness.ts';
import { WorkloadLocks, workloadKey } from '../workload-locks.ts';

/** The methods of {@link FakeRuntime} that record their calls. */
export type FakeRuntimeMethod = 'deploy' | 'waitReady' | 'remove' | 'status' | 'destroy' | 'adopt';

/** The methods {@link FakeRuntime.fail} can make reject. */
export type FakeRuntimeFailingMethod = Exclude<FakeRuntimeMethod, 'adopt'>;

/** One call made to a {@link FakeRuntime}. */
export interface FakeRuntimeCall {
  method: FakeRuntimeMethod;
  /** The target's app and env; empty for `adopt`, which has no target. */
  app: string;
  env: string;
  /** The workload, for deploy, waitReady and remove. */
  workload?: string;
}

/** What {@link FakeRuntime.running} reports of one running workload. */
export interface FakeRunningWorkload {
  hash: string;
  deploymentId: string;
  /** The first container's environment. */
  env: Record<string, string>;
}

/** The environment variable that makes a fake workload crash: its value is the exit code. */
export const FAKE_EXIT_CODE = 'FAKE_EXIT_CODE';
/** The environment variable that, set to "1", makes a fake workload never become ready. */
export const FAKE_NEVER_READY = 'FAKE_NEVER_READY';

/** What the fake runs for one workload. */
interface Deployed {
  workload: RenderedWorkload;
  /** A fake process id per container, new on every start, so a kept workload is told from a restarted one. */
  pids: number[];
  /** Set when the workload crashed at start (FAKE_EXIT_CODE). */
  exitCode: number | null;
  ready: boolean;
  servers: Server[];
  logs: LogLine[];
}

interface Failure {
  method: FakeRuntimeFailingMethod;
  workload?: string;
  message?: string;
  remaining: number;
}

const LAST_LOG_LINES = 20;

/**
 * A runtime driver that runs nothing but keeps, in memory, what would run: for fast unit tests of code that
 * drives runtimes (the deployment orchestrator). It passes the runtime contract suite. It records every
 * call (`calls`), can be told to make calls reject (`fail`, `heal`), and reports what runs (`running`).
 *
 * How a workload behaves is read from its first container's environment:
 * - `FAKE_EXIT_CODE=N`: it crashes as it starts: waitReady answers not ready (`container "<name>" exited
 *   with code N`, exit code N, last log line `something broke`) and it no longer runs (status: stopped);
 * - `FAKE_NEVER_READY=1`: waitReady waits until `ctx.signal` aborts, then answers not ready ("timed out …");
 * - otherwise it is ready at once.
 * With `serveHttp` (default), a running workload answers GET / on 127.0.0.1 at each port's host port with its
 * first container's `GREETING` variable, until it is removed, replaced or destroyed.
 *
 * `check` (and so `deploy`) refuses a container that has neither an image nor a command: nothing to run.
 */
export class FakeRuntime implements RuntimeDriver {
  readonly name: string;
  /** Every call made, in order. */
  readonly calls: FakeRuntimeCall[] = [];
  private readonly serveHttp: boolean;
  private readonly deployed = new Map<string, Deployed>();
  private readonly locks = new WorkloadLocks();
  private failures: Failure[] = [];
  private nextPid = 1_000;

  constructor(options: { name?: string; serveHttp?: boolean } = {}) {
    this.name = options.name ?? 'fake';
    this.serveHttp = options.serveHttp ?? true;
  }

  /**
   * Makes the next `times` (default: every) calls of `method` (for `workload` only, if given; status and
   * destroy concern no single workload, so a failure with a workload never matches them) reject with
   * `Error(message)`, before they change anything.
   */
  fail(
    method: FakeRuntimeFailingMethod,
    options: { workload?: string; message?: string; times?: number } = {},
  ): void {
    this.failures.push({
      method,
      ...(options.workload !== undefined ? { workload: options.workload } : {}),
      ...(options.message !== undefined ? { message: options.message } : {}),
      remaining: options.times ?? Number.POSITIVE_INFINITY,
    });
  }

  /** Clears the failures set with fail(). */
  heal(): void {
    this.failures = [];
  }

  /** What runs in `target` now: workload name -> its hash, deployment and first container's environment. */
  running(target: RuntimeTarget): Map<string, FakeRunningWorkload> {
    const running = new Map<string, FakeRunningWorkload>();
    for (const [name, deployed] of this.workloadsOf(target)) {
      if (deployed.exitCode !== null) continue;
      running.set(name, {
        hash: deployed.workload.hash,
        deploymentId: deployed.workload.deploymentId,
        env: { ...(deployed.workload.containers[0]?.env ?? {}) },
      });
    }
    return running;
  }

  /** Why this runtime cannot run `workload`: one failure per container with neither an image nor a command. */
  check(workload: WorkloadShape): CheckFailure[] {
    return workload.containers
      .filter((container) => container.image.trim() === '' && (container.command ?? []).length === 0)
      .map((container) => ({
        property: `containers.${container.name}.image`,
        reason: `container "${container.name}" has neither an image nor a command: nothing to run; give it one`,
      }));
  }

  /**
   * Starts `workload` (stopping the version before it), or keeps it when its hash is the same. Rejects with
   * InputError when `check` finds problems, and when a host port cannot be served; nothing of the new
   * version runs then.
   */
  async deploy(target: RuntimeTarget, workload: RenderedWorkload, _ctx: DriverContext): Promise<void> {
    this.record('deploy', target, workload.name);
    this.injectedFailure('deploy', workload.name);
    const problems = this.check(workload);
    if (problems.length > 0) {
      throw new InputError(
        `workload "${workload.name}" cannot run: ${problems.map((problem) => problem.reason).join('; ')}`,
        problems.map((problem) => ({ path: problem.property, message: problem.reason })),
      );
    }
    await this.locks.run(target, workload.name, async () => {
      const key = workloadKey(target, workload.name);
      const current = this.deployed.get(key);
      if (current && current.workload.hash === workload.hash && current.exitCode === null) return;
      if (current) await this.stop(key, current);
      this.deployed.set(key, await this.start(workload));
    });
  }

  /** The readiness outcome of the workload, as its environment asks (see the class comment). */
  async waitReady(
    target: RuntimeTarget,
    workload: string,
    ctx: DriverContext,
    _options?: WaitReadyOptions,
  ): Promise<ReadyResult> {
    this.record('waitReady', target, workload);
    this.injectedFailure('waitReady', workload);
    const deployed = this.deployed.get(workloadKey(target, workload));
    if (!deployed) return { ready: false, reason: `workload "${workload}" is not deployed`, lastLogs: [] };
    const container = deployed.workload.containers[0];
    if (deployed.exitCode !== null) {
      return {
        ready: false,
        reason: `container "${container?.name ?? ''}" exited with code ${deployed.exitCode}`,
        lastLogs: lastLines(deployed),
      };
    }
    if (container?.env[FAKE_NEVER_READY] === '1') {
      const started = Date.now();
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return {
        ready: false,
        reason: `timed out after ${Math.round((Date.now() - started) / 1000)} s: ${FAKE_NEVER_READY} is set`,
        lastLogs: lastLines(deployed),
      };
    }
    deployed.ready = true;
    return { ready: true };
  }

  /** Stops and forgets the workload; succeeds when it is not there. */
  async remove(target: RuntimeTarget, workload: string, _ctx: DriverContext): Promise<void> {
    this.record('remove', target, workload);
    this.injectedFailure('remove', workload);
    await this.locks.run(target, workload, async () => {
      const key = workloadKey(target, workload);
      const deployed = this.deployed.get(key);
      if (deployed) await this.stop(key, deployed);
    });
  }

  /**
   * Every workload of `target`, sorted by name: `ready` once waitReady said so, `running` before, `stopped`
   * once it crashed.
   */
  async status(target: RuntimeTarget, _ctx: DriverContext): Promise<WorkloadStatus[]> {
    this.record('status', target);
    this.injectedFailure('status');
    return [...this.workloadsOf(target)]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, deployed]) => {
        const crashed = deployed.exitCode !== null;
        return {
          workload: name,
          state: crashed ? 'stopped' : deployed.ready ? 'ready' : 'running',
          restarts: 0,
          hash: deployed.workload.hash,
          deploymentId: deployed.workload.deploymentId,
          ports: deployed.workload.ports,
          containers: deployed.workload.containers.map((container, index) => ({
            name: container.name,
            state: crashed ? `exited with code ${deployed.exitCode}` : 'running',
            restarts: 0,
            ...(crashed
              ? { lastExit: `exited with code ${deployed.exitCode}` }
              : { pid: deployed.pids[index] }),
          })),
          ...(crashed ? { detail: `exited with code ${deployed.exitCode}` } : {}),
        };
      });
  }

  /** Stops and forgets every workload of `target`; idempotent. */
  async destroy(target: RuntimeTarget, _ctx: DriverContext): Promise<void> {
    this.record('destroy', target);
    this.injectedFailure('destroy');
    for (const [name] of this.workloadsOf(target)) {
      await this.locks.run(target, name, async () => {
        const key = workloadKey(target, name);
        const deployed = this.deployed.get(key);
        if (deployed) await this.stop(key, deployed);
      });
    }
  }

  /** Nothing to take back: what the fake runs lives as long as the object. Recorded only. */
  async adopt(_ctx: DriverContext): Promise<void> {
    this.calls.push({ method: 'adopt', app: '', env: '' });
  }

  /**
   * The workload's log lines (the fake prints one as it starts and `something broke` as it crashes): the
   * last `tail` since `since` of each container, merged by time.
   */
  async *logs(target: RuntimeTarget, options: LogsOptions, ctx: DriverContext): AsyncIterable<LogLine> {
    const recent = sinceFilter(options.since);
    const byContainer = new Map<string, LogLine[]>();
    for (const [name, deployed] of this.workloadsOf(target)) {
      if (options.workload !== undefined && name !== options.workload) continue;
      for (const line of deployed.logs.filter(recent)) {
        const key = `${line.workload}/${line.container}`;
        byContainer.set(key, [...(byContainer.get(key) ?? []), line]);
      }
    }
    const tail = options.tail ?? 100;
    yield* byLogTime([...byContainer.values()].flatMap((lines) => (tail === 0 ? [] : lines.slice(-tail))));
    // Nothing prints once started: following only waits for the end.
    if (options.follow) await sleep(Number.MAX_SAFE_INTEGER, ctx.signal);
  }

  private async start(workload: RenderedWorkload): Promise<Deployed> {
    const container = workload.containers[0];
    const exitCode = container?.env[FAKE_EXIT_CODE];
    const at = new Date().toISOString();
    const deployed: Deployed = {
      workload,
      pids: workload.containers.map(() => this.nextPid++),
      exitCode: exitCode === undefined ? null : Number(exitCode),
      ready: false,
      servers: [],
      logs: [
        {
          workload: workload.name,
          container: container?.name ?? '',
          stream: 'stdout',
          at,
          line: `started version ${workload.hash.slice(0, 12)}`,
        },
      ],
    };
    if (deployed.exitCode !== null) {
      deployed.logs.push({ ...deployed.logs[0]!, stream: 'stderr', line: 'something broke' });
      return deployed;
    }
    if (this.serveHttp) {
      const greeting = container?.env.GREETING ?? '';
      try {
        for (const port of workload.ports) deployed.servers.push(await serve(port.hostPort, greeting));
      } catch (error) {
        await closeAll(deployed.servers);
        throw new InputError(`workload "${workload.name}" cannot run: ${(error as Error).message}`);
      }
    }
    return deployed;
  }

  private async stop(key: string, deployed: Deployed): Promise<void> {
    this.deployed.delete(key);
    await closeAll(deployed.servers);
  }

  private workloadsOf(target: RuntimeTarget): Array<[string, Deployed]> {
    const prefix = workloadKey(target, '');
    return [...this.deployed]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, deployed]) => [key.slice(prefix.length), deployed]);
  }

  private record(method: FakeRuntimeMethod, target: RuntimeTarget, workload?: string): void {
    this.calls.push({
      method,
      app: target.app,
      env: target.env,
      ...(workload !== undefined ? { workload } : {}),
    });
  }

  /** Throws the first failure set for this call, counting it down. */
  private injectedFailure(method: FakeRuntimeFailingMethod, workload?: string): void {
    const failure = this.failures.find(
      (candidate) =>
        candidate.method === method &&
        candidate.remaining > 0 &&
        (candidate.workload === undefined || candidate.workload === workload),
    );
    if (!failure) return;
    failure.remaining -= 1;
    throw new Error(
      failure.message ??
        `${this.name}: ${method}${workload !== undefined ? ` of "${workload}"` : ''} failed (set by fail())`,
    );
  }
}

function lastLines(deployed: Deployed): string[] {
  return deployed.logs.slice(-LAST_LOG_LINES).map((line) => line.line);
}

/** An HTTP server on 127.0.0.1:`port` answering every request with `greeting`. */
function serve(port: number, greeting: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((_request, response) => response.end(greeting));
    server.once('error', (error) => reject(new Error(`cannot serve host port ${port}: ${error.message}`)));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function closeAll(servers: readonly Server[]): Promise<void> {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          // Kept-alive connections would hold the port: a stopped workload answers nobody.
          server.closeAllConnections();
        }),
    ),
  );
}
