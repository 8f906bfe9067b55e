import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A running process as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  cwd: string;
  argv: string[];
}

/**
 * Every process whose working directory is `dir` (Linux /proc), leaving out the bubblewrap processes that
 * hold a sandboxed workload (they carry the workload's command line as their arguments, but are not it).
 */
export function processesIn(dir: string): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      if (cwd !== dir) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || argv[0]?.endsWith('bwrap')) continue;
      found.push({ pid: Number(entry), ppid, cwd, argv });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Polls `check` every 200 ms until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
