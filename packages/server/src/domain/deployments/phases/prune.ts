import type { DriverContext } from '@pave/plugin-api';
import { pruneResources } from '../../resources/provision.ts';
import { messageOf, type SetRun } from './phase.ts';

/**
 * Prune (with `--prune`): deletes the resources the set no longer uses. The workloads already run, so a
 * resource that could not be deleted does not fail the deployment: it stays recorded, is journaled, and is
 * tried again by the next pruning deployment.
 */
export async function prune(run: SetRun, ctx: DriverContext): Promise<void> {
  if (!run.options.prune) return;
  await pruneResources(
    { store: run.deps.store, box: run.deps.box, drivers: run.deps.resourceDrivers },
    run.target,
    run.workloads,
    ctx,
    run.note,
    { allowDataLoss: run.options.allowDataLoss ?? false },
  ).catch(async (error: unknown) => {
    await run.note({ step: 'prune', status: 'failed', message: messageOf(error) });
  });
}
