// Where the process runtime keeps things:
//   <dataDir>/runtime/process/
//     supervisor.sock         the supervisor host's Unix socket (owner-only; see hostPaths for long paths)
//     supervisor.lock         held while a runtime starts the host
//     supervisor.log          the host's own messages (no container configuration)
//   <dataDir>/runtime/process/<app>/<env>/<workload>/
//     workload.json           the deployed version: hash, deployment, ports, containers (no env)
//     state/<container>.json  written by the supervisor host for the container
//     files/<container>/...   the container's `files`, under their target path
//     home/<container>/       the container's HOME (only when it runs as the workload user)
//     logs/<container>.jsonl  stdout and stderr as JSON lines (+ .1 after rotation); kept by `remove`
//     logs/<container>.events.log  the supervisor's own events
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeTarget } from '@pave/plugin-api';

/** The files of the supervisor host of one runtime directory. */
export interface HostPaths {
  /** The runtime root: the host's working directory. */
  dir: string;
  socket: string;
  /** Set when `socket` is outside `dir` (see hostPaths): create it owner-only first. */
  socketDir: string | null;
  lock: string;
  log: string;
}

/** A Unix socket path must fit in 108 bytes (sun_path), terminator included. */
const MAX_SOCKET_PATH_BYTES = 100;

/** The paths of one workload's runtime directory. */
export interface WorkloadPaths {
  dir: string;
  record: string;
  stateDir: string;
  filesDir: string;
  homeDir: string;
  logsDir: string;
  state(container: string): string;
  files(container: string): string;
  home(container: string): string;
  log(container: string): string;
  eventLog(container: string): string;
}

/** The process runtime's root directory inside Pave's data directory. */
export function runtimeRoot(dataDir: string): string {
  return join(dataDir, 'runtime', 'process');
}

/**
 * The supervisor host's files. Its socket is `<root>/supervisor.sock`, unless that path is too long for a
 * Unix socket: then `<tmpdir>/pave-<uid>/<hash of the root>.sock`, in a directory only this user may enter.
 */
export function hostPaths(dataDir: string): HostPaths {
  const dir = runtimeRoot(dataDir);
  let socket = join(dir, 'supervisor.sock');
  let socketDir: string | null = null;
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    socketDir = join(tmpdir(), `pave-${process.getuid?.() ?? 'user'}`);
    socket = join(socketDir, `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.sock`);
  }
  return { dir, socket, socketDir, lock: join(dir, 'supervisor.lock'), log: join(dir, 'supervisor.log') };
}

/** The directory holding every workload of `target`. */
export function environmentDir(dataDir: string, target: RuntimeTarget): string {
  return join(runtimeRoot(dataDir), target.app, target.env);
}

/** The paths of `workload` in `target`; names must already be validated as DNS labels. */
export function workloadPaths(dataDir: string, target: RuntimeTarget, workload: string): WorkloadPaths {
  const dir = join(environmentDir(dataDir, target), workload);
  const stateDir = join(dir, 'state');
  const filesDir = join(dir, 'files');
  const homeDir = join(dir, 'home');
  const logsDir = join(dir, 'logs');
  return {
    dir,
    record: join(dir, 'workload.json'),
    stateDir,
    filesDir,
    homeDir,
    logsDir,
    state: (container) => join(stateDir, `${container}.json`),
    files: (container) => join(filesDir, container),
    home: (container) => join(homeDir, container),
    log: (container) => join(logsDir, `${container}.jsonl`),
    eventLog: (container) => join(logsDir, `${container}.events.log`),
  };
}

/** The container whose log file is `fileName` (`<container>.jsonl`), or null for any other file. */
export function containerOfLogFile(fileName: string): string | null {
  return fileName.endsWith('.jsonl') ? fileName.slice(0, -'.jsonl'.length) : null;
}
