import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The file that says which `pave up` (or `pave down`) uses a data directory with its SQLite store. */
export const LOCK_FILE = 'pave.lock';

/**
 * Claims `dataDir` for this process: SQLite allows one control plane per data directory (replicas share a
 * PostgreSQL store instead), and `pave down` must not stop what a `pave up` serving it runs. Writes the lock
 * file with this pid; a lock left by a process that is gone is taken over. When another live process holds
 * it, throws what `refuse` makes of the holder's pid. Returns a function that releases the claim.
 */
export function claimDataDir(dataDir: string, refuse: (holder: number) => Error): () => void {
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        if (holderOf(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = holderOf(file);
    if (holder !== null && holder !== process.pid && isAlive(holder)) throw refuse(holder);
    // Left by a process that is gone (or unreadable): take it over.
    rmSync(file, { force: true });
  }
  throw new Error(`could not claim ${file}: another process keeps creating it`);
}

function holderOf(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
