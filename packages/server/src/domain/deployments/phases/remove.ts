import type { DriverContext, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { RunProgress, SetRun } from './phase.ts';

/** Remove: stops and removes the running workloads the set does not have. */
export async function remove(
  run: SetRun,
  runtime: RuntimeDriver,
  running: WorkloadStatus[],
  ctx: DriverContext,
  progress: RunProgress,
): Promise<void> {
  const target = { app: run.target.app, env: run.target.env };
  for (const workload of running.map((w) => w.workload).sort()) {
    if (workload in run.workloads) continue;
    if (!progress.touched) {
      progress.touched = true;
      await run.record?.save(progress);
    }
    await run.note({ step: 'remove', workload, status: 'started', message: 'not in the set' });
    await runtime.remove(target, workload, ctx);
    await run.note({ step: 'remove', workload, status: 'succeeded', message: 'stopped and removed' });
  }
}
