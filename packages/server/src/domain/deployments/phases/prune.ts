import { driverContext } from '../orchestrator.ts';
import { pruneResources } from '../../resources/provision.ts';
import { DeploymentInterrupted, messageOf, type SetRun } from './phase.ts';

/**
 * Prune (with `--prune`): deletes the resources the set no longer uses. The workloads already run, so a
 * resource that could not be deleted does not fail the deployment: it stays recorded, is journaled, and is
 * tried again by the next pruning deployment.
 */
export async function prune(run: SetRun, signal: AbortSignal): Promise<void> {
  if (!run.options.prune) return;
  // What drivers print while deleting goes into the journal, as it does while provisioning.
  const ctx = driverContext(run.logger, signal, { note: run.note, step: 'prune' });
  try {
    await pruneResources(
      { store: run.deps.store, box: run.deps.box, drivers: run.deps.resourceDrivers, fence: run.fence },
      run.target,
      run.workloads,
      ctx,
      ctx.note,
      { allowDataLoss: run.options.allowDataLoss ?? false },
    ).catch(async (error: unknown) => {
      if (error instanceof DeploymentInterrupted) throw error;
      await ctx.note({ step: 'prune', status: 'failed', message: messageOf(error) });
    });
  } finally {
    ctx.dispose();
  }
}
