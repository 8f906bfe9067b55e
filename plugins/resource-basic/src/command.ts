import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

/** Which of a command's output streams a line came from. */
export type CommandStream = 'stdout' | 'stderr';

/** One run of an external command: what to start, what to give it, where its lines go and how long to let it run. */
export interface CommandRun {
  /** Program and arguments, run without a shell. */
  argv: string[];
  cwd?: string;
  /** Run as this user and group (the workload user); absent: the control plane's. */
  uid?: number;
  gid?: number;
  /** The complete environment of the command. */
  env: Record<string, string>;
  /** Written to the command's stdin, which is then closed; absent: the command gets no stdin at all. */
  stdin?: string;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL when the command is stopped. */
  killGraceMs: number;
  /** Stops the command (SIGTERM, then SIGKILL, to its process group) when aborted. */
  signal?: AbortSignal;
  /**
   * Receives every line printed on stdout and on stderr as it comes, without its line ending (captured stdout
   * included); a last line without a newline arrives when the command's output closes.
   */
  onLine?: (line: string, stream: CommandStream) => void;
  /** Keep stdout in the result (default true); when false, `stdout` is `''` and stdout has no size limit. */
  captureStdout?: boolean;
  /** Captured stdout beyond this many bytes stops the command (default MAX_STDOUT_BYTES). */
  maxStdoutBytes?: number;
}

/** How a command run ended. It never rejects: every failure is described here. */
export interface CommandResult {
  /** False when the command could not be started (see spawnError) or the signal had aborted before. */
  started: boolean;
  /** Why the command could not be started (e.g. ENOENT: no such program). */
  spawnError?: Error;
  /** The command's exit code; null when it was killed by a signal or never ran. */
  exitCode: number | null;
  /** The signal that killed the command; null when it exited by itself or never ran. */
  exitSignal: NodeJS.Signals | null;
  /** The command ran past `timeoutMs` and was stopped. */
  timedOut: boolean;
  /** The run's AbortSignal was aborted, before the command started (`started` false) or while it ran. */
  aborted: boolean;
  /**
   * Everything printed on stdout (`''` when `captureStdout` is false), or undefined when it exceeded
   * `maxStdoutBytes` (the command was stopped). Check `started` first: a command not started may leave it
   * undefined too.
   */
  stdout: string | undefined;
  /** The last lines printed on stderr, unmasked (at most STDERR_TAIL_BYTES of them). */
  stderrLines: string[];
}

/** Default limit of captured stdout, past which the command is stopped: exec outputs are small JSON objects. */
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
 * Runs a command as the leader of its own process group, writes `stdin` to it (if given), hands each line it
 * prints to `onLine` as it comes, and collects stdout (unless `captureStdout` is false) and the tail of stderr.
 * On timeout, abort or oversized stdout the whole group gets SIGTERM, then SIGKILL after the grace period; once
 * the command exits, anything it left running in its group is killed.
 */
export function runCommand(run: CommandRun): Promise<CommandResult> {
  const result: CommandResult = { ...NOT_STARTED, stderrLines: [] };
  if (run.signal?.aborted) return Promise.resolve({ ...result, aborted: true });
  const captureStdout = run.captureStdout ?? true;
  const maxStdoutBytes = run.maxStdoutBytes ?? MAX_STDOUT_BYTES;

  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(run.argv[0]!, run.argv.slice(1), {
        cwd: run.cwd,
        env: run.env,
        ...(run.uid !== undefined ? { uid: run.uid } : {}),
        ...(run.gid !== undefined ? { gid: run.gid } : {}),
        stdio: [run.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      resolve({ ...result, spawnError: error as Error });
      return;
    }

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutOverflow = false;
    const stderrDecoder = new StringDecoder('utf8');
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

    const stdoutLines = lineReader('stdout', run.onLine);
    const stderrLines = lineReader('stderr', run.onLine);

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeTimer);
      run.signal?.removeEventListener('abort', onAbort);
      stdoutLines.flush();
      stderrLines.flush();
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
      stdoutLines.push(chunk);
      if (!captureStdout || stdoutOverflow) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxStdoutBytes) {
        stdoutOverflow = true;
        stdout.length = 0;
        stop();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderrLines.push(chunk);
      stderr += stderrDecoder.write(chunk);
      if (stderr.length > STDERR_TAIL_BYTES) {
        stderr = stderr.slice(-STDERR_TAIL_BYTES);
        stderrTruncated = true;
      }
    });
    if (child.stdin) {
      // The command may exit without reading its input.
      child.stdin.on('error', () => undefined);
      child.stdin.end(run.stdin);
    }
  });
}

/** Splits one output stream into lines for `onLine`; does nothing without it. */
function lineReader(
  stream: CommandStream,
  onLine: CommandRun['onLine'],
): { push: (chunk: Buffer) => void; flush: () => void } {
  if (!onLine) return { push: () => undefined, flush: () => undefined };
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const emit = (line: string) => onLine(line.replace(/\r$/, ''), stream);
  return {
    push(chunk) {
      // Only the new text is searched for line ends: one long line (a plan's JSON) arrives in many chunks.
      const lines = decoder.write(chunk).split('\n');
      if (lines.length === 1) {
        pending += lines[0];
        return;
      }
      lines[0] = pending + lines[0]!;
      pending = lines.pop()!;
      lines.forEach(emit);
    },
    /** Hands over the last line when it had no newline. */
    flush() {
      pending += decoder.end();
      if (pending !== '') emit(pending);
      pending = '';
    },
  };
}
