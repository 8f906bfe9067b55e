// The one redis-server Pave runs itself per data directory. It outlives Pave (workloads use it), so every call
// finds it again from its state file, checks it answers, and starts it when it does not.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, delimiter, join, resolve } from 'node:path';
import type { DriverLogger } from '@pave/plugin-api';
import { formatRedisUrl, withRedis, type RedisEndpoint } from './connection.ts';
import {
  freePort,
  logTail,
  portIsFree,
  procStat,
  signalIfRunning,
  sleep,
  waitUntil,
  withStartLock,
} from '@pave/plugin-api';

/** The files of the embedded server, all under `<dataDir>/resources/redis/`. */
export interface EmbeddedRedisLayout {
  root: string;
  /** The server's `--dir`: its append-only files. */
  dataDirectory: string;
  /** The `default` user's password (mode 0600). */
  passwordFile: string;
  /** The server's `--aclfile`: the `default` user (password hashed) and every resource's user. */
  aclFile: string;
  /** `state.json`: pid and port of the running server. */
  stateFile: string;
  /** The server's output. */
  logFile: string;
  /** Held (created with O_EXCL) by the one process that is starting the server. */
  lockFile: string;
}

/** Where the embedded server of `dataDir` keeps its files. */
export function embeddedRedisLayout(dataDir: string): EmbeddedRedisLayout {
  const root = resolve(dataDir, 'resources', 'redis');
  return {
    root,
    dataDirectory: join(root, 'data'),
    passwordFile: join(root, 'admin-password'),
    aclFile: join(root, 'users.acl'),
    stateFile: join(root, 'state.json'),
    logFile: join(root, 'redis.log'),
    lockFile: join(root, 'start.lock'),
  };
}

/** A running embedded server: where it listens (always 127.0.0.1) and the `default` user's password. */
export interface EmbeddedRedisServer {
  pid: number;
  port: number;
  password: string;
}

/** `state.json`. */
interface EmbeddedRedisState {
  /** 0 once stopped (the port is kept for the next start). */
  pid: number;
  /** The process' start time on Linux (/proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  startTime?: number;
  port: number;
  /** The executable's file name, which the process' command line shows (redis-server rewrites the rest). */
  command: string;
  startedAt: string;
}

/** The admin endpoint of an embedded server. */
export function embeddedAdminEndpoint(server: EmbeddedRedisServer): RedisEndpoint {
  return {
    tls: false,
    host: '127.0.0.1',
    port: server.port,
    username: 'default',
    password: server.password,
    db: 0,
  };
}

/**
 * The redis-server executable: `configured` when given (null if it is not an executable file), else the first
 * `redis-server` on `pathEnv` (default: PATH), else null.
 */
export function findRedisServer(
  configured: string | undefined,
  pathEnv = process.env.PATH ?? '',
): string | null {
  const candidates = configured
    ? [configured]
    : pathEnv
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, 'redis-server'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return resolve(candidate);
    } catch {
      // not there or not executable: try the next one
    }
  }
  return null;
}

const starts = new Map<string, Promise<EmbeddedRedisServer | null>>();

/**
 * The running embedded server of `dataDir`, started first if it is not running (when `start` is false, null
 * instead). Concurrent calls in one process share one check; across processes, a lock file lets one start it
 * while the others wait. Rejects when redis-server cannot be started, with the end of its log.
 */
export function ensureEmbeddedRedis(options: {
  dataDir: string;
  /** The redis-server executable; asked only when the server must be started (it may throw). */
  redisServerPath: () => string;
  logger: DriverLogger;
  start?: boolean;
}): Promise<EmbeddedRedisServer | null> {
  const layout = embeddedRedisLayout(options.dataDir);
  const start = options.start ?? true;
  const pending = starts.get(layout.root);
  // A call that may not start the server must not make one that needs it go without.
  if (pending) return pending.then((server) => server ?? (start ? ensureEmbeddedRedis(options) : null));
  const attempt = ensureRunning(layout, options.redisServerPath, options.logger, start).finally(() =>
    starts.delete(layout.root),
  );
  starts.set(layout.root, attempt);
  return attempt;
}

/**
 * The admin URL (`redis://default:<password>@127.0.0.1:<port>`) of the embedded server of `dataDir` if it is
 * running and answers, else null. For operators and tests that need to look inside; it starts nothing.
 */
export async function embeddedRedisAdminUrl(dataDir: string): Promise<string | null> {
  const server = await runningServer(embeddedRedisLayout(dataDir));
  return server && formatRedisUrl(embeddedAdminEndpoint(server));
}

