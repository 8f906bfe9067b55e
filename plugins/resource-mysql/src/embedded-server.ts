// The one MariaDB (or MySQL) server Pave runs itself per data directory. It outlives Pave (workloads use it), so
// every call finds it again from its state file, checks it answers, and starts it when it does not.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { DriverLogger } from '@pave/plugin-api';
import { isAccessDenied, mysqlUrl, withMysql, type MysqlEndpoint } from './connection.ts';
import { findExecutable } from './executables.ts';
import { randomPassword } from './passwords.ts';
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

/** The files of the embedded server, all under `<dataDir>/resources/mysql/` (the socket may be elsewhere). */
export interface EmbeddedMysqlLayout {
  root: string;
  /** The server's `--datadir`. */
  dataDirectory: string;
  /** Where the server puts its pid file (and socket, when the path is short enough). */
  runDirectory: string;
  pidFile: string;
  /** The server's Unix socket (Pave uses it only to set the root password on the first start). */
  socket: string;
  /** The root password (mode 0600). */
  passwordFile: string;
  /** Written once the data directory is initialised and root has its password. */
  initialisedFile: string;
  /** `state.json`: pid and port of the running server. */
  stateFile: string;
  /** The server's output. */
  logFile: string;
  /** Held (created with O_EXCL) by the one process that is starting the server. */
  lockFile: string;
}

/** Unix socket paths longer than this do not fit `sockaddr_un` on every system. */
const MAX_SOCKET_PATH = 100;

/** Where the embedded server of `dataDir` keeps its files. */
export function embeddedMysqlLayout(dataDir: string): EmbeddedMysqlLayout {
  const root = resolve(dataDir, 'resources', 'mysql');
  const runDirectory = join(root, 'run');
  const socket = join(runDirectory, 'mysqld.sock');
  return {
    root,
    dataDirectory: join(root, 'data'),
    runDirectory,
    pidFile: join(runDirectory, 'mysqld.pid'),
    socket:
      socket.length <= MAX_SOCKET_PATH
        ? socket
        : join(tmpdir(), `pave-mysql-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.sock`),
    passwordFile: join(root, 'admin-password'),
    initialisedFile: join(root, 'initialised'),
    stateFile: join(root, 'state.json'),
    logFile: join(root, 'mysqld.log'),
    lockFile: join(root, 'start.lock'),
  };
}

/** The server programs the embedded server runs. */
export interface MysqlServerPrograms {
  flavour: 'mariadb' | 'mysql';
  /** `mariadbd` or `mysqld`. */
  server: string;
  /** MariaDB's `mariadb-install-db` (or `mysql_install_db`); MySQL initialises with `mysqld --initialize-insecure`. */
  installDb: string | null;
}

/** Where the server programs are looked for besides PATH (Debian puts mariadbd in /usr/sbin). */
export const DEFAULT_PROGRAM_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/libexec'];

/**
 * The server programs found in `dirs` (PATH's directories, then the usual sbin directories): `mariadbd` with
 * `mariadb-install-db`, or MySQL's `mysqld` (which initialises its data directory itself). Null when there is no
 * server program, or MariaDB's without its install program.
 */
export function findServerPrograms(dirs: readonly string[]): MysqlServerPrograms | null {
  const server = findExecutable(['mariadbd', 'mysqld'], dirs);
  if (!server) return null;
  if (basename(server) === 'mysqld' && !isMariadb(server)) {
    return { flavour: 'mysql', server, installDb: null };
  }
  const installDb = findExecutable(['mariadb-install-db', 'mysql_install_db'], dirs);
  return installDb ? { flavour: 'mariadb', server, installDb } : null;
}

/** Whether `mysqld` is MariaDB's (Debian links mysqld to mariadbd). */
function isMariadb(mysqld: string): boolean {
  try {
    return /mariadb/i.test(execFileSync(mysqld, ['--version'], { encoding: 'utf8', timeout: 10_000 }));
  } catch {
    return false;
  }
}

