// Helpers for the servers a resource driver runs itself on this machine (the embedded defaults: redis-server,
// MariaDB, RabbitMQ): one start at a time per data directory, free loopback ports, waiting, signals, and the
// end of a server's log for error messages. Linux only (/proc), as those drivers are.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { sleep } from './readiness.ts';

/** The start lock of one embedded server: a file created with O_EXCL holding the starting process's pid. */
export interface StartLock {
  /** The directory the lock file is in (created, mode 0700, if missing). */
  dir: string;
  file: string;
  /** What is being started, for the error when the lock is not released in time ("the embedded …"). */
  what: string;
  /** How long to wait for another process's start before giving up. */
  timeoutMs: number;
  /** A lock older than this is taken over whoever holds it; default `timeoutMs`. */
  staleMs?: number;
  /** How often to look again while another process holds it; default 100 ms. */
  pollMs?: number;
}

/**
 * Runs `fn` holding `lock`, so that of two processes (or calls) finding the server down only one starts it.
 * A lock whose holder is gone, or that is older than `staleMs`, is taken over; after `timeoutMs` waiting for a
 * live holder, rejects saying which file to remove.
 */
export async function withStartLock<T>(lock: StartLock, fn: () => Promise<T>): Promise<T> {
  await mkdir(lock.dir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + lock.timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lock.file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (lockIsStale(lock.file, lock.staleMs ?? lock.timeoutMs)) {
      rmSync(lock.file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `another process is starting ${lock.what} (lock ${lock.file}); remove the file if no Pave process is running`,
      );
    }
    await sleep(lock.pollMs ?? 100);
  }
  try {
    return await fn();
  } finally {
    rmSync(lock.file, { force: true });
  }
}

function lockIsStale(lockFile: string, staleMs: number): boolean {
  try {
    const holder = Number(readFileSync(lockFile, 'utf8'));
    if (Date.now() - statSync(lockFile).mtimeMs > staleMs) return true;
    if (!Number.isInteger(holder) || holder <= 0) return false; // being written right now
    process.kill(holder, 0);
    return false;
  } catch (error) {
    // ESRCH: the holder is gone; ENOENT: released meanwhile (taking it over is harmless then).
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

/** Whether process `pid` is a zombie, and its start time (clock ticks since boot); null when it is gone. */
export function procStat(pid: number): { zombie: boolean; startTime: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) is in parentheses and may hold spaces: split after the last one.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { zombie: fields[0] === 'Z', startTime: Number(fields[19]) };
  } catch {
    return null;
  }
}

/** Sends `name` to process `pid`; nothing when it is already gone. */
export function signalIfRunning(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Checks `condition` every `intervalMs` until it holds (true) or `timeoutMs` has passed (false). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
}

/** Whether `port` on 127.0.0.1 can be bound right now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

/** The last 20 lines of `logFile` from byte `offset` on (what a failed start wrote), for an error message. */
export async function logTail(logFile: string, offset: number): Promise<string> {
  try {
    const text = (await readFile(logFile)).subarray(offset).toString('utf8');
    return text.trimEnd().split('\n').slice(-20).join('\n') || '(empty)';
  } catch (error) {
    return `(unreadable: ${error instanceof Error ? error.message : String(error)})`;
  }
}
