// The one RabbitMQ node Pave runs itself per data directory. It outlives Pave (workloads use it), so every call
// finds it again from its state file, checks it answers, and starts it when it does not.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import type { DriverLogger } from '@pave/plugin-api';
import { type ManagementEndpoint } from './management-api.ts';
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

/** The files of the embedded node, all under `<dataDir>/resources/rabbitmq/`. */
export interface EmbeddedRabbitmqLayout {
  root: string;
  /** The node's HOME: its private Erlang cookie. */
  home: string;
  /** RABBITMQ_MNESIA_BASE: vhosts, users, queues and messages. */
  mnesiaBase: string;
  /** RABBITMQ_LOG_BASE: the node's own logs. */
  logBase: string;
  /** RABBITMQ_CONFIG_FILE: listeners and the admin user (holds its password: mode 0600). */
  configFile: string;
  /** RABBITMQ_ENABLED_PLUGINS_FILE: the management plugin. */
  enabledPluginsFile: string;
  /** RABBITMQ_CONF_ENV_FILE: empty, so the system's /etc/rabbitmq/rabbitmq-env.conf does not apply. */
  envFile: string;
  /** RABBITMQ_PID_FILE: the Erlang VM's pid. */
  pidFile: string;
  /** The admin user's password (mode 0600). */
  passwordFile: string;
  /** `state.json`: pid, node name and ports of the running node. */
  stateFile: string;
  /** The start script's output. */
  logFile: string;
  /** Held (created with O_EXCL) by the one process that is starting the node. */
  lockFile: string;
}

/** Where the embedded node of `dataDir` keeps its files. */
export function embeddedRabbitmqLayout(dataDir: string): EmbeddedRabbitmqLayout {
  const root = resolve(dataDir, 'resources', 'rabbitmq');
  return {
    root,
    home: join(root, 'home'),
    mnesiaBase: join(root, 'mnesia'),
    logBase: join(root, 'log'),
    configFile: join(root, 'rabbitmq.conf'),
    enabledPluginsFile: join(root, 'enabled_plugins'),
    envFile: join(root, 'rabbitmq-env.conf'),
    pidFile: join(root, 'rabbitmq.pid'),
    passwordFile: join(root, 'admin-password'),
    stateFile: join(root, 'state.json'),
    logFile: join(root, 'rabbitmq-server.log'),
    lockFile: join(root, 'start.lock'),
  };
}

/** The management API user the embedded node is created with (tagged administrator). */
export const EMBEDDED_ADMIN_USER = 'pave-admin';

/** A running embedded node: its name, where it listens (always 127.0.0.1) and the admin password. */
export interface EmbeddedRabbitmqNode {
  pid: number;
  nodeName: string;
  amqpPort: number;
  managementPort: number;
  password: string;
}

/** `state.json`. */
interface EmbeddedRabbitmqState {
  /** The start script's pid (its process group holds the Erlang VM); 0 once stopped. */
  pid: number;
  /** The process' start time on Linux (/proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  startTime?: number;
  nodeName: string;
  /** Kept across restarts, so every resource's outputs stay right. */
  amqpPort: number;
  managementPort: number;
  distPort: number;
  startedAt: string;
}

/** The management endpoint of an embedded node. */
export function embeddedManagementEndpoint(node: EmbeddedRabbitmqNode): ManagementEndpoint {
  return {
    baseUrl: `http://127.0.0.1:${node.managementPort}`,
    host: '127.0.0.1',
    port: node.managementPort,
    username: EMBEDDED_ADMIN_USER,
    password: node.password,
  };
}

/** Where `rabbitmq-server` is looked for by default: PATH, then where Debian and RPM packages put it. */
export function defaultSearchPath(pathEnv = process.env.PATH ?? ''): string[] {
  return [...pathEnv.split(delimiter).filter(Boolean), '/usr/sbin', '/usr/lib/rabbitmq/bin'];
}