/** A running embedded server: where it listens (always 127.0.0.1) and root's password. */
export interface EmbeddedMysqlServer {
  pid: number;
  port: number;
  password: string;
}

/** `state.json`. */
interface EmbeddedMysqlState {
  /** 0 once stopped (the port is kept for the next start). */
  pid: number;
  /** The process' start time on Linux (/proc/<pid>/stat field 22), so a reused pid is not taken for it. */
  startTime?: number;
  port: number;
  /** The executable's file name, which the process' command line shows. */
  command: string;
  startedAt: string;
}

const HOST = '127.0.0.1';

/** The admin (root) endpoint of an embedded server. */
export function embeddedAdminEndpoint(server: Pick<EmbeddedMysqlServer, 'port' | 'password'>): MysqlEndpoint {
  return { host: HOST, port: server.port, username: 'root', password: server.password, database: '' };
}

const starts = new Map<string, Promise<EmbeddedMysqlServer | null>>();

/**
 * The running embedded server of `dataDir`, started first if it is not running (when `start` is false, null
 * instead). Concurrent calls in one process share one check; across processes, a lock file lets one start it
 * while the others wait. Rejects when the server cannot be started, with the end of its log.
 */
export function ensureEmbeddedMysql(options: {
  dataDir: string;
  /** The server programs; asked only when the server must be started (it may throw). */
  programs: () => MysqlServerPrograms;
  logger: DriverLogger;
  start?: boolean;
}): Promise<EmbeddedMysqlServer | null> {
  const layout = embeddedMysqlLayout(options.dataDir);
  const start = options.start ?? true;
  const pending = starts.get(layout.root);
  // A call that may not start the server must not make one that needs it go without.
  if (pending) return pending.then((server) => server ?? (start ? ensureEmbeddedMysql(options) : null));
  const attempt = ensureRunning(layout, options.programs, options.logger, start).finally(() =>
    starts.delete(layout.root),
  );
  starts.set(layout.root, attempt);
  return attempt;
}

/**
 * The admin URL (`mysql://root:<password>@127.0.0.1:<port>/`) of the embedded server of `dataDir` if it is
 * running and answers, else null. For operators and tests that need to look inside; it starts nothing.
 */
export async function embeddedMysqlAdminUrl(dataDir: string): Promise<string | null> {
  const server = await runningServer(embeddedMysqlLayout(dataDir));
  return server && mysqlUrl(embeddedAdminEndpoint(server));
}

/** The embedded server as {@link stopEmbeddedMysql} stopped it. */
export interface StoppedMysqlServer {
  /** `MariaDB` or `MySQL`, for people. */
  name: string;
  pid: number;
  /** Whether it had to be killed (SIGKILL): it had not shut down 60 s after SIGTERM. */
  killed: boolean;
}

/**
 * Stops the embedded server of `dataDir` if it runs (SIGTERM, which shuts it down cleanly; SIGKILL after 60 s)
 * and forgets its pid, keeping its port. Its data stays: the next call starts it again with everything it held.
 * Only the process its state file recorded (executable and start time) is signalled. Resolves with the server
 * it stopped, or none when it was not running. For tests and `pave down`; Pave never stops it on its own.
 */
export async function stopEmbeddedMysql(dataDir: string): Promise<StoppedMysqlServer[]> {
  const layout = embeddedMysqlLayout(dataDir);
  await starts.get(layout.root)?.catch(() => undefined);
  const state = readState(layout);
  if (!state) return [];
  const stopped: StoppedMysqlServer[] = [];
  if (isServerProcess(state)) {
    signalIfRunning(state.pid, 'SIGTERM');
    const exited = await waitUntil(() => !isServerProcess(state), 60_000);
    if (!exited) signalIfRunning(state.pid, 'SIGKILL');
    await waitUntil(() => !isServerProcess(state), 5_000);
    const name = state.command.includes('mariadb') ? 'MariaDB' : 'MySQL';
    stopped.push({ name, pid: state.pid, killed: !exited });
  }
  // Keep the port: the next start uses it again, so the outputs of every resource stay right.
  await writeState(layout, { ...state, pid: 0 });
  return stopped;
}

