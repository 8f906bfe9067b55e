import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { formatLogLine, LineSplitter } from '../log-format.ts';
import { identify, liveGroupMembers, signalGroup } from '../proc.ts';
import {
  describeExit,
  writeJsonFile,
  type ContainerState,
  type ExitRecord,
  type SupervisorConfig,
} from '../state.ts';
import { RotatingFile } from './log-file.ts';

const EVENT_LOG_MAX_BYTES = 1024 * 1024;
/** After SIGKILL, how long to wait for the process group to disappear before giving up on it. */
const KILL_WAIT_MS = 2_000;
/**
 * What bwrap says when building the sandbox lost a race with a mount that appeared or vanished on the host
 * meanwhile (bubblewrap issue 650; e.g. a network namespace Podman or Docker adds under /run/netns): the
 * command never ran, and building the sandbox again succeeds.
 */
const SANDBOX_RACE =
  /^bwrap: Can't bind mount .*: Unable to apply mount flags: remount .*: Invalid argument$/;
/** How many times in a row a sandbox that lost that race is built again at once, before it counts as an exit. */
const SANDBOX_RACE_RETRIES = 3;
/** How long an exit waits for the rest of the process's output, to tell whether its sandbox lost that race. */
const SANDBOX_RACE_OUTPUT_WAIT_MS = 200;

/**
 * Keeps one container's process running: starts it in its own process group, writes its output to the
 * log, restarts it with exponential backoff when it exits, and records what it does in the state file (with
 * this process, the supervisor host, as its `supervisor`). `stop()` ends the whole process group (SIGTERM,
 * then SIGKILL after the grace period) and then calls `onStopped`. A container that runs to completion
 * (`runToCompletion`) is not restarted: when its process exits it is recorded `exited` and `onStopped` is
 * called. The host (host.ts) runs one per container.
 */
export class ContainerSupervisor {
  private readonly state: ContainerState;
  private readonly log: RotatingFile;
  private readonly events: RotatingFile;
  private child: ChildProcess | null = null;
  private childOutputClosed: Promise<unknown> = Promise.resolve();
  private childStartedMs = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** When a stopping process group gets SIGKILL. */
  private graceEndsMs = 0;
  private settle: ((state: ContainerState) => void) | null = null;
  /** Whether the current process's stderr says its sandbox lost the race (SANDBOX_RACE). */
  private sandboxRaceSeen = false;
  /** Sandboxes built again in a row after losing that race. */
  private sandboxRetries = 0;
  /** The state once the first process has started, or failed to start (see `start()`). */
  readonly settled: Promise<ContainerState>;

