import { spawn, type ChildProcess } from 'node:child_process';

/** One run of an external command: what to start and how long to let it run. */
export interface CommandRun {
  /** Program and arguments, run without a shell. */
  argv: string[];
  cwd?: string;
  /** Run as this user and group (the workload user); absent: the control plane's. */
  uid?: number;
  gid?: number;
  /** The complete environment of the command. */
  env: Record<string, string>;
  /** Written to the command's stdin, which is then closed. */
  stdin: string;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL when the command is stopped. */
  killGraceMs: number;
  /** Stops the command (SIGTERM, then SIGKILL, to its process group) when aborted. */
  signal?: AbortSignal;
}

/** How a command run ended. It never rejects: every failure is described here. */
export interface CommandResult {
  /** False when the command could not be started (see spawnError) or the signal had aborted before. */
  started: boolean;
  spawnError?: Error;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Everything printed on stdout, or undefined when it exceeded MAX_STDOUT_BYTES (the command was stopped). */
  stdout: string | undefined;
  /** The last lines printed on stderr, unmasked (at most STDERR_TAIL_BYTES of them). */
  stderrLines: string[];
}

/** Stdout beyond this size stops the command: outputs are small JSON objects. */
export const MAX_STDOUT_BYTES = 16 * 1024 * 1024;
/** How much of the end of stderr is kept for error messages. */
const STDERR_TAIL_BYTES = 64 * 1024;
/** How long to wait for stdout/stderr to close once the command exited and its group was killed. */
const CLOSE_AFTER_EXIT_MS = 2_000;

/** A run that never started: what a result says before the command runs, and for errors raised before it. */
export const NOT_STARTED: Readonly<CommandResult> = {
  started: false,
  exitCode: null,
  exitSignal: null,
  timedOut: false,
  aborted: false,
  stdout: undefined,
  stderrLines: [],
};

/**
 * Runs a command as the leader of its own process group, writes `stdin` to it and collects stdout and the
 * tail of stderr. On timeout, abort or oversized stdout the whole group gets SIGTERM, then SIGKILL after the
 * grace period; once the command exits, anything it left running in its group is killed.
 */
export function runCommand(run: CommandRun): Promise<CommandResult> {
  const result: CommandResult = { ...NOT_STARTED, stderrLines: [] };
  if (run.signal?.aborted) return Promise.resolve({ ...result, aborted: true });

  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(run.argv[0]!, run.argv.slice(1), {
        cwd: run.cwd,
        env: run.env,
        ...(run.uid !== undefined ? { uid: run.uid } : {}),
        ...(run.gid !== undefined ? { gid: run.gid } : {}),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      resolve({ ...result, spawnError: error as Error });
      return;
    }

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutOverflow = false;
    let stderr = '';
    let stderrTruncated = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let closeTimer: NodeJS.Timeout | undefined;
    let stopping = false;
    let settled = false;

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is gone already.
      }
    };
    const stop = () => {
      if (stopping) return;
      stopping = true;
      killGroup('SIGTERM');
      graceTimer = setTimeout(() => killGroup('SIGKILL'), run.killGraceMs);
    };
    const onAbort = () => {
      result.aborted = true;
      stop();
    };
    const timeoutTimer = setTimeout(() => {
      result.timedOut = true;
      stop();
    }, run.timeoutMs);
    run.signal?.addEventListener('abort', onAbort, { once: true });

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeTimer);
      run.signal?.removeEventListener('abort', onAbort);
      const lines = stderr.split('\n');
      if (stderrTruncated) lines.shift(); // the first line was cut
      while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
      result.stderrLines = lines.map((line) => line.replace(/\r$/, ''));
      result.stdout = stdoutOverflow ? undefined : Buffer.concat(stdout).toString('utf8');
      resolve(result);
    };

    child.on('error', (error) => {
      if (child.pid === undefined) {
        result.spawnError = error;
        finish();
      }
    });
    child.on('spawn', () => {
      result.started = true;
    });
    child.on('exit', (code, signal) => {
      result.exitCode = code;
      result.exitSignal = signal;
      killGroup('SIGKILL');
      // A process that left the group may still hold the pipes open: stop waiting for it.
      closeTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, CLOSE_AFTER_EXIT_MS);
    });
    child.on('close', finish);

    child.stdout!.on('data', (chunk: Buffer) => {
      if (stdoutOverflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        stdoutOverflow = true;
        stdout.length = 0;
        stop();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > STDERR_TAIL_BYTES) {
        stderr = stderr.slice(-STDERR_TAIL_BYTES);
        stderrTruncated = true;
      }
    });
    // The command may exit without reading its input.
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(run.stdin);
  });
}
