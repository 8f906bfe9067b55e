import { driverContext } from '../orchestrator.ts';
import { provisionResources, type WorkloadResourceOutputs } from '../../resources/provision.ts';
import type { RunProgress, SetRun } from './phase.ts';

/** How long provisioning may take in all (a database server started for the first time, say). */
const PROVISION_TIMEOUT_MS = 600_000;

/**
 * Provision: creates and updates the set's resources (provisionResources takes back what it created if one
 * fails) and records what it created, for the rollback decision to take back if a later phase fails.
 */
export async function provision(run: SetRun, progress: RunProgress): Promise<WorkloadResourceOutputs> {
  // What drivers print (Terraform's output, say) goes into the journal, in order with the phase's own entries.
  const ctx = driverContext(
    run.logger,
    AbortSignal.any([run.signal, AbortSignal.timeout(PROVISION_TIMEOUT_MS)]),
    { note: run.note, step: 'provision' },
  );
  try {
    const { outputs, created } = await provisionResources(
      { store: run.deps.store, box: run.deps.box, drivers: run.deps.resourceDrivers },
      run.target,
      run.workloads,
      ctx,
      ctx.note,
      {
        cloneFrom: run.options.cloneDataFrom,
        recreateMissing: run.options.recreateMissing,
        allowDataLoss: run.options.allowDataLoss,
      },
    );
    progress.created = created;
    return outputs;
  } finally {
    ctx.dispose();
  }
}
