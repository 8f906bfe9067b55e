// What the runtime and its supervisor host keep on disk, and how they write it. Nothing here may hold an
// environment variable's value: env reaches the supervisor host only through its socket.
// Imported by the supervisor bundle: node: built-ins and types only.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RenderedPort } from '@pave/plugin-api';
import type { ProcessIdentity } from './proc.ts';

/** How a supervisor restarts a container that exited: exponential backoff, like pm2 or CrashLoopBackOff. */
export interface RestartBackoff {
  /** Delay before the first restart. */
  initialMs: number;
  /** The delay doubles per consecutive failure up to this. */
  maxMs: number;
  /** A run at least this long counts as healthy: the next failure starts again at `initialMs`. */
  resetAfterMs: number;
}

/**
 * Everything the supervisor host needs to supervise one container, sent as JSON over its socket in a start
 * request (never in a file or argv: `env` may hold secrets).
 */
export interface SupervisorConfig {
  app: string;
  env: string;
  workload: string;
  container: string;
  hash: string;
  deploymentId: string;
  ports: RenderedPort[];
  /** The command and its arguments, isolation included (e.g. `bwrap … -- node server.js`); argv[0] is looked up on `environment.PATH`. */
  argv: string[];
  cwd: string;
  /** Run the command as this user and group (the workload user); absent: the supervisor's own. */
  uid?: number;
  gid?: number;
  /** The container's complete environment. */
  environment: Record<string, string>;
  /** JSON-lines log of the container's stdout and stderr. */
  logFile: string;
  /** The supervisor's own events for this container (starts, exits, restarts). */
  eventLogFile: string;
  stateFile: string;
  maxLogBytes: number;
  stopGraceMs: number;
  backoff: RestartBackoff;
  /**
   * Run the process once (a container another waits for to complete, Score's `before`): when it exits it is not
   * restarted, and the state becomes `exited`, whatever its exit code. Absent: it is restarted (`backoff`).
   */
  runToCompletion?: boolean;
}

/** How a container's process last ended. */
export interface ExitRecord {
  code: number | null;
  signal: string | null;
  /** Set when the process could not be started at all (e.g. "spawn ./server ENOENT"). */
  error?: string;
  at: string;
}

/** "exited with code 3", "killed by SIGSEGV", or why it could not start. */
export function describeExit(exit: ExitRecord): string {
  if (exit.error) return `could not start: ${exit.error}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/**
 * One container's state file, written by the supervisor host (and by the runtime only once the host is
 * gone). `status` is the supervisor's view: `backoff` means it is waiting to restart the process; `exited`
 * that the process of a container that runs to completion ended (`lastExit` says how) and is not supervised
 * any more.
 */
export interface ContainerState {
  app: string;
  env: string;
  workload: string;
  container: string;
  hash: string;
  deploymentId: string;
  ports: RenderedPort[];
  status: 'starting' | 'running' | 'backoff' | 'stopped' | 'exited';
  /** The supervisor host (one per runtime directory; a per-container supervisor before it existed). */
  supervisor: ProcessIdentity;
  /** The running process (leader of its own process group), or null between runs. */
  child: ProcessIdentity | null;
  /** When the supervisor started supervising this version. */
  startedAt: string;
  /** When the current (or last) process started. */
  childStartedAt: string | null;
  /** Restarts since this version started. */
  restarts: number;
  /** Failures since the last healthy run (see RestartBackoff.resetAfterMs). */
  consecutiveFailures: number;
  /** Copied from the supervisor's config so readers can tell a recovering process from a healthy one. */
  resetAfterMs: number;
  lastExit: ExitRecord | null;
  nextRestartAt: string | null;
  updatedAt: string;
}

/** Reads a JSON file; null if it is missing or unreadable. */
export function readJsonFile<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Writes a JSON file atomically (temporary file + rename), readable by its owner only. */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}
