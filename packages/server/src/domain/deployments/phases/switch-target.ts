import type { DriverContext, WorkloadStatus } from '@pave/plugin-api';
import type { PlannedRuntime, RunProgress, SetRun } from './phase.ts';

/**
 * Reach target: asks the matched target what runs there, before anything is provisioned: a target that cannot
 * be reached (a docker socket that is gone, a kubeconfig context that does not exist) fails the deployment
 * with nothing created. Resolves with the workloads running there, which nothing but this deployment changes
 * while its replica holds the lease.
 */
export function reachTarget(
  run: SetRun,
  planned: PlannedRuntime,
  ctx: DriverContext,
): Promise<WorkloadStatus[]> {
  return planned.runtime.status({ app: run.target.app, env: run.target.env }, ctx);
}

/**
 * Switch target: moves the environment to the matched target (its workloads on the target it ran on before
 * are removed), while the run's replica holds the lease.
 */
export async function switchTarget(
  run: SetRun,
  planned: PlannedRuntime,
  ctx: DriverContext,
  progress: RunProgress,
): Promise<void> {
  if (!run.deps.targets || !planned.move) return;
  if (planned.move.moving && !progress.touched) {
    progress.touched = true;
    await run.record?.save(progress);
  }
  await run.deps.targets.commit(
    { app: run.target.app, env: run.target.env },
    planned.move,
    ctx,
    run.note,
    run.fence,
  );
}
