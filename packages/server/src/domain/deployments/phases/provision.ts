import { driverContext } from '../orchestrator.ts';
import { listDefinitions } from '../../resources/definitions.ts';
import { buildResourceGraph } from '../../resources/graph.ts';
import {
  planResources,
  provisionResources,
  type WorkloadResourceOutputs,
} from '../../resources/provision.ts';
import type { RunProgress, SetRun } from './phase.ts';

/**
 * How long provisioning may take besides the time the set's resource definitions give their drivers (a
 * database server started for the first time, say).
 */
export const PROVISION_TIMEOUT_MS = 600_000;

/**
 * The drivers whose definitions say how long each of their calls may take: the key of `driverInputs.values`
 * that does and its default in seconds, as plugins/resource-terraform and plugins/resource-basic document them.
 */
const DRIVER_CALL_TIMEOUTS: Record<string, { key: string; defaultSeconds: number; maxSeconds: number }> = {
  terraform: { key: 'timeout', defaultSeconds: 600, maxSeconds: 86_400 },
  exec: { key: 'timeoutSeconds', defaultSeconds: 300, maxSeconds: 86_400 },
};

/**
 * The driver calls provisioning one resource may make at most, each with its full timeout: a resource
 * created again with --recreate-missing is compared (diff), read, deleted and created, a create that fails
 * destroys what it made, and a created resource is deleted again when a later one fails.
 */
const CALLS_PER_RESOURCE = 6;

/** The longest a timer can wait (about 24.8 days): AbortSignal.timeout fires at once beyond it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long provisioning resources with `definitions` (one per resource: the definition it is provisioned
 * with) may take, in ms: PROVISION_TIMEOUT_MS, plus for each resource whose driver takes a timeout per call
 * (DRIVER_CALL_TIMEOUTS) CALLS_PER_RESOURCE times that timeout, so that each of its calls gets the whole of
 * it. A timeout the driver would refuse counts as its default (the driver's check fails the resource).
 */
export function provisionBudgetMs(
  definitions: Iterable<{ driver: string; values: Record<string, unknown> }>,
): number {
  let budget = PROVISION_TIMEOUT_MS;
  for (const definition of definitions) {
    const timeout = DRIVER_CALL_TIMEOUTS[definition.driver];
    if (!timeout) continue;
    const given = definition.values[timeout.key];
    const seconds =
      typeof given === 'number' && Number.isFinite(given) && given > 0 && given <= timeout.maxSeconds
        ? given
        : timeout.defaultSeconds;
    budget += CALLS_PER_RESOURCE * seconds * 1000;
  }
  return Math.min(budget, MAX_TIMER_MS);
}

/**
 * The provisioning budget of a run (provisionBudgetMs): its set's resources with the definitions they are
 * provisioned with, as planning finds them (the one stored with an existing resource, the matching one for a
 * new resource).
 */
async function runProvisionBudgetMs(
  run: Pick<SetRun, 'deps' | 'target' | 'workloads' | 'options'>,
): Promise<number> {
  const { db } = run.deps.store;
  const used = new Set(buildResourceGraph(run.workloads).nodes.map((node) => node.address));
  const [{ changes }, definitions] = await Promise.all([
    planResources(db, run.target, run.workloads, run.options),
    listDefinitions(db),
  ]);
  const byId = new Map(definitions.map((definition) => [definition.id, definition]));
  return provisionBudgetMs(
    changes.flatMap((change) => {
      const definition =
        used.has(change.address) && change.definitionId ? byId.get(change.definitionId) : undefined;
      return definition ? [{ driver: definition.driver, values: definition.driverInputs.values }] : [];
    }),
  );
}

/**
 * Provision: creates and updates the set's resources (provisionResources takes back what it created if one
 * fails) and records what it created, for the rollback decision to take back if a later phase fails. With
 * `run.record`, each resource it creates is recorded with the deployment as it is stored, and the resources
 * interrupted runs created count as created by this one.
 */
export async function provision(run: SetRun, progress: RunProgress): Promise<WorkloadResourceOutputs> {
  // What drivers print (Terraform's output, say) goes into the journal, in order with the phase's own entries.
  const budgetMs = await runProvisionBudgetMs(run);
  const ctx = driverContext(run.logger, AbortSignal.any([run.signal, AbortSignal.timeout(budgetMs)]), {
    note: run.note,
    step: 'provision',
  });
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
