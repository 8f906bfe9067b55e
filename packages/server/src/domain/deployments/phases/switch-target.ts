import type { DriverContext, WorkloadStatus } from '@pave/plugin-api';
import type { PlannedRuntime, RunProgress, SetRun } from './phase.ts';

/**
 * Reach target: asks the matched target what runs there, before anything is provisioned: a target that cannot
 * be reached (a docker socket that is gone, a kubeconfig context that does not exist) or that does not answer
 * within the deployment's timeout (`ctx.signal` ends then) fails the deployment with nothing created. Resolves
 * with the workloads running there, which nothing but this deployment changes while its replica holds the lease.
 */
export async function reachTarget(
  run: SetRun,
  planned: PlannedRuntime,
  ctx: DriverContext,
): Promise<WorkloadStatus[]> {
  try {
    return await planned.runtime.status({ app: run.target.app, env: run.target.env }, ctx);
  } catch (error) {
    // `ctx.signal` also ends at the deployment's timeout: say so rather than the driver's "aborted".
    if (!ctx.signal.aborted || run.signal.aborted) throw error;
    throw new Error(
      `the runtime target did not answer within ${run.options.timeoutSeconds} s, the deployment's timeout ` +
        '(--timeout); check that the control plane can reach it',
      { cause: error },
    );
  }
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
