// The system engine: one PostgreSQL server per Pave data directory, run from the machine's own PostgreSQL
// programs, started on first use and kept running after Pave exits (workloads depend on it).
import { spawn } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { DriverLogger } from '@pave/plugin-api';
import type { ServerPrograms } from '../executables.ts';
import { randomPassword } from '../passwords.ts';
import { withClient } from '../provisioning.ts';
import { readJsonFile, writeJsonFile } from './layout.ts';
import type { EmbeddedLayout } from './layout.ts';
import { withLock } from './lock.ts';
import { freePort, logTail, portInUse, processRunsWith, sleep, stopProcess } from './processes.ts';
import { chownTree, makeTraversable, serviceUser } from './service-user.ts';
import type { ServiceUser } from './service-user.ts';

/** `system-server.json`: the port is chosen once and kept, since resources' outputs name it. */
interface SystemServerState {
  port: number;
  /** The postmaster's pid while it runs (it may have stopped since: always check). */
  pid: number | null;
  startedAt?: string;
}

const READY_TIMEOUT_MS = 60_000;
const INITDB_TIMEOUT_MS = 120_000;
/** Longest Unix socket path Linux accepts is 107 bytes; beyond it the server listens on TCP only. */
const MAX_SOCKET_PATH = 100;

/**
 * Client authentication: the superuser may use the Unix socket without a password (its directory is private
 * to the server's user); everyone else, and everyone over TCP, authenticates with SCRAM.
 */
const PG_HBA = `# Written by Pave (resource-postgres, system engine).
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 trust
local   all       all                      scram-sha-256
host    all       all       127.0.0.1/32   scram-sha-256
host    all       all       ::1/128        scram-sha-256
`;

/** The superuser's connection URL over TCP. */
function adminUrl(password: string, port: number): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/** Whether the server accepts the superuser's connections. */
async function accepts(url: string): Promise<boolean> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** The admin URL of the server if it runs and accepts connections; null otherwise. */
async function runningServer(layout: EmbeddedLayout): Promise<string | null> {
  const state = readJsonFile<SystemServerState>(layout.system.stateFile);
  if (!state?.pid || !processRunsWith(state.pid, layout.system.dataDir)) return null;
  const password = readPassword(layout);
  if (!password) return null;
  const url = adminUrl(password, state.port);
  return (await accepts(url)) ? url : null;
}

