import { planResources } from '../../resources/provision.ts';
import { unrenderableManifests, unrunnable } from '../runnable.ts';
import { PhaseFailed, type PlannedRuntime, type SetRun } from './phase.ts';

/**
 * Plan: the set's resource changes are ones Pave accepts, the runtime target the environment matches now is
 * chosen, and its runtime can run every workload (nothing is changed yet).
 */
export async function plan(run: SetRun): Promise<PlannedRuntime> {
  const resources = await planResources(run.deps.store.db, run.target, run.workloads, run.options);
  if (resources.problems.length) {
    throw new PhaseFailed(
      'plan',
      resources.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n'),
    );
  }
  const move = run.deps.targets ? await run.deps.targets.plan(run.target) : null;
  const runtime = move?.runtime ?? run.deps.runtime;
  // A rollback or promotion may bring manifests to an environment that has moved to a target without them.
  const problems = [...unrunnable(runtime, run.workloads), ...unrenderableManifests(runtime, run.workloads)];
  if (problems.length) {
    throw new PhaseFailed(
      'plan',
      problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n'),
      runtime.name,
    );
  }
  return { runtime, move };
}