/** The embedded server as {@link stopEmbeddedRedis} stopped it. */
export interface StoppedRedisServer {
  /** `redis-server`, for people. */
  name: string;
  pid: number;
  /** Whether it had to be killed (SIGKILL): it neither shut down nor exited on SIGTERM in time. */
  killed: boolean;
}

/**
 * Stops the embedded server of `dataDir` if it runs (SHUTDOWN, which flushes its append-only file; SIGTERM
 * and then SIGKILL if it does not answer) and forgets its pid, keeping its port. Its data stays: the next call
 * starts it again with everything it held. Only the process its state file recorded (executable and start
 * time) is signalled. Resolves with the server it stopped, or none when it was not running. For tests and
 * `pave down`; Pave never stops it on its own.
 */
export async function stopEmbeddedRedis(dataDir: string): Promise<StoppedRedisServer[]> {
  const layout = embeddedRedisLayout(dataDir);
  await starts.get(layout.root)?.catch(() => undefined);
  const state = readState(layout);
  // pid 0: stopped by this function, or never started.
  if (!state || state.pid <= 0) return [];
  const wasRunning = isServerProcess(state);
  let killed = false;
  const password = readPassword(layout);
  if (password) {
    await withRedis(
      embeddedAdminEndpoint({ ...state, password }),
      AbortSignal.timeout(5_000),
      (redis) => redis.call('SHUTDOWN'),
      { connectTimeoutMs: 1_000 },
    ).catch(() => undefined); // the server closes the connection instead of answering
  }
  if (!(await waitUntil(() => !isServerProcess(state), 10_000)) && isServerProcess(state)) {
    signalIfRunning(state.pid, 'SIGTERM');
    if (!(await waitUntil(() => !isServerProcess(state), 5_000)) && isServerProcess(state)) {
      signalIfRunning(state.pid, 'SIGKILL');
      killed = true;
      await waitUntil(() => !isServerProcess(state), 2_000);
    }
  }
  // Keep the port: the next start uses it again, so the outputs of every resource stay right.
  await writeState(layout, { ...state, pid: 0 });
  return wasRunning ? [{ name: 'redis-server', pid: state.pid, killed }] : [];
}

async function ensureRunning(
  layout: EmbeddedRedisLayout,
  redisServerPath: () => string,
  logger: DriverLogger,
  start: boolean,
): Promise<EmbeddedRedisServer | null> {
  const running = await runningServer(layout);
  if (running || !start) return running;
  return withStartLock(
    {
      dir: layout.root,
      file: layout.lockFile,
      what: 'the embedded redis-server',
      timeoutMs: 30_000,
      staleMs: 60_000,
    },
    async () => {
      // Another process may have started it while this one waited for the lock.
      const started = await runningServer(layout);
      if (started) return started;
      const state = readState(layout);
      const password = readPassword(layout);
      if (state && password && isServerProcess(state)) {
        // Ours, but not answering yet: it may still be loading its append-only file.
        if (await waitUntil(() => answers(state.port, password), 15_000)) return { ...state, password };
        throw new Error(
          `the embedded redis-server (pid ${state.pid}) does not answer on 127.0.0.1:${state.port}; ` +
            `see ${layout.logFile}, or stop it so that Pave starts it again`,
        );
      }
      return startServer(layout, redisServerPath(), state?.port, logger);
    },
  );
}

/** The server recorded in the state file, if it answers PING with the recorded password. */
async function runningServer(layout: EmbeddedRedisLayout): Promise<EmbeddedRedisServer | null> {
  const state = readState(layout);
  const password = readPassword(layout);
  if (!state || !password) return null;
  return (await answers(state.port, password)) ? { pid: state.pid, port: state.port, password } : null;
}

async function startServer(
  layout: EmbeddedRedisLayout,
  redisServerPath: string,
  previousPort: number | undefined,
  logger: DriverLogger,
): Promise<EmbeddedRedisServer> {
  await mkdir(layout.dataDirectory, { recursive: true, mode: 0o700 });
  let password = readPassword(layout);
  if (!password) {
    password = randomBytes(32).toString('base64url');
    await writeFile(layout.passwordFile, `${password}\n`, { mode: 0o600 });
  }
  await writeAclFile(layout, password);
  for (let attempt = 1; ; attempt += 1) {
    // Keep the port across restarts: the outputs of every resource name it.
    const port =
      attempt === 1 && previousPort && (await portIsFree(previousPort)) ? previousPort : await freePort();
    if (previousPort && port !== previousPort) {
      logger.warn('the embedded redis-server moves to another port: its resources need an update', {
        from: previousPort,
        to: port,
      });
    }
    const outcome = await spawnServer(layout, redisServerPath, port, password);
    if (outcome.ok) {
      logger.info('started the embedded redis-server', { pid: outcome.pid, port, dir: layout.root });
      return { pid: outcome.pid, port, password };
    }
    if (!/address already in use/i.test(outcome.log) || attempt === 3) {
      throw new Error(
        `could not start the embedded redis-server (${redisServerPath}): ${outcome.reason}; ` +
          `the end of ${layout.logFile}:\n${outcome.log}`,
      );
    }
  }
}