function readPassword(layout: EmbeddedLayout): string | null {
  try {
    return readFileSync(layout.system.passwordFile, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * Makes sure the embedded server runs, and returns its superuser URL (`postgres://postgres:…@127.0.0.1:PORT/postgres`).
 * On first use it runs initdb; whenever the server is not running (first use, after a reboot or a crash) it
 * starts it, detached, so that it outlives Pave. Concurrent callers, in this or other processes, wait for one
 * start (see `withLock`). When Pave runs as root, the server runs as the `postgres` (else `nobody`) user,
 * owns `<dataDir>/resources/postgres/system`, and the directories above are made traversable (0711).
 * Rejects with the server's last log lines when it cannot start.
 */
export async function ensureSystemServer(
  layout: EmbeddedLayout,
  programs: ServerPrograms,
  logger: DriverLogger,
  signal: AbortSignal,
): Promise<string> {
  const running = await runningServer(layout);
  if (running) return running;
  return withLock(
    layout.system.clusterDir,
    async () => (await runningServer(layout)) ?? (await startServer(layout, programs, logger, signal)),
    { signal },
  );
}

async function startServer(
  layout: EmbeddedLayout,
  programs: ServerPrograms,
  logger: DriverLogger,
  signal: AbortSignal,
): Promise<string> {
  const { system } = layout;
  const user = serviceUser();
  mkdirSync(system.clusterDir, { recursive: true, mode: 0o700 });
  if (user) {
    makeTraversable(layout.base, logger);
    chownTree(system.clusterDir, user);
  }
  let password = readPassword(layout);
  if (!password) {
    password = randomPassword();
    writeFileSync(system.passwordFile, `${password}\n`, { mode: 0o600 });
  }
  if (!existsSync(join(system.dataDir, 'PG_VERSION'))) {
    await initCluster(layout, programs, password, user, logger, signal);
  }

  const state = readJsonFile<SystemServerState>(system.stateFile);
  const adopted = adoptRunningPostmaster(layout);
  if (adopted) {
    writeJsonFile(system.stateFile, {
      port: adopted.port,
      pid: adopted.pid,
      startedAt: new Date().toISOString(),
    });
    const url = adminUrl(password, adopted.port);
    await waitUntilAccepting(url, adopted.pid, layout, signal);
    return url;
  }

  const port = state?.port ?? (await freePort());
  if (await portInUse(port)) {
    throw new Error(
      `the embedded PostgreSQL server's port ${port} (kept in ${system.stateFile}, because resources' outputs ` +
        `name it) is taken by another program: stop that program, or delete the resources and that file`,
    );
  }
  mkdirSync(system.socketDir, { recursive: true, mode: 0o700 });
  if (user) chownSync(system.socketDir, user.uid, user.gid);
  const socketDir =
    join(system.socketDir, `.s.PGSQL.${port}`).length <= MAX_SOCKET_PATH ? system.socketDir : '';

  const log = openSync(system.logFile, 'a', 0o600);
  let pid: number;
  try {
    const child = spawn(
      programs.postgres,
      ['-D', system.dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1'],
      { ...asUser(user, system.clusterDir), detached: true, stdio: ['ignore', log, log] },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    pid = child.pid!;
  } finally {
    closeSync(log);
  }
  writeJsonFile(system.stateFile, {
    port,
    pid,
    startedAt: new Date().toISOString(),
  } satisfies SystemServerState);
  const url = adminUrl(password, port);
  try {
    await waitUntilAccepting(url, pid, layout, signal);
  } catch (error) {
    await stopProcess(pid, system.dataDir, 'SIGINT');
    throw error;
  }
  logger.info('started the embedded PostgreSQL server', { port, pid, dataDir: system.dataDir });
  return url;
}

/**
 * A postmaster already running on our data directory that the state file does not know (it was started by
 * hand, or the state file was lost), from `postmaster.pid`; null when there is none. A `postmaster.pid` left
 * by a server that died (a reboot) is removed: after a reboot its pid may belong to an unrelated process, which
 * would make postgres refuse to start.
 */
function adoptRunningPostmaster(layout: EmbeddedLayout): { pid: number; port: number } | null {
  const file = join(layout.system.dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = readFileSync(file, 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (Number.isInteger(pid) && pid > 0 && processRunsWith(pid, layout.system.dataDir)) {
    return Number.isInteger(port) && port > 0 ? { pid, port } : null;
  }
  rmSync(file, { force: true });
  return null;
}

/** Runs initdb with the superuser `postgres` and writes pg_hba.conf (see PG_HBA). */
async function initCluster(
  layout: EmbeddedLayout,
  programs: ServerPrograms,
  password: string,
  user: ServiceUser | null,
  logger: DriverLogger,
  signal: AbortSignal,
): Promise<void> {
  const { system } = layout;
  rmSync(system.dataDir, { recursive: true, force: true });
  const passwordFile = join(system.clusterDir, 'initdb-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user) chownSync(passwordFile, user.uid, user.gid);
  logger.info('initialising the embedded PostgreSQL cluster', { dataDir: system.dataDir });
  const log = openSync(system.logFile, 'a', 0o600);
  try {
    const child = spawn(
      programs.initdb,
      [
        '-D',
        system.dataDir,
        '-U',
        'postgres',
        `--pwfile=${passwordFile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ],
      { ...asUser(user, system.clusterDir), stdio: ['ignore', log, log], timeout: INITDB_TIMEOUT_MS, signal },
    );
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) {
      throw new Error(`initdb failed (exit code ${code}); its output:\n${logTail(system.logFile)}`);
    }
  } catch (error) {
    rmSync(system.dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    closeSync(log);
    rmSync(passwordFile, { force: true });
  }
  const hba = join(system.dataDir, 'pg_hba.conf');
  writeFileSync(hba, PG_HBA, { mode: 0o600 });
  if (user) chownSync(hba, user.uid, user.gid);
}

/** Spawn options that run a program as `user` (when Pave is root) in `cwd`. */
function asUser(user: ServiceUser | null, cwd: string): SpawnOptions {
  return user ? { cwd, uid: user.uid, gid: user.gid, env: { ...process.env, HOME: cwd } } : { cwd };
}

async function waitUntilAccepting(
  url: string,
  pid: number,
  layout: EmbeddedLayout,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await accepts(url))) {
    if (!processRunsWith(pid, layout.system.dataDir)) {
      throw new Error(
        `the embedded PostgreSQL server exited during start-up; its log:\n${logTail(layout.system.logFile)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the embedded PostgreSQL server did not accept connections within ${READY_TIMEOUT_MS / 1000} s; its log:\n` +
          logTail(layout.system.logFile),
      );
    }
    await sleep(100, signal);
  }
}

/** Whether the system engine's cluster has been initialised (resources may exist on it). */
export function systemClusterExists(layout: EmbeddedLayout): boolean {
  return existsSync(join(layout.system.dataDir, 'PG_VERSION'));
}

/**
 * Stops the embedded server (fast shutdown: sessions are ended) if it runs; keeps its data. Resolves with its
 * pid and whether it had to be killed, or null when it was not running.
 */
export async function stopSystemServer(
  layout: EmbeddedLayout,
): Promise<{ pid: number; killed: boolean } | null> {
  return withLock(layout.system.clusterDir, async () => {
    const state = readJsonFile<SystemServerState>(layout.system.stateFile);
    if (!state?.pid) return null;
    const outcome = await stopProcess(state.pid, layout.system.dataDir, 'SIGINT');
    writeJsonFile(layout.system.stateFile, { port: state.port, pid: null } satisfies SystemServerState);
    return outcome === 'not-running' ? null : { pid: state.pid, killed: outcome === 'killed' };
  });
}
