import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/*
 * Who uses a data directory. A `pave up` on SQLite, and `pave down` while it stops what runs there, hold it
 * alone: the lock file. Replicas of a `pave up` on PostgreSQL share it (several on one host run the same
 * workloads): each registers under `replicas/`. Each file names its process by pid and by the time it started
 * (Linux: field 22 of /proc/<pid>/stat), so that a pid reused after a reboot is not taken for the process
 * that wrote it.
 */

/** The file that says which `pave up` (SQLite store) or `pave down` uses a data directory alone. */
export const LOCK_FILE = 'pave.lock';
/** Where the replicas of a `pave up` on PostgreSQL serving a data directory register, a file each. */
export const REPLICAS_DIR = 'replicas';

/**
 * Claims `dataDir` for this process alone: SQLite allows one control plane per data directory, and `pave
 * down` must not stop what a `pave up` serving it runs. Writes the lock file with this process; a lock left by
 * a process that is gone is taken over. When another live process holds it, or a replica is registered (see
 * registerReplica), throws what `refuse` makes of that process's pid. Returns a function that releases the
 * claim.
 */
export function claimDataDir(dataDir: string, refuse: (holder: number) => Error): () => void {
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, identity(process.pid));
      closeSync(fd);
      const release = () => {
        if (holderOf(file)?.pid === process.pid) rmSync(file, { force: true });
      };
      const replica = liveReplicas(dataDir)[0];
      if (replica !== undefined) {
        release();
        throw refuse(replica);
      }
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderOf(file);
    if (holder && holder.pid !== process.pid && isAlive(holder)) throw refuse(holder.pid);
    // Left by a process that is gone (or unreadable): take it over.
    rmSync(file, { force: true });
  }
  throw new Error(`could not claim ${file}: another process keeps creating it`);
}

/**
 * Registers this process as a replica serving `dataDir` with a PostgreSQL store, beside any others. When a
 * live process holds the directory alone (a `pave down` at work, or a `pave up` on SQLite), throws what
 * `refuse` makes of its pid, registered no more. Registers before it looks, so that a `pave down` claiming
 * the directory at the same moment sees it. Returns a function that unregisters.
 */
export function registerReplica(dataDir: string, refuse: (holder: number) => Error): () => void {
  const dir = join(dataDir, REPLICAS_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, String(process.pid));
  writeFileSync(file, identity(process.pid), { mode: 0o600 });
  const unregister = () => rmSync(file, { force: true });
  const holder = holderOf(join(dataDir, LOCK_FILE));
  if (holder && holder.pid !== process.pid && isAlive(holder)) {
    unregister();
    throw refuse(holder.pid);
  }
  return unregister;
}

/** The pids of the live replicas registered in `dataDir`; the files of those that are gone are removed. */
export function liveReplicas(dataDir: string): number[] {
  const dir = join(dataDir, REPLICAS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const holder = holderOf(join(dir, name));
    if (holder && isAlive(holder)) return [holder.pid];
    rmSync(join(dir, name), { force: true });
    return [];
  });
}

/**
 * What a lock or replica file says of its process: `<pid> <start time>` (the start time when known), and once
 * its API listens, the port (see recordPort), after a start time of `-` when none is known.
 */
function identity(pid: number, port?: number): string {
  const started = startTimeOf(pid);
  if (port === undefined) return started === undefined ? `${pid}\n` : `${pid} ${started}\n`;
  return `${pid} ${started ?? '-'} ${port}\n`;
}

interface Holder {
  pid: number;
  /** When it started, in clock ticks after boot; undefined for files written before Pave recorded it. */
  started: string | undefined;
  /** The port its API listens on; undefined before it listens (or for files of an older Pave). */
  port: number | undefined;
}

function holderOf(file: string): Holder | undefined {
  try {
    const [pidText, started, portText] = readFileSync(file, 'utf8').trim().split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    const port = Number.parseInt(portText ?? '', 10);
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
    return {
      pid,
      started: started === '-' ? undefined : started,
      port: Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * Adds the port this process's API listens on to its lock or replica file in `dataDir` (claimDataDir,
 * registerReplica), replaced whole (renamed over it), so that a reader never finds it half written.
 */
export function recordPort(dataDir: string, port: number): void {
  for (const file of [join(dataDir, LOCK_FILE), join(dataDir, REPLICAS_DIR, String(process.pid))]) {
    if (holderOf(file)?.pid !== process.pid) continue;
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, identity(process.pid, port), { mode: 0o600 });
    renameSync(temporary, file);
  }
}

/**
 * The ports the live `pave up` processes serving `dataDir` listen on (its lock file's, or its replicas'):
 * where the admin token it wrote may be sent. Empty when none runs.
 */
export function listeningPorts(dataDir: string): number[] {
  let replicas: string[];
  try {
    replicas = readdirSync(join(dataDir, REPLICAS_DIR)).map((name) => join(dataDir, REPLICAS_DIR, name));
  } catch {
    replicas = [];
  }
  return [join(dataDir, LOCK_FILE), ...replicas].flatMap((file) => {
    const holder = holderOf(file);
    return holder?.port !== undefined && isAlive(holder) ? [holder.port] : [];
  });
}

function isAlive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The pid lives; it is the same process if it started when the file says (or the file does not say).
  const started = startTimeOf(holder.pid);
  return holder.started === undefined || started === undefined || started === holder.started;
}

/** When process `pid` started (field 22 of /proc/<pid>/stat); undefined where /proc cannot tell. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