  constructor(
    private readonly config: SupervisorConfig,
    private readonly onStopped: (exitCode: number) => void,
  ) {
    const self = identify(process.pid);
    if (!self) throw new Error(`cannot read /proc/${process.pid}/stat`);
    this.log = new RotatingFile(config.logFile, config.maxLogBytes);
    this.events = new RotatingFile(config.eventLogFile, EVENT_LOG_MAX_BYTES);
    const now = new Date().toISOString();
    this.state = {
      app: config.app,
      env: config.env,
      workload: config.workload,
      container: config.container,
      hash: config.hash,
      deploymentId: config.deploymentId,
      ports: config.ports,
      status: 'starting',
      supervisor: self,
      child: null,
      startedAt: now,
      childStartedAt: null,
      restarts: 0,
      consecutiveFailures: 0,
      resetAfterMs: config.backoff.resetAfterMs,
      lastExit: null,
      nextRestartAt: null,
      updatedAt: now,
    };
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  /**
   * Records the supervisor and starts the container's process; `settled` resolves once it runs (`running`) or
   * could not be started (`backoff`, with `lastExit.error`).
   */
  start(): void {
    this.event(`supervisor ${process.pid} supervises version ${this.config.hash}`);
    this.save();
    this.spawnChild();
  }

  /**
   * Stops the process group (SIGKILL after `graceMs`, default the configured grace period), records
   * `stopped`, then calls `onStopped(0)`. Safe to call more than once.
   */
  stop(reason: string, graceMs = this.config.stopGraceMs): void {
    if (this.stopping) return;
    this.stopping = true;
    this.graceEndsMs = Date.now() + graceMs;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const pid = this.child?.pid;
    this.event(`stopping (${reason})`);
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      signalGroup(pid, 'SIGTERM');
      // finishStop runs from the exit handler; this makes sure there will be an exit.
      setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs).unref();
    } else {
      void this.finishStop(null);
    }
  }

  /** Last resort after an internal error: kill the process group at once and record `stopped`. */
  abort(error: unknown): void {
    this.event(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    if (this.child?.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
    this.stopping = true;
    this.markStopped();
    this.onStopped(1);
  }

  private spawnChild(): void {
    const [command = '', ...args] = this.config.argv;
    this.childStartedMs = Date.now();
    this.sandboxRaceSeen = false;
    this.state.childStartedAt = new Date(this.childStartedMs).toISOString();
    let child: ChildProcess;
    try {
      child = spawn(command, args, {
        cwd: this.config.cwd,
        env: this.config.environment,
        ...(this.config.uid !== undefined ? { uid: this.config.uid } : {}),
        ...(this.config.gid !== undefined ? { gid: this.config.gid } : {}),
        // Its own process group (and session), so stop() can reach every process it starts.
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      this.onChildGone(null, { code: null, signal: null, error: errorMessage(error), at: now() });
      return;
    }
    this.child = child;
    let gone = false;
    const onGone = (exit: ExitRecord) => {
      if (gone) return;
      gone = true;
      this.onChildGone(child, exit);
    };
    child.on('error', (error) => {
      // After a successful spawn, 'error' only reports a failed kill(): the exit event still follows.
      if (child.pid === undefined) {
        onGone({ code: null, signal: null, error: errorMessage(error), at: now() });
      }
    });
    child.once('exit', (code, signal) => {
      const exit = { code, signal, at: now() };
      // bwrap's complaint may still be on its way through the pipe.
      if (code === 1 && this.sandboxed() && !this.stopping) {
        // A stop() meanwhile has found the process gone and finished the stop itself.
        void Promise.race([this.childOutputClosed, sleep(SANDBOX_RACE_OUTPUT_WAIT_MS)]).then(() => {
          if (!this.stopping) onGone(exit);
        });
      } else {
        onGone(exit);
      }
    });
    const streams = [
      ['stdout', child.stdout],
      ['stderr', child.stderr],
    ] as const;
    for (const [name, stream] of streams) {
      if (!stream) continue;
      const splitter = new LineSplitter();
      // Only a sandbox's stderr can carry bwrap's complaint; other output is only logged.
      const watch = name === 'stderr' && this.sandboxed();
      const take = (lines: string[]) => {
        if (watch && !this.sandboxRaceSeen && lines.some((line) => SANDBOX_RACE.test(line))) {
          this.sandboxRaceSeen = true;
        }
        this.writeLines(name, lines);
      };
      stream.on('data', (chunk: Buffer) => take(splitter.push(chunk)));
      stream.on('end', () => take(splitter.end()));
      stream.on('error', () => undefined);
    }
    this.childOutputClosed = Promise.all(
      streams.map(([, stream]) => (stream && !stream.closed ? once(stream, 'close') : undefined)),
    );
    if (child.pid === undefined) return; // the 'error' event reports why
    this.state.child = identify(child.pid) ?? { pid: child.pid, startTime: -1 };
    this.state.status = 'running';
    this.state.nextRestartAt = null;
    this.save();
    this.event(`started process ${child.pid}: ${this.config.argv[0] ?? ''}`);
  }

  private onChildGone(child: ChildProcess | null, exit: ExitRecord): void {
    if (child && this.child === child) this.child = null;
    const pid = child?.pid;
    if (
      !this.stopping &&
      exit.code === 1 &&
      this.sandboxRaceSeen &&
      this.sandboxRetries < SANDBOX_RACE_RETRIES
    ) {
      // The command never ran: build its sandbox again, without counting an exit or a restart.
      this.sandboxRetries += 1;
      if (pid !== undefined) signalGroup(pid, 'SIGKILL');
      this.event(
        `process ${pid ?? '-'} could not build its sandbox (bwrap lost a race with a mount change on this host): starting it again`,
      );
      this.spawnChild();
      return;
    }
    this.sandboxRetries = 0;
    this.state.child = null;
    this.state.lastExit = exit;
    if (exit.error) this.writeLines('stderr', [`pave: cannot start ${this.config.argv[0]}: ${exit.error}`]);
    if (this.stopping) {
      void this.finishStop(pid ?? null);
      return;
    }
    // A container is its process group: when the main process ends, nothing it started may linger
    // (and keep the port busy for the next run).
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    const ranMs = Date.now() - this.childStartedMs;
    if (this.config.runToCompletion) {
      // Done, whatever the exit code: the runtime that waits for it decides what the exit means.
      this.stopping = true;
      void this.finishExit(exit, ranMs);
      return;
    }
    const backoff = this.config.backoff;
    if (ranMs >= backoff.resetAfterMs) this.state.consecutiveFailures = 0;
    this.state.consecutiveFailures += 1;
    const delayMs = Math.min(backoff.initialMs * 2 ** (this.state.consecutiveFailures - 1), backoff.maxMs);
    this.state.status = 'backoff';
    this.state.nextRestartAt = new Date(Date.now() + delayMs).toISOString();
    this.save();
    this.event(`process ${pid ?? '-'} ${describeExit(exit)} after ${ranMs} ms; restarting in ${delayMs} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.state.restarts += 1;
      this.spawnChild();
    }, delayMs);
  }

  private async finishStop(pgid: number | null): Promise<void> {
    if (pgid !== null) {
      while (liveGroupMembers(pgid).length > 0 && Date.now() < this.graceEndsMs) await sleep(50);
      if (liveGroupMembers(pgid).length > 0) {
        this.event(`process group ${pgid} still running at the end of the grace period: SIGKILL`);
        signalGroup(pgid, 'SIGKILL');
        const killEnds = Date.now() + KILL_WAIT_MS;
        while (liveGroupMembers(pgid).length > 0 && Date.now() < killEnds) await sleep(50);
      }
      await Promise.race([this.childOutputClosed, sleep(1_000)]);
    }
    this.markStopped();
    this.event('stopped');
    this.log.close();
    this.events.close();
    this.onStopped(0);
  }

  /** Records a container that runs to completion as exited, once its output is in the log, and lets go of it. */
  private async finishExit(exit: ExitRecord, ranMs: number): Promise<void> {
    await Promise.race([this.childOutputClosed, sleep(1_000)]);
    this.state.status = 'exited';
    this.state.nextRestartAt = null;
    this.save();
    this.event(`process ${describeExit(exit)} after ${ranMs} ms; it runs to completion: not restarted`);
    this.log.close();
    this.events.close();
    this.onStopped(0);
  }

  private markStopped(): void {
    this.state.status = 'stopped';
    this.state.child = null;
    this.state.nextRestartAt = null;
    this.save();
  }

  /** Whether the command runs in a bwrap sandbox (isolation `sandbox`). */
  private sandboxed(): boolean {
    return /(^|\/)bwrap$/.test(this.config.argv[0] ?? '');
  }

  private writeLines(stream: 'stdout' | 'stderr', lines: string[]): void {
    if (lines.length === 0) return;
    const at = now();
    try {
      this.log.append(lines.map((line) => formatLogLine({ at, stream, line })).join(''));
    } catch (error) {
      this.event(`cannot write the log: ${errorMessage(error)}`);
    }
  }

  private save(): void {
    this.state.updatedAt = now();
    if (this.settle && this.state.status !== 'starting') {
      this.settle({ ...this.state });
      this.settle = null;
    }
    try {
      writeJsonFile(this.config.stateFile, this.state);
    } catch (error) {
      this.event(`cannot write the state file: ${errorMessage(error)}`);
    }
  }

  private event(message: string): void {
    try {
      this.events.append(`${now()} ${message}\n`);
    } catch {
      // Nowhere left to report it; keep supervising.
    }
  }
}

function now(): string {
  return new Date().toISOString();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