async function ensureRunning(
  layout: EmbeddedMysqlLayout,
  programs: () => MysqlServerPrograms,
  logger: DriverLogger,
  start: boolean,
): Promise<EmbeddedMysqlServer | null> {
  const running = await runningServer(layout);
  if (running || !start) return running;
  return withStartLock(
    { dir: layout.root, file: layout.lockFile, what: 'the embedded MySQL server', timeoutMs: 120_000 },
    async () => {
      // Another process may have started it while this one waited for the lock.
      const started = await runningServer(layout);
      if (started) return started;
      const state = readState(layout);
      const password = readPassword(layout);
      if (state && password && isServerProcess(state)) {
        // Ours, but not answering yet: it may still be recovering.
        if (await waitUntil(async () => (await probe(state.port, password)) === 'ok', 30_000)) {
          return { pid: state.pid, port: state.port, password };
        }
        throw new Error(
          `the embedded MySQL server (pid ${state.pid}) does not answer on ${HOST}:${state.port}; ` +
            `see ${layout.logFile}, or stop it so that Pave starts it again`,
        );
      }
      return startServer(layout, programs(), state?.port, logger);
    },
  );
}

/** The server recorded in the state file, if it answers as root with the recorded password. */
async function runningServer(layout: EmbeddedMysqlLayout): Promise<EmbeddedMysqlServer | null> {
  const state = readState(layout);
  const password = readPassword(layout);
  if (!state || !password || state.pid <= 0) return null;
  return (await probe(state.port, password)) === 'ok' ? { pid: state.pid, port: state.port, password } : null;
}

/** Which account the server runs as, given as `--user`: when Pave runs as root, the `mysql` account if it can. */
interface ServerAccount {
  /** `--user=…`, or null when Pave does not run as root. */
  argument: string | null;
  /** Owner to give the server's directories (the `mysql` account), or null. */
  owner: { uid: number; gid: number } | null;
}

function serverAccount(layout: EmbeddedMysqlLayout, logger: DriverLogger): ServerAccount {
  if (process.getuid?.() !== 0) return { argument: null, owner: null };
  const mysql = systemAccount('mysql');
  const resources = dirname(layout.root);
  if (mysql && canTraverse(dirname(resources), mysql)) {
    // Let it search (not list) `resources/`, which Pave made private.
    chmodSync(resources, (statSync(resources).mode & 0o777) | 0o001);
    return { argument: '--user=mysql', owner: mysql };
  }
  // mariadbd refuses to run as root unless told to; the mysql account cannot reach the data directory.
  logger.info(
    `the embedded MySQL server runs as root: ${mysql ? `the mysql account cannot reach ${layout.root}` : 'there is no mysql account'}`,
  );
  return { argument: '--user=root', owner: null };
}

/** Uid and gid of account `name` from /etc/passwd; null when there is none. */
function systemAccount(name: string): { uid: number; gid: number } | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === name) return { uid: Number(fields[2]), gid: Number(fields[3]) };
    }
  } catch {
    // no /etc/passwd
  }
  return null;
}

/** Whether `account` may search every directory from / down to `dir`. */
function canTraverse(dir: string, account: { uid: number; gid: number }): boolean {
  for (let current = resolve(dir); ; current = dirname(current)) {
    try {
      const { mode, uid, gid } = statSync(current);
      const allowed = uid === account.uid ? mode & 0o100 : gid === account.gid ? mode & 0o010 : mode & 0o001;
      if (!allowed) return false;
    } catch {
      return false;
    }
    if (dirname(current) === current) return true;
  }
}

