// Watching and stopping the daemons the embedded engines start. They outlive the Pave process that started
// them, so they are found again by pid and recognised by their command line (a pid alone may be reused).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Whether `pid` is a live process (not a zombie) whose command line contains `argument`. */
export function processRunsWith(pid: number, argument: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(argument);
  } catch {
    return false;
  }
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Stops the daemon `pid` (recognised by `argument`, see `processRunsWith`): sends `signal`, waits up to
 * `graceMs` for it to exit, then kills it. Resolves once it is gone, with `stopped` (it exited on `signal`)
 * or `killed` (it needed SIGKILL); at once with `not-running` when it is not running.
 */
export async function stopProcess(
  pid: number,
  argument: string,
  signal: NodeJS.Signals,
  graceMs = 15_000,
): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!processRunsWith(pid, argument)) return 'not-running';
  signalIfAlive(pid, signal);
  const deadline = Date.now() + graceMs;
  while (processRunsWith(pid, argument)) {
    if (Date.now() > deadline) {
      signalIfAlive(pid, 'SIGKILL');
      await sleep(100);
      return 'killed';
    }
    await sleep(50);
  }
  return 'stopped';
}

/** Sends `signal` to `pid`; nothing when it has exited meanwhile. */
function signalIfAlive(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** A loopback port that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

/** The last `lines` lines of a log file, for error messages; empty if it cannot be read. */
export function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
