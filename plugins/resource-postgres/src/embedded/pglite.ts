// The PGlite engine: PostgreSQL compiled to WebAssembly, for machines without PostgreSQL installed. A PGlite
// instance holds one database, so each resource gets its own instance, served on a loopback port by its own
// detached daemon (src/pglite/main.ts) that outlives Pave and is restarted when found dead.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConflictError } from '@pave/core';
import type { DriverLogger } from '@pave/plugin-api';
import { isResourceObjectName } from '../names.ts';
import { randomPassword } from '../passwords.ts';
import { readJsonFile, writeJsonFile } from './layout.ts';
import { withLock } from './lock.ts';
import { freePort, logTail, portInUse, processRunsWith, sleep, stopProcess } from './processes.ts';

/** `instance.json`: what a resource's outputs are built from. The port is kept across restarts. */
export interface PgliteInstanceRecord {
  name: string;
  port: number;
  /** Returned in the outputs; PGlite's socket server does not check it (see EmbeddedPostgresDriver). */
  password: string;
  createdAt: string;
}

/** `state.json`, written by the daemon once it listens (see src/pglite/main.ts). */
export interface PgliteDaemonState {
  pid: number;
  port: number;
  startedAt: string;
}

/** The files of one instance. */
interface InstancePaths {
  dir: string;
  record: string;
  state: string;
  data: string;
  log: string;
  snapshot: string;
}

const START_TIMEOUT_MS = 60_000;
const SNAPSHOT_TIMEOUT_MS = 120_000;
const TEMPLATE_PREFIX = '.template-';

function instancePaths(pgliteDir: string, name: string): InstancePaths {
  const dir = join(pgliteDir, name);
  return {
    dir,
    record: join(dir, 'instance.json'),
    state: join(dir, 'state.json'),
    data: join(dir, 'data'),
    log: join(dir, 'daemon.log'),
    snapshot: join(dir, 'snapshot.tar.gz'),
  };
}

/** The daemon's pid if it runs, else null. */
function runningDaemon(paths: InstancePaths): number | null {
  const state = readJsonFile<PgliteDaemonState>(paths.state);
  return state && processRunsWith(state.pid, paths.data) ? state.pid : null;
}

/** Starts the daemon of an instance and waits until it listens; rejects with its log when it cannot start. */
async function startDaemon(
  paths: InstancePaths,
  record: PgliteInstanceRecord,
  script: string,
  signal: AbortSignal,
  load?: string,
): Promise<void> {
  if (await portInUse(record.port)) {
    throw new Error(
      `the port ${record.port} of PGlite instance ${record.name} (kept in ${paths.record}, because the ` +
        `resource's outputs name it) is taken by another program`,
    );
  }
  rmSync(paths.state, { force: true });
  const log = openSync(paths.log, 'a', 0o600);
  let pid: number;
  try {
    const args = [script, '--dir', paths.data, '--port', String(record.port), '--state', paths.state];
    args.push('--snapshot', paths.snapshot, ...(load ? ['--load', load] : []));
    const child = spawn(process.execPath, args, {
      cwd: paths.dir,
      detached: true,
      stdio: ['ignore', log, log],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    pid = child.pid!;
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  try {
    for (;;) {
      const state = readJsonFile<PgliteDaemonState>(paths.state);
      if (state?.pid === pid) return;
      if (!processRunsWith(pid, paths.data)) {
        throw new Error(
          `the PGlite daemon of ${record.name} exited during start-up; its log:\n${logTail(paths.log)}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the PGlite daemon of ${record.name} did not listen within ${START_TIMEOUT_MS / 1000} s; its log:\n` +
            logTail(paths.log),
        );
      }
      await sleep(50, signal);
    }
  } catch (error) {
    await stopProcess(pid, paths.data, 'SIGTERM');
    throw error;
  }
}

/**
 * An empty PGlite data directory that new instances start as a copy of, so that PGlite's initdb (two seconds
 * or more) runs once per daemon build instead of once per resource. It is made by the daemon in a process of
 * its own that then exits (see src/pglite/main.ts: a daemon that ran initdb itself keeps several hundred
 * megabytes more), in `.template-<hash of the daemon script>`; a new build makes a new one and removes the old.
 */
async function ensureTemplate(pgliteDir: string, script: string, signal: AbortSignal): Promise<string> {
  let hash: string;
  try {
    hash = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 12);
  } catch (error) {
    throw new Error(`cannot read the PGlite daemon script ${script} (pgliteScript): ${String(error)}`, {
      cause: error,
    });
  }
  const dir = join(pgliteDir, `${TEMPLATE_PREFIX}${hash}`);
  const data = join(dir, 'data');
  const ready = join(dir, 'ready');
  if (existsSync(ready)) return data;
  return withLock(dir, async () => {
    if (existsSync(ready)) return data;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const logFile = join(dir, 'init.log');
    const log = openSync(logFile, 'a', 0o600);
    try {
      const child = spawn(process.execPath, [script, '--init', '--dir', data], {
        cwd: dir,
        stdio: ['ignore', log, log],
        timeout: START_TIMEOUT_MS,
        signal,
      });
      const code = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (exitCode) => resolve(exitCode));
      });
      if (code !== 0) {
        throw new Error(`PGlite could not create a database (exit code ${code}):\n${logTail(logFile)}`);
      }
      writeFileSync(ready, `${new Date().toISOString()}\n`);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    } finally {
      closeSync(log);
    }
    for (const entry of readdirSync(pgliteDir)) {
      if (entry.startsWith(TEMPLATE_PREFIX) && join(pgliteDir, entry) !== dir) {
        rmSync(join(pgliteDir, entry), { recursive: true, force: true });
      }
    }
    return data;
  });
}