async function startServer(
  layout: EmbeddedMysqlLayout,
  programs: MysqlServerPrograms,
  previousPort: number | undefined,
  logger: DriverLogger,
): Promise<EmbeddedMysqlServer> {
  await mkdir(layout.root, { recursive: true, mode: 0o700 });
  let password = readPassword(layout);
  if (!password) {
    password = randomPassword();
    await writeFile(layout.passwordFile, `${password}\n`, { mode: 0o600 });
  }
  const account = serverAccount(layout, logger);
  // The mysql account must reach data and run directories, but not list the rest (the password file).
  if (account.owner) chmodSync(layout.root, 0o711);
  const initialised = existsSync(layout.initialisedFile);
  if (!initialised) {
    // A data directory without the marker is what an interrupted first start left: nothing of ours is in it.
    await rm(layout.dataDirectory, { recursive: true, force: true });
  }
  for (const dir of [layout.dataDirectory, layout.runDirectory]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (account.owner) chownSync(dir, account.owner.uid, account.owner.gid);
  }
  if (!initialised) await initialiseDataDirectory(layout, programs, account);

  for (let attempt = 1; ; attempt += 1) {
    // Keep the port across restarts: the outputs of every resource name it.
    const port =
      attempt === 1 && previousPort && (await portIsFree(previousPort)) ? previousPort : await freePort();
    if (previousPort && port !== previousPort) {
      logger.warn('the embedded MySQL server moves to another port: its resources need an update', {
        from: previousPort,
        to: port,
      });
    }
    const outcome = await spawnServer(layout, programs.server, port, password, account);
    if (outcome.ok) {
      if (!initialised) {
        await setRootPassword(layout, password);
        await writeFile(layout.initialisedFile, `${new Date().toISOString()}\n`, { mode: 0o600 });
      } else if ((await probe(port, password)) !== 'ok') {
        throw new Error(
          `the embedded MySQL server started on ${HOST}:${port} but refuses root with the password in ` +
            `${layout.passwordFile}: restore that file, or stop the server and remove ${layout.root} to start afresh`,
        );
      }
      logger.info('started the embedded MySQL server', { pid: outcome.pid, port, dir: layout.root });
      return { pid: outcome.pid, port, password };
    }
    if (!/address already in use/i.test(outcome.log) || attempt === 3) {
      throw new Error(
        `could not start the embedded MySQL server (${programs.server}): ${outcome.reason}; ` +
          `the end of ${layout.logFile}:\n${outcome.log}`,
      );
    }
  }
}

/** Creates the system tables in the (empty) data directory, root without a password until the first start. */
async function initialiseDataDirectory(
  layout: EmbeddedMysqlLayout,
  programs: MysqlServerPrograms,
  account: ServerAccount,
): Promise<void> {
  const user = account.argument ? [account.argument] : [];
  const [program, args] =
    programs.flavour === 'mariadb' && programs.installDb
      ? [
          programs.installDb,
          [
            '--no-defaults',
            '--auth-root-authentication-method=normal',
            '--skip-test-db',
            `--datadir=${layout.dataDirectory}`,
            ...user,
          ],
        ]
      : [
          programs.server,
          ['--no-defaults', '--initialize-insecure', `--datadir=${layout.dataDirectory}`, ...user],
        ];
  const logOffset = existsSync(layout.logFile) ? statSync(layout.logFile).size : 0;
  const result = await runToLog(program, args, layout);
  if (result !== null) {
    throw new Error(
      `could not initialise the embedded MySQL server's data directory with ${program}: ${result}; ` +
        `the end of ${layout.logFile}:\n${await logTail(layout.logFile, logOffset)}`,
    );
  }
}

/** Runs `program` with its output appended to the log; null when it succeeds, else why it failed. */
async function runToLog(
  program: string,
  args: string[],
  layout: EmbeddedMysqlLayout,
): Promise<string | null> {
  const log = openSync(layout.logFile, 'a', 0o600);
  try {
    const child = spawn(program, args, { stdio: ['ignore', log, log], cwd: layout.root });
    return await new Promise((done) => {
      child.once('error', (error) => done(error.message));
      child.once('exit', (code, sig) =>
        done(code === 0 ? null : `it exited ${sig ? `on ${sig}` : `with code ${code}`}`),
      );
    });
  } finally {
    closeSync(log);
  }
}