/**
 * The rabbitmq-server start script to run: the first `rabbitmq-server` in `searchPath` that is (or leads to)
 * RabbitMQ's own start script, with `rabbitmq-env` beside it; else null. Debian's /usr/sbin/rabbitmq-server is
 * a wrapper that switches to the `rabbitmq` user (and drops the environment): the script it wraps, in
 * ../lib/rabbitmq/bin, is run instead.
 */
export function findRabbitmqServer(searchPath: readonly string[]): string | null {
  for (const candidate of searchPath.map((dir) => join(dir, 'rabbitmq-server'))) {
    if (!isExecutableFile(candidate)) continue;
    const real = realpathSync(candidate);
    const scripts = [candidate, join(dirname(real), 'rabbitmq-server')];
    scripts.push(resolve(dirname(candidate), '..', 'lib', 'rabbitmq', 'bin', 'rabbitmq-server'));
    // Anything else (a distribution's wrapper, which may switch users and call itself again) is never run.
    const script = scripts.map(startScript).find((found) => found !== null);
    if (script) return script;
  }
  return null;
}

/** `path` resolved, if it is RabbitMQ's own start script (with `rabbitmq-env` beside it), else null. */
function startScript(path: string): string | null {
  if (!isExecutableFile(path)) return null;
  const real = realpathSync(path);
  return basename(real) === 'rabbitmq-server' && existsSync(join(dirname(real), 'rabbitmq-env'))
    ? real
    : null;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const starts = new Map<string, Promise<EmbeddedRabbitmqNode | null>>();

/**
 * The running embedded node of `dataDir`, started first if it is not running (when `start` is false, null
 * instead). Concurrent calls in one process share one check; across processes, a lock file lets one start it
 * while the others wait. Rejects when the node cannot be started, with the end of its log.
 */
export function ensureEmbeddedRabbitmq(options: {
  dataDir: string;
  /** The start script; asked only when the node must be started (it may throw). */
  rabbitmqServerPath: () => string;
  logger: DriverLogger;
  start?: boolean;
}): Promise<EmbeddedRabbitmqNode | null> {
  const layout = embeddedRabbitmqLayout(options.dataDir);
  const start = options.start ?? true;
  const pending = starts.get(layout.root);
  // A call that may not start the node must not make one that needs it go without.
  if (pending) return pending.then((node) => node ?? (start ? ensureEmbeddedRabbitmq(options) : null));
  const attempt = ensureRunning(layout, options.rabbitmqServerPath, options.logger, start).finally(() =>
    starts.delete(layout.root),
  );
  starts.set(layout.root, attempt);
  return attempt;
}

/**
 * The admin URL (`http://pave-admin:<password>@127.0.0.1:<port>`) of the embedded node of `dataDir` if it runs
 * and answers, else null. For operators and tests that need to look inside; it starts nothing.
 */
export async function embeddedRabbitmqAdminUrl(dataDir: string): Promise<string | null> {
  const node = await runningNode(embeddedRabbitmqLayout(dataDir));
  if (!node) return null;
  return `http://${EMBEDDED_ADMIN_USER}:${encodeURIComponent(node.password)}@127.0.0.1:${node.managementPort}`;
}

/** The embedded node as {@link stopEmbeddedRabbitmq} stopped it. */
export interface StoppedRabbitmqNode {
  /** `RabbitMQ`, for people. */
  name: string;
  /** Its start script's pid, or the Erlang VM's when the script was gone. */
  pid: number;
  /** Whether it had to be killed (SIGKILL): it had not stopped 30 s after SIGTERM. */
  killed: boolean;
}

/**
 * Stops the embedded node of `dataDir` if it runs (SIGTERM to its start script, which stops RabbitMQ cleanly;
 * SIGKILL to its process group if it is not gone within 30 s) and forgets its pid. Its data and ports stay: the
 * next call starts it again with everything it held. Only processes that are the node's are signalled: the
 * start script its state file recorded (command and start time), and the Erlang VM of its pid file if that VM
 * runs with the node's HOME. Resolves with the node it stopped, or none when it was not running. For tests and
 * `pave down`; Pave never stops it on its own.
 */
export async function stopEmbeddedRabbitmq(dataDir: string): Promise<StoppedRabbitmqNode[]> {
  const layout = embeddedRabbitmqLayout(dataDir);
  await starts.get(layout.root)?.catch(() => undefined);
  const state = readState(layout);
  if (!state) return [];
  // After a reboot the pid file may name a stranger: only this node's VM counts.
  const recordedVm = readVmPid(layout);
  const vmPid = recordedVm !== null && isNodeVm(recordedVm, layout) ? recordedVm : null;
  const vmAlive = () => vmPid !== null && isNodeVm(vmPid, layout);
  const gone = () => !isNodeProcess(state) && !vmAlive();
  const scriptRuns = isNodeProcess(state);
  const pid = scriptRuns ? state.pid : vmPid;
  if (pid !== null) signalIfRunning(pid, 'SIGTERM');
  const stopped = await waitUntil(gone, 30_000);
  if (!stopped) {
    if (scriptRuns) signalIfRunning(-state.pid, 'SIGKILL');
    if (vmPid !== null && vmAlive()) signalIfRunning(vmPid, 'SIGKILL');
    await waitUntil(gone, 5_000);
  }
  await writeState(layout, { ...state, pid: 0, startTime: undefined, startedAt: '' });
  return pid !== null ? [{ name: 'RabbitMQ', pid, killed: !stopped }] : [];
}

async function ensureRunning(
  layout: EmbeddedRabbitmqLayout,
  rabbitmqServerPath: () => string,
  logger: DriverLogger,
  start: boolean,
): Promise<EmbeddedRabbitmqNode | null> {
  const running = await runningNode(layout);
  if (running || !start) return running;
  return withStartLock(
    {
      dir: layout.root,
      file: layout.lockFile,
      what: 'the embedded RabbitMQ node',
      timeoutMs: 120_000,
      pollMs: 200,
    },
    async () => {
      // Another process may have started it while this one waited for the lock.
      const meanwhile = await runningNode(layout);
      if (meanwhile) return meanwhile;
      const previous = readState(layout);
      if (previous && isNodeProcess(previous)) {
        // Alive but not answering: a node still booting (or hung). Give it the usual boot time, then replace it.
        const password = readPassword(layout);
        if (password && (await waitUntil(() => answers(previous, password), 60_000))) {
          return { ...previous, password };
        }
        logger.warn('the embedded RabbitMQ node runs but does not answer: restarting it', {
          pid: previous.pid,
        });
        signalIfRunning(-previous.pid, 'SIGKILL');
        await waitUntil(() => !isNodeProcess(previous), 5_000);
      }
      const executable = rabbitmqServerPath();
      if (previous)
        logger.info('the embedded RabbitMQ node is down: starting it again', { dir: layout.root });
      return startNode(layout, executable, previous, logger);
    },
  );
}

/** The node recorded in the state file, if its management API answers with the admin credentials. */
async function runningNode(layout: EmbeddedRabbitmqLayout): Promise<EmbeddedRabbitmqNode | null> {
  const state = readState(layout);
  const password = readPassword(layout);
  if (!state || !password || state.pid === 0) return null;
  return (await answers(state, password)) ? { ...state, password } : null;
}

async function startNode(
  layout: EmbeddedRabbitmqLayout,
  executable: string,
  previous: EmbeddedRabbitmqState | null,
  logger: DriverLogger,
): Promise<EmbeddedRabbitmqNode> {
  for (const dir of [layout.home, layout.mnesiaBase, layout.logBase]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }
  let password = readPassword(layout);
  if (!password) {
    password = randomBytes(32).toString('base64url');
    await writeFile(layout.passwordFile, `${password}\n`, { mode: 0o600 });
  }
  const nodeName =
    previous?.nodeName ??
    `pave-${createHash('sha256').update(layout.root).digest('hex').slice(0, 12)}@localhost`;
  for (let attempt = 1; ; attempt += 1) {
    // Keep the ports across restarts: the outputs of every resource name the AMQP port.
    const keep = attempt === 1 && previous;
    const amqpPort = keep && (await portIsFree(previous.amqpPort)) ? previous.amqpPort : await freePort();
    const managementPort =
      keep && (await portIsFree(previous.managementPort)) ? previous.managementPort : await freePort();
    const distPort = keep && (await portIsFree(previous.distPort)) ? previous.distPort : await freePort();
    if (previous && amqpPort !== previous.amqpPort) {
      logger.warn('the embedded RabbitMQ node moves to another AMQP port: its resources need an update', {
        from: previous.amqpPort,
        to: amqpPort,
      });
    }
    const state: EmbeddedRabbitmqState = {
      pid: 0,
      nodeName,
      amqpPort,
      managementPort,
      distPort,
      startedAt: new Date().toISOString(),
    };
    await writeConfig(layout, state, password);
    const startedAt = Date.now();
    const outcome = await spawnNode(layout, executable, state, password);
    if (outcome.ok) {
      logger.info('started the embedded RabbitMQ node', {
        pid: outcome.pid,
        node: nodeName,
        amqpPort,
        managementPort,
        seconds: Math.round((Date.now() - startedAt) / 100) / 10,
        dir: layout.root,
      });
      return { pid: outcome.pid, nodeName, amqpPort, managementPort, password };
    }
    if (!/eaddrinuse|address already in use/i.test(outcome.log) || attempt === 3) {
      throw new Error(
        `could not start the embedded RabbitMQ node (${executable}): ${outcome.reason}; ` +
          `the end of ${layout.logFile} (more in ${layout.logBase}):\n${outcome.log}`,
      );
    }
  }
}

/** Writes the node's config file, plugins file and (empty) env file for `state`'s ports. */
async function writeConfig(layout: EmbeddedRabbitmqLayout, state: EmbeddedRabbitmqState, password: string) {
  const config = [
    '# Written by Pave at every start of its embedded node: edits are lost.',
    `listeners.tcp.local = 127.0.0.1:${state.amqpPort}`,
    `management.tcp.ip = 127.0.0.1`,
    `management.tcp.port = ${state.managementPort}`,
    // Only used when the node boots with an empty database: the admin Pave manages it as.
    `default_user = ${EMBEDDED_ADMIN_USER}`,
    `default_pass = ${password}`,
    'default_user_tags.administrator = true',
  ];
  await writeFile(layout.configFile, `${config.join('\n')}\n`, { mode: 0o600 });
  await writeFile(layout.enabledPluginsFile, '[rabbitmq_management].\n', { mode: 0o600 });
  await writeFile(layout.envFile, "# Empty: keeps the system-wide rabbitmq-env.conf out of Pave's node.\n", {
    mode: 0o600,
  });
}

type SpawnOutcome = { ok: true; pid: number } | { ok: false; reason: string; log: string };

const BOOT_TIMEOUT_MS = 60_000;

async function spawnNode(
  layout: EmbeddedRabbitmqLayout,
  executable: string,
  state: EmbeddedRabbitmqState,
  password: string,
): Promise<SpawnOutcome> {
  const logOffset = existsSync(layout.logFile) ? statSync(layout.logFile).size : 0;
  const log = openSync(layout.logFile, 'a', 0o600);
  const status: { exit: string | null } = { exit: null };
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('RABBITMQ_') && !key.startsWith('ERL_')),
  );
  let child;
  try {
    child = spawn(executable, [], {
      // Detached in its own process group, output to the log: it keeps running when Pave stops.
      detached: true,
      stdio: ['ignore', log, log],
      cwd: layout.root,
      env: {
        ...inherited,
        HOME: layout.home,
        RABBITMQ_CONF_ENV_FILE: layout.envFile,
        RABBITMQ_NODENAME: state.nodeName,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(state.amqpPort),
        RABBITMQ_DIST_PORT: String(state.distPort),
        RABBITMQ_CONFIG_FILE: layout.configFile,
        RABBITMQ_ENABLED_PLUGINS_FILE: layout.enabledPluginsFile,
        RABBITMQ_MNESIA_BASE: layout.mnesiaBase,
        RABBITMQ_LOG_BASE: layout.logBase,
        RABBITMQ_PID_FILE: layout.pidFile,
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
        ERL_EPMD_ADDRESS: '127.0.0.1',
      },
    });
  } finally {
    closeSync(log);
  }
  child.on('error', (error) => (status.exit = error.message));
  child.on('exit', (code, sig) => (status.exit = `exited ${sig ? `on ${sig}` : `with code ${code}`}`));
  child.unref();
  const pid = child.pid;
  if (pid !== undefined) {
    const running = { ...state, pid, startTime: procStat(pid)?.startTime };
    await writeState(layout, running);
    const ready = await waitUntil(
      async () => status.exit !== null || (await answers(running, password)),
      BOOT_TIMEOUT_MS,
      250,
    );
    if (ready && status.exit === null) return { ok: true, pid };
    if (status.exit === null) signalIfRunning(-pid, 'SIGKILL');
    await writeState(layout, { ...state, pid: 0, startedAt: '' });
  } else {
    await sleep(50); // spawn reports why (ENOENT, EACCES…) in an 'error' event
  }
  return {
    ok: false,
    reason: status.exit ?? `its management API did not answer within ${BOOT_TIMEOUT_MS / 1000} s`,
    log: await logTail(layout.logFile, logOffset),
  };
}