/**
 * Creates the PGlite instance `name` with a random password and starts its daemon on a free loopback port;
 * with `load`, the instance starts from that data directory snapshot (see `snapshotPgliteInstance`). If it
 * rejects, the instance's directory is gone; ConflictError when an instance of that name exists.
 */
export async function createPgliteInstance(
  pgliteDir: string,
  name: string,
  script: string,
  signal: AbortSignal,
  load?: string,
): Promise<PgliteInstanceRecord> {
  const paths = instancePaths(pgliteDir, name);
  return withLock(paths.dir, async () => {
    if (existsSync(paths.record)) throw new ConflictError(`a PGlite instance named ${name} already exists`);
    const template = load ? null : await ensureTemplate(pgliteDir, script, signal);
    const record: PgliteInstanceRecord = {
      name,
      port: await freePort(),
      password: randomPassword(),
      createdAt: new Date().toISOString(),
    };
    try {
      mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
      writeJsonFile(paths.record, record);
      if (template) cpSync(template, paths.data, { recursive: true });
      await startDaemon(paths, record, script, signal, load);
      return record;
    } catch (error) {
      rmSync(paths.dir, { recursive: true, force: true });
      throw error;
    }
  });
}

/**
 * The record of instance `name` once its daemon runs (started again if it had stopped, e.g. after a
 * reboot); null when there is no such instance.
 */
export async function ensurePgliteInstance(
  pgliteDir: string,
  name: string,
  script: string | undefined,
  logger: DriverLogger,
  signal: AbortSignal,
): Promise<PgliteInstanceRecord | null> {
  const paths = instancePaths(pgliteDir, name);
  const record = readJsonFile<PgliteInstanceRecord>(paths.record);
  if (!record) return null;
  if (runningDaemon(paths)) return record;
  return withLock(paths.dir, async () => {
    if (runningDaemon(paths)) return record;
    if (!script)
      throw new Error(`the PGlite daemon of ${name} is not running and pgliteScript is not configured`);
    await startDaemon(paths, record, script, signal);
    logger.info('started the PGlite daemon again', { instance: name, port: record.port });
    return record;
  });
}

/**
 * A consistent copy of instance `name`'s data directory (PGlite's `dumpDataDir`, taken by its daemon on
 * SIGUSR2 between queries), moved to `to`. The daemon is started first if it is not running.
 */
export async function snapshotPgliteInstance(
  pgliteDir: string,
  name: string,
  script: string | undefined,
  to: string,
  logger: DriverLogger,
  signal: AbortSignal,
): Promise<void> {
  const paths = instancePaths(pgliteDir, name);
  await ensurePgliteInstance(pgliteDir, name, script, logger, signal);
  await withLock(paths.dir, async () => {
    const pid = runningDaemon(paths);
    if (!pid) throw new Error(`the PGlite daemon of ${name} stopped before it could copy its data`);
    const failure = `${paths.snapshot}.error`;
    rmSync(paths.snapshot, { force: true });
    rmSync(failure, { force: true });
    process.kill(pid, 'SIGUSR2');
    const deadline = Date.now() + SNAPSHOT_TIMEOUT_MS;
    while (!existsSync(paths.snapshot)) {
      if (existsSync(failure)) throw new Error(`PGlite could not copy the data of ${name}; see ${paths.log}`);
      if (!processRunsWith(pid, paths.data))
        throw new Error(`the PGlite daemon of ${name} exited while copying`);
      if (Date.now() > deadline) throw new Error(`PGlite did not copy the data of ${name} within 120 s`);
      await sleep(50, signal);
    }
    renameSync(paths.snapshot, to);
  });
}

/** Stops instance `name`'s daemon and removes its directory; succeeds when there is none. */
export async function removePgliteInstance(pgliteDir: string, name: string): Promise<void> {
  const paths = instancePaths(pgliteDir, name);
  await withLock(paths.dir, async () => {
    const state = readJsonFile<PgliteDaemonState>(paths.state);
    if (state) await stopProcess(state.pid, paths.data, 'SIGTERM');
    rmSync(paths.dir, { recursive: true, force: true });
  });
}

/** The instance whose daemon serves loopback `port`, or null. */
export function pgliteInstanceByPort(pgliteDir: string, port: number): PgliteInstanceRecord | null {
  for (const name of instanceNames(pgliteDir)) {
    const record = readJsonFile<PgliteInstanceRecord>(instancePaths(pgliteDir, name).record);
    if (record?.port === port) return record;
  }
  return null;
}

/**
 * Stops every instance's daemon, keeping their data. Resolves with the daemons that were running, by instance
 * name, each with its pid and whether it had to be killed.
 */
export async function stopPgliteDaemons(
  pgliteDir: string,
): Promise<Array<{ instance: string; pid: number; killed: boolean }>> {
  const stopped = await Promise.all(
    instanceNames(pgliteDir).map((name) => {
      const paths = instancePaths(pgliteDir, name);
      return withLock(paths.dir, async () => {
        const state = readJsonFile<PgliteDaemonState>(paths.state);
        const outcome = state ? await stopProcess(state.pid, paths.data, 'SIGTERM') : 'not-running';
        return state && outcome !== 'not-running'
          ? [{ instance: name, pid: state.pid, killed: outcome === 'killed' }]
          : [];
      });
    }),
  );
  return stopped.flat();
}

function instanceNames(pgliteDir: string): string[] {
  try {
    return readdirSync(pgliteDir).filter(isResourceObjectName);
  } catch {
    return [];
  }
}
