// The protocol between the process runtime and its supervisor host: newline-delimited JSON over the host's
// Unix socket (owner-only, in the runtime's directory), one reply line per request line. A start request
// carries the container's whole configuration, environment included: it crosses the socket only, never a
// file, a command line or a log, and nothing here repeats it in an error.
// Imported by the supervisor bundle: node: built-ins and types only.
import type { Socket } from 'node:net';
import type { ProcessIdentity } from '../proc.ts';
import type { ContainerState, SupervisorConfig } from '../state.ts';

/** Longest request or reply line read (a configuration with a large environment fits many times over). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** What the runtime asks of the host. `id` is echoed in the reply. */
export type HostRequest =
  | { id?: number; type: 'ping' }
  /** Start supervising a container (replies once its process has been started, or failed to start). */
  | { id?: number; type: 'start'; config: SupervisorConfig }
  /** Stop the container whose state file is `stateFile` (SIGTERM, SIGKILL after `graceMs`); replies once its process group is gone. */
  | { id?: number; type: 'stop'; stateFile: string; graceMs?: number; reason?: string };

/** The host's answer to one request. */
export interface HostReply {
  id?: number;
  ok: boolean;
  /** Why the request failed (never holds the configuration's content). */
  error?: string;
  /** The host answering: the `supervisor` of every state file it writes. */
  host?: ProcessIdentity;
  /** ping: how many containers the host supervises. */
  containers?: number;
  /** start: the container's state once its process started, or failed to. */
  state?: Pick<ContainerState, 'status' | 'lastExit' | 'child'>;
  /**
   * start: whether the host runs the container once, as its configuration's `runToCompletion` asked. A host
   * older than that setting leaves this out and would restart the container when it exits.
   */
  runsToCompletion?: boolean;
  /** stop: whether the host supervised that container (false: nothing to stop here). */
  known?: boolean;
}

/**
 * Calls `onLine` with every newline-terminated line `socket` receives; destroys the socket when a line is
 * longer than MAX_LINE_BYTES.
 */
export function readLines(socket: Socket, onLine: (line: string) => void): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let end = chunk.indexOf(10); end !== -1; end = chunk.indexOf(10, start)) {
      const line = Buffer.concat([...pending, chunk.subarray(start, end)]).toString('utf8');
      pending = [];
      pendingBytes = 0;
      start = end + 1;
      onLine(line);
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) socket.destroy(new Error('line too long'));
    }
  });
}

/** The names of the fields of a start request's configuration that are missing or malformed (never their values). */
export function configProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['config'];
  const config = value as Record<string, unknown>;
  const strings = ['app', 'env', 'workload', 'container', 'hash', 'deploymentId', 'cwd'] as const;
  const paths = ['logFile', 'eventLogFile', 'stateFile'] as const;
  const numbers = ['maxLogBytes', 'stopGraceMs'] as const;
  const problems: string[] = [...strings, ...paths].filter((key) => typeof config[key] !== 'string');
  problems.push(...numbers.filter((key) => typeof config[key] !== 'number'));
  if (!Array.isArray(config.argv) || config.argv.length === 0 || !config.argv.every(isString)) {
    problems.push('argv');
  }
  if (!Array.isArray(config.ports)) problems.push('ports');
  const environment = config.environment;
  if (
    typeof environment !== 'object' ||
    environment === null ||
    !Object.values(environment).every(isString)
  ) {
    problems.push('environment');
  }
  const backoff = config.backoff as Record<string, unknown> | undefined;
  if (
    typeof backoff !== 'object' ||
    backoff === null ||
    !['initialMs', 'maxMs', 'resetAfterMs'].every((key) => typeof backoff[key] === 'number')
  ) {
    problems.push('backoff');
  }
  for (const key of ['uid', 'gid'] as const) {
    if (config[key] !== undefined && typeof config[key] !== 'number') problems.push(key);
  }
  if (config.runToCompletion !== undefined && typeof config.runToCompletion !== 'boolean') {
    problems.push('runToCompletion');
  }
  return problems;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}