function readState(layout: EmbeddedRabbitmqLayout): EmbeddedRabbitmqState | null {
  try {
    const state = JSON.parse(readFileSync(layout.stateFile, 'utf8')) as Partial<EmbeddedRabbitmqState>;
    const ports = [state.pid, state.amqpPort, state.managementPort, state.distPort];
    if (!ports.every(Number.isInteger) || typeof state.nodeName !== 'string') return null;
    return state as EmbeddedRabbitmqState;
  } catch {
    return null;
  }
}

async function writeState(layout: EmbeddedRabbitmqLayout, state: EmbeddedRabbitmqState): Promise<void> {
  await writeFile(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function readPassword(layout: EmbeddedRabbitmqLayout): string | null {
  try {
    return readFileSync(layout.passwordFile, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function readVmPid(layout: EmbeddedRabbitmqLayout): number | null {
  try {
    const pid = Number(readFileSync(layout.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Whether `pid` is the Erlang VM of the embedded node (it runs with the node's HOME, `-home <home>`). */
function isNodeVm(pid: number, layout: EmbeddedRabbitmqLayout): boolean {
  const stat = procStat(pid);
  if (!stat || stat.zombie) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(layout.home);
  } catch {
    return false;
  }
}

/**
 * Whether the recorded start script still runs (not another process that got its pid). Without /proc (macOS)
 * only whether the pid is alive.
 */
function isNodeProcess(state: EmbeddedRabbitmqState): boolean {
  if (state.pid <= 0) return false;
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(state.pid);
    if (!stat || stat.zombie) return false;
    if (state.startTime !== undefined && stat.startTime !== state.startTime) return false;
    try {
      return readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').includes('rabbitmq-server');
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

/**
 * Whether the node of `state` is up: its management API answers with the admin credentials and its AMQP port
 * accepts connections.
 */
async function answers(state: EmbeddedRabbitmqState, password: string): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${state.managementPort}/api/overview`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${EMBEDDED_ADMIN_USER}:${password}`).toString('base64')}`,
      },
      signal: AbortSignal.timeout(2_000),
    });
    await response.body?.cancel();
    return response.ok && (await accepts(state.amqpPort));
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1_000 });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('timeout', () => finish(false));
  });
}