type SpawnOutcome = { ok: true; pid: number } | { ok: false; reason: string; log: string };

async function spawnServer(
  layout: EmbeddedRedisLayout,
  redisServerPath: string,
  port: number,
  password: string,
): Promise<SpawnOutcome> {
  const logOffset = existsSync(layout.logFile) ? statSync(layout.logFile).size : 0;
  const log = openSync(layout.logFile, 'a', 0o600);
  const status: { exit: string | null } = { exit: null };
  let child;
  try {
    child = spawn(
      redisServerPath,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--protected-mode',
        'yes',
        '--dir',
        layout.dataDirectory,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--aclfile',
        layout.aclFile,
        '--daemonize',
        'no',
      ],
      // Detached in its own process group, output to the log: it keeps running when Pave stops.
      { detached: true, stdio: ['ignore', log, log], cwd: layout.root },
    );
  } finally {
    closeSync(log);
  }
  child.on('error', (error) => (status.exit = error.message));
  child.on('exit', (code, sig) => (status.exit = `exited ${sig ? `on ${sig}` : `with code ${code}`}`));
  child.unref();
  const pid = child.pid;
  if (pid !== undefined) {
    await writeState(layout, {
      pid,
      startTime: procStat(pid)?.startTime,
      port,
      command: basename(redisServerPath),
      startedAt: new Date().toISOString(),
    });
    const ready = await waitUntil(
      async () => status.exit !== null || (await answers(port, password)),
      15_000,
    );
    if (ready && status.exit === null) return { ok: true, pid };
    if (status.exit === null) signalIfRunning(pid, 'SIGKILL');
    await writeState(layout, { pid: 0, port, command: basename(redisServerPath), startedAt: '' });
  } else {
    await sleep(50); // spawn reports why (ENOENT, EACCES…) in an 'error' event
  }
  return {
    ok: false,
    reason: status.exit ?? 'it did not answer within 15 s',
    log: await logTail(layout.logFile, logOffset),
  };
}

/**
 * Writes the aclfile with a `default` user protected by `password` (stored as its SHA-256), keeping every
 * other user it already holds. Only called while the server is stopped, so no ACL SAVE races it.
 */
async function writeAclFile(layout: EmbeddedRedisLayout, password: string): Promise<void> {
  const existing = existsSync(layout.aclFile) ? await readFile(layout.aclFile, 'utf8') : '';
  const others = existing.split('\n').filter((line) => line.trim() !== '' && !/^user default\s/.test(line));
  const hash = createHash('sha256').update(password).digest('hex');
  const lines = [`user default on #${hash} ~* &* +@all`, ...others];
  await writeFile(layout.aclFile, `${lines.join('\n')}\n`, { mode: 0o600 });
}

function readState(layout: EmbeddedRedisLayout): EmbeddedRedisState | null {
  try {
    const state = JSON.parse(readFileSync(layout.stateFile, 'utf8')) as Partial<EmbeddedRedisState>;
    if (!Number.isInteger(state.pid) || !Number.isInteger(state.port)) return null;
    return state as EmbeddedRedisState;
  } catch {
    return null;
  }
}

async function writeState(layout: EmbeddedRedisLayout, state: EmbeddedRedisState): Promise<void> {
  await writeFile(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function readPassword(layout: EmbeddedRedisLayout): string | null {
  try {
    return readFileSync(layout.passwordFile, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * Whether the recorded process still runs and is the recorded executable (not another process that got its
 * pid). Without /proc (macOS) only whether the pid is alive.
 */
function isServerProcess(state: EmbeddedRedisState): boolean {
  if (state.pid <= 0) return false;
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(state.pid);
    if (!stat || stat.zombie) return false;
    if (state.startTime !== undefined && stat.startTime !== state.startTime) return false;
    try {
      return readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').includes(state.command);
    } catch {
      return false;
    }
  }
  try {
    process.kill(state.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether a Redis on 127.0.0.1:`port` answers PING as `default` with `password`. */
async function answers(port: number, password: string): Promise<boolean> {
  const endpoint: RedisEndpoint = {
    tls: false,
    host: '127.0.0.1',
    port,
    username: 'default',
    password,
    db: 0,
  };
  try {
    return (
      (await withRedis(endpoint, AbortSignal.timeout(2_000), (redis) => redis.ping(), {
        connectTimeoutMs: 1_000,
      })) === 'PONG'
    );
  } catch {
    return false;
  }
}
