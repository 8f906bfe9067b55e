import type { Selectable } from 'kysely';
import type { Executor } from '../../store/index.ts';
import type { DeploymentsTable } from '../../store/schema.ts';
import type { SetWorkloads } from './sets.ts';

/**
 * Which build artifact each workload of a deployment's set came from, by workload name: its id, or null for a
 * workload deployed by hand or by a commit alone. A set is built up by many deployments (each upserts some
 * workloads and keeps the others), so the artifact of the deployment that made a set is not where all its code
 * came from: approvals ask for the pushers of the artifacts behind the workloads a deployment changes (see
 * requestersOf in approvals.ts). Stored as JSON in `deployments.workload_artifacts`.
 */
export type WorkloadArtifacts = Record<string, string | null>;

type ProvenanceRow = Pick<Selectable<DeploymentsTable>, 'workload_artifacts' | 'artifact_id'>;

/**
 * The artifact of each of `workloads` as deployment `row` records it. A deployment from before 0036 recorded
 * only its own artifact: every workload counts as coming from it, as approvals assumed then.
 */
export function workloadArtifactsOf(row: ProvenanceRow, workloads: SetWorkloads): WorkloadArtifacts {
  const stored =
    row.workload_artifacts === null ? {} : (JSON.parse(row.workload_artifacts) as WorkloadArtifacts);
  const own = row.artifact_id === null ? null : String(row.artifact_id);
  return Object.fromEntries(
    Object.keys(workloads).map((name) => [name, Object.hasOwn(stored, name) ? (stored[name] ?? null) : own]),
  );
}

/**
 * Where each of `workloads`, the environment's current set, came from, as its current deployment
 * (`deploymentId`) records it; nothing known (every one null) without that deployment.
 */
export async function currentWorkloadArtifacts(
  db: Executor,
  deploymentId: number | string | null,
  workloads: SetWorkloads,
): Promise<WorkloadArtifacts> {
  const row =
    deploymentId === null
      ? undefined
      : await db
          .selectFrom('deployments')
          .select(['workload_artifacts', 'artifact_id'])
          .where('id', '=', Number(deploymentId))
          .executeTakeFirst();
  return workloadArtifactsOf(row ?? { workload_artifacts: null, artifact_id: null }, workloads);
}

/**
 * The provenance of a set a deployment builds from the environment's current one: the workloads it upserts come
 * from its own artifact (`artifactId`, null for one deployed by hand), the ones it keeps from where they came
 * before, and the ones it removes are gone.
 */
export function patchWorkloadArtifacts(
  base: WorkloadArtifacts,
  upserted: readonly string[],
  removed: readonly string[],
  artifactId: string | null,
): WorkloadArtifacts {
  const next: WorkloadArtifacts = { ...base };
  for (const name of upserted) next[name] = artifactId;
  for (const name of removed) delete next[name];
  return next;
}
