import type { DriverContext, WorkloadStatus } from '@pave/plugin-api';
import type { PlannedRuntime, RunProgress, SetRun } from './phase.ts';

/**
 * Switch target: asks the matched target what runs there, which also proves it can be reached before
 * anything changes, then moves the environment to it (its workloads on the target it ran on before are
 * removed), while the run's replica holds the lease. Resolves with the workloads running on the target.
 */
export async function switchTarget(
  run: SetRun,
  planned: PlannedRuntime,
  ctx: DriverContext,
  progress: RunProgress,
): Promise<WorkloadStatus[]> {
  const target = { app: run.target.app, env: run.target.env };
  const running = await planned.runtime.status(target, ctx);
  if (run.deps.targets && planned.move) {
    if (planned.move.moving && !progress.touched) {
      progress.touched = true;
      await run.record?.save(progress);
    }
    await run.deps.targets.commit(target, planned.move, ctx, run.note, run.fence);
  }
  return running;
}
