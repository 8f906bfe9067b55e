import { driverContext } from '../orchestrator.ts';
import { provisionResources, type WorkloadResourceOutputs } from '../../resources/provision.ts';
import type { RunProgress, SetRun } from './phase.ts';

/** How long provisioning may take in all (a database server started for the first time, say). */
const PROVISION_TIMEOUT_MS = 600_000;

/**
 * Provision: creates and updates the set's resources (provisionResources takes back what it created if one
 * fails) and records what it created, for the rollback decision to take back if a later phase fails. With
 * `run.record`, each resource it creates is recorded with the deployment as it is stored, and the resources
 * interrupted runs created count as created by this one.
 */
export async function provision(run: SetRun, progress: RunProgress): Promise<WorkloadResourceOutputs> {
  // What drivers print (Terraform's output, say) goes into the journal, in order with the phase's own entries.
  const ctx = driverContext(
    run.logger,
    AbortSignal.any([run.signal, AbortSignal.timeout(PROVISION_TIMEOUT_MS)]),
    { note: run.note, step: 'provision' },
  );
  const { record } = run;
  try {
    const { outputs, created } = await provisionResources(
      { store: run.deps.store, box: run.deps.box, drivers: run.deps.resourceDrivers, fence: run.fence },
      run.target,
      run.workloads,
      ctx,
      ctx.note,
      {
        cloneFrom: run.options.cloneDataFrom,
        recreateMissing: run.options.recreateMissing,
        allowDataLoss: run.options.allowDataLoss,
        createdBefore: progress.created,
        saveCreated: record && ((db, created) => record.save({ ...progress, created }, db)),
      },
    );
    progress.created = created;
    return outputs;
  } catch (error) {
    // provisionResources took back what it could; a resource it could not delete is kept for the next
    // deployment, as it says.
    progress.created = [];
    throw error;
  } finally {
    ctx.dispose();
  }
}