/**
 * Gives every root account the generated password and removes anonymous accounts (which would match local
 * connections before a resource's `'name'@'%'`). Connects through the socket as root without a password, as
 * the data directory was initialised.
 */
async function setRootPassword(layout: EmbeddedMysqlLayout, password: string): Promise<void> {
  const root: MysqlEndpoint = { host: HOST, port: 0, username: 'root', password: '', database: '' };
  await withMysql(
    root,
    async (connection) => {
      const [accounts] = await connection.query(
        "SELECT User AS user, Host AS host FROM mysql.user WHERE User IN ('root', '')",
      );
      for (const { user, host } of accounts as Array<{ user: string; host: string }>) {
        if (user === '') await connection.query('DROP USER ?@?', [user, host]);
        else await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [user, host, password]);
      }
      await connection.query('FLUSH PRIVILEGES');
    },
    { socketPath: layout.socket },
  );
}

type SpawnOutcome = { ok: true; pid: number } | { ok: false; reason: string; log: string };

async function spawnServer(
  layout: EmbeddedMysqlLayout,
  serverPath: string,
  port: number,
  password: string,
  account: ServerAccount,
): Promise<SpawnOutcome> {
  const logOffset = existsSync(layout.logFile) ? statSync(layout.logFile).size : 0;
  const log = openSync(layout.logFile, 'a', 0o600);
  const status: { exit: string | null } = { exit: null };
  let child;
  try {
    child = spawn(
      serverPath,
      [
        '--no-defaults',
        `--datadir=${layout.dataDirectory}`,
        `--socket=${layout.socket}`,
        `--port=${port}`,
        `--bind-address=${HOST}`,
        `--pid-file=${layout.pidFile}`,
        '--character-set-server=utf8mb4',
        ...(account.argument ? [account.argument] : []),
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
      command: basename(serverPath),
      startedAt: new Date().toISOString(),
    });
    // Until root has its password (first start), an access denied answer means the server is up.
    const ready = await waitUntil(
      async () => status.exit !== null || (await probe(port, password)) !== 'down',
      60_000,
    );
    if (ready && status.exit === null) return { ok: true, pid };
    if (status.exit === null) signalIfRunning(pid, 'SIGKILL');
    await writeState(layout, { pid: 0, port, command: basename(serverPath), startedAt: '' });
  } else {
    await sleep(50); // spawn reports why (ENOENT, EACCES…) in an 'error' event
  }
  return {
    ok: false,
    reason: status.exit ?? 'it did not answer within 60 s',
    log: await logTail(layout.logFile, logOffset),
  };
}

function readState(layout: EmbeddedMysqlLayout): EmbeddedMysqlState | null {
  try {
    const state = JSON.parse(readFileSync(layout.stateFile, 'utf8')) as Partial<EmbeddedMysqlState>;
    if (!Number.isInteger(state.pid) || !Number.isInteger(state.port)) return null;
    return state as EmbeddedMysqlState;
  } catch {
    return null;
  }
}

async function writeState(layout: EmbeddedMysqlLayout, state: EmbeddedMysqlState): Promise<void> {
  await writeFile(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function readPassword(layout: EmbeddedMysqlLayout): string | null {
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
function isServerProcess(state: EmbeddedMysqlState): boolean {
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

/** Whether a server on 127.0.0.1:`port` lets root in with `password` ('ok'), refuses it ('denied') or is down. */
async function probe(port: number, password: string): Promise<'ok' | 'denied' | 'down'> {
  try {
    await withMysql(embeddedAdminEndpoint({ port, password }), (c) => c.query('SELECT 1'), {
      connectTimeoutMs: 2_000,
    });
    return 'ok';
  } catch (error) {
    return isAccessDenied(error) ? 'denied' : 'down';
  }
}
