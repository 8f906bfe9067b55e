import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The built `pave` executable (npm test builds it first). */
export const PAVE_BIN = fileURLToPath(new URL('../../packages/cli/bin/pave.cjs', import.meta.url));

/** A `pave up` child process serving on a free port. */
export interface PaveProcess {
  url: string;
  child: ChildProcess;
  /** Everything it has logged so far. */
  output(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `pave up --port 0` with the given flags and waits until it logs its URL (or exits). */
export async function startPave(args: string[], env: NodeJS.ProcessEnv = {}): Promise<PaveProcess> {
  const child = spawn(process.execPath, [PAVE_BIN, 'up', '--port', '0', ...args], {
    env: { ...baseEnv(), NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pave up did not start in 20 s:\n${output}`)), 20_000);
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new PaveExitedError(code, output));
    });
  });
  return {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** `pave up` exited before it was ready. */
export class PaveExitedError extends Error {
  override name = 'PaveExitedError';
  constructor(
    readonly code: number | null,
    readonly output: string,
  ) {
    super(`pave up exited with code ${code}:\n${output}`);
  }
}

/** The result of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** This process's environment without PAVE_* settings, so a developer's own config cannot leak into tests. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_')));
}

/** Runs the real `pave` CLI with `args`, NO_COLOR set, and resolves when it exits. */
export function runPave(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [PAVE_BIN, ...args], {
      env: { ...baseEnv(), NO_COLOR: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    // A command may exit without reading its input (a usage error, say): the pipe then closes under the write,
    // which is no failure of the run; its exit status and output say what happened.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.stdin.end(input ?? '');
  });
}

/** The environment that points client commands at a server with a private config file. */
export function clientEnv(server: string, dataDir: string): NodeJS.ProcessEnv {
  return {
    PAVE_SERVER: server,
    PAVE_DATA_DIR: dataDir,
    PAVE_CONFIG: join(dataDir, 'client-config.json'),
  };
}

/**
 * Sets the stability window of the seeded environment types to `seconds` (`pave env-types update`). A
 * workload without a readiness probe counts as ready only after running that long (default 5 s), which end to
 * end tests that are not about it would otherwise wait at every deploy; stability.test.ts tests the default.
 */
export async function shortenStabilityWindow(server: string, dataDir: string, seconds = 1): Promise<void> {
  for (const type of ['development', 'staging', 'production']) {
    const result = await runPave(
      ['env-types', 'update', type, '--min-ready', `${seconds}s`],
      clientEnv(server, dataDir),
    );
    if (result.code !== 0) throw new Error(`could not shorten the window of ${type}: ${result.stderr}`);
  }
}
