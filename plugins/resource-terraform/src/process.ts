import { spawn, type ChildProcess } from 'node:child_process';

/** One run of Terraform: what to start, where its lines go and how long to let it run. */
export interface ProcessRun {
  /** Program and arguments, run without a shell. */
  argv: string[];
  cwd: string;
  /** The complete environment of the process. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Between SIGTERM and SIGKILL when the process is stopped. */
  killGraceMs: number;
  /** Stops the process (SIGTERM, then SIGKILL, to its process group) when aborted. */
  signal?: AbortSignal;
  /** Receives every line printed, as it comes (stdout only when not captured). */
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Keep stdout (machine-readable output such as `terraform output -json`) instead of passing it to onLine. */
  captureStdout?: boolean;
}

/** How a run ended. Running never rejects: every failure is described here. */
export interface ProcessResult {
  /** False when the process could not be started (see spawnError) or the signal had aborted before. */
  started: boolean;
  spawnError?: Error;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  timedOut: boolean;
  aborted: boolean;
  /** Captured stdout (empty unless `captureStdout`); undefined when it exceeded MAX_CAPTURED_BYTES. */
  stdout: string | undefined;
}

/** Captured stdout beyond this size stops the process (a plan's JSON is large, but not this large). */
const MAX_CAPTURED_BYTES = 64 * 1024 * 1024;
/** How long to wait for the pipes to close once the process exited and its group was killed. */
const CLOSE_AFTER_EXIT_MS = 2_000;

/**
 * Runs a process as the leader of its own process group and hands each line it prints to `onLine` as it
 * comes. On timeout or abort the whole group gets SIGTERM (Terraform then stops and releases its state lock
 * if it can), then SIGKILL after the grace period; once the process exits, anything it left running in its
 * group (a provisioner's children) is killed.
 */
export function runProcess(run: ProcessRun): Promise<ProcessResult> {
  const result: ProcessResult = {
    started: false,
    exitCode: null,
    exitSignal: null,
    timedOut: false,
    aborted: false,
    stdout: '',
  };
  if (run.signal?.aborted) return Promise.resolve({ ...result, aborted: true });

  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(run.argv[0]!, run.argv.slice(1), {
        cwd: run.cwd,
        env: run.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      resolve({ ...result, spawnError: error as Error });
      return;
    }

    const captured: Buffer[] = [];
    let capturedBytes = 0;
    let overflow = false;
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

    const lineReader = (stream: 'stdout' | 'stderr') => {
      let pending = '';
      return {
        push(chunk: string) {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop()!;
          for (const line of lines) run.onLine(line.replace(/\r$/, ''), stream);
        },
        flush() {
          if (pending !== '') run.onLine(pending.replace(/\r$/, ''), stream);
          pending = '';
        },
      };
    };
    const stdoutLines = lineReader('stdout');
    const stderrLines = lineReader('stderr');

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(closeTimer);
      run.signal?.removeEventListener('abort', onAbort);
      stdoutLines.flush();
      stderrLines.flush();
      result.stdout = overflow ? undefined : Buffer.concat(captured).toString('utf8');
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

    if (run.captureStdout) {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (overflow) return;
        capturedBytes += chunk.length;
        if (capturedBytes > MAX_CAPTURED_BYTES) {
          overflow = true;
          captured.length = 0;
          stop();
          return;
        }
        captured.push(chunk);
      });
    } else {
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => stdoutLines.push(chunk));
    }
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => stderrLines.push(chunk));
  });
}
