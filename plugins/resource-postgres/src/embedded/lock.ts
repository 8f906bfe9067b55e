// A lock between processes (and within one) that a crash cannot leave behind: holding it means listening on a
// Linux abstract Unix socket named after the locked path. The kernel refuses a second listener and frees the
// name when its holder exits, so there is no stale lock file to detect and steal.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { sleep } from './processes.ts';

const RETRY_MS = 50;

/** Chains the waiters of this process per lock, so they queue instead of polling against each other. */
const queues = new Map<string, Promise<unknown>>();

function tryListen(name: string): Promise<Server | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(null);
      else reject(error);
    });
    server.listen({ path: name, exclusive: true }, () => resolve(server));
  });
}

/**
 * Runs `fn` while holding the lock on `path` (any string naming what is locked, usually a directory), across
 * every process on this machine. Waits for the holder up to `timeoutMs`, then rejects naming what it waited for.
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve();
  const run = previous.catch(() => undefined).then(() => holdWhile(path, fn, options));
  const tail = run.catch(() => undefined);
  queues.set(path, tail);
  try {
    return await run;
  } finally {
    if (queues.get(path) === tail) queues.delete(path);
  }
}

async function holdWhile<T>(
  path: string,
  fn: () => Promise<T>,
  { signal, timeoutMs = 120_000 }: { signal?: AbortSignal; timeoutMs?: number },
): Promise<T> {
  const name = `\0pave-resource-postgres-${createHash('sha256').update(path).digest('hex').slice(0, 32)}`;
  const deadline = Date.now() + timeoutMs;
  let server = await tryListen(name);
  while (!server) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for the lock on ${path}`);
    await sleep(RETRY_MS, signal);
    server = await tryListen(name);
  }
  try {
    return await fn();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
