import type { RuntimeTarget } from './drivers.ts';

/** The key of one workload of a target, `app/env/workload`: unique among every target's workloads. */
export function workloadKey(target: RuntimeTarget, workload: string): string {
  return `${target.app}/${target.env}/${workload}`;
}

/**
 * Per-workload locks of one runtime instance: operations on the same workload run one after the other, in
 * the order they asked; operations on different workloads run at once.
 */
export class WorkloadLocks {
  private readonly tails = new Map<string, Promise<unknown>>();

  /**
   * Runs `fn` once every operation asked before on the same workload has finished, whether it succeeded or
   * failed; resolves or rejects as `fn` does.
   */
  async run<T>(target: RuntimeTarget, workload: string, fn: () => Promise<T>): Promise<T> {
    const key = workloadKey(target, workload);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    const settled = run.catch(() => undefined);
    this.tails.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    }
  }
}
