import type { Selectable } from 'kysely';
import {
  NotFoundError,
  type Deployment,
  type DeploymentDetail,
  type DeploymentKind,
  type DeploymentStatus,
  type JournalEntry,
  type WorkloadSource,
} from '@pave/core';
import type { Executor } from '../../store/index.ts';
import type { DeploymentsTable } from '../../store/schema.ts';
import { now } from '../context.ts';

/** What a deployment was asked to do, as stored in its `request` column. */
export interface DeploymentRequest {
  /** Deploy: workloads that replace their namesakes (others stay). */
  upsert?: WorkloadSource[];
  /** Deploy: workloads to remove. */
  remove?: string[];
  /** Rollback, promote, clone: the whole set to deploy. */
  setId?: string;
  fromDeploymentId?: string;
  fromEnvId?: string;
  timeoutSeconds: number;
  autoRollback: boolean;
  /** Rollback: the values version to run with (the source deployment's), restored when it succeeds. */
  valuesVersion?: number | null;
  /** Delete resources the set no longer uses. */
  prune?: boolean;
  /** With `prune`: stateful resources too. */
  allowDataLoss?: boolean;
  /** Clone with data: new resources start with the data of this environment's resources at the same address. */
  cloneDataFrom?: string;
  /** The stability window of workloads without a readiness probe (default: the environment type's). */
  minReadySeconds?: number;
  /** Create resources again that are recorded but gone, instead of failing. */
  recreateMissing?: boolean;
}

/** The default readiness timeout of a deployment. */
export const DEFAULT_TIMEOUT_SECONDS = 60;

export function toDeployment(row: Selectable<DeploymentsTable>): Deployment {
  const request = JSON.parse(row.request) as DeploymentRequest;
  return {
    id: String(row.id),
    appId: row.app_id,
    envId: row.env_id,
    kind: row.kind as DeploymentKind,
    setId: row.set_id,
    source: {
      ...(request.fromDeploymentId ? { deploymentId: request.fromDeploymentId } : {}),
      ...(request.fromEnvId ? { envId: request.fromEnvId } : {}),
    },
    actor: row.actor,
    message: row.message,
    status: row.status as DeploymentStatus,
    reason: row.reason,
    rolledBack: Number(row.rolled_back) === 1,
    valuesVersion: row.values_version === null ? null : Number(row.values_version),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** Appends one journal entry to a deployment. */
export async function journal(
  db: Executor,
  deploymentId: number,
  entry: { step: string; workload?: string | null; status: JournalEntry['status']; message: string },
): Promise<void> {
  await db
    .insertInto('deployment_journal')
    .values({
      deployment_id: deploymentId,
      at: now(),
      step: entry.step,
      workload: entry.workload ?? null,
      status: entry.status,
      message: entry.message,
    })
    .execute();
}

/** A deployment of an environment with its journal; NotFoundError if it is not there. */
export async function getDeployment(
  db: Executor,
  app: string,
  env: string,
  id: string,
): Promise<DeploymentDetail> {
  const row = await db
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', Number(id))
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .executeTakeFirst();
  if (!row) {
    throw new NotFoundError(`deployment ${id} of ${app}/${env} not found`, [
      { path: 'id', message: `\`pave deployments list --app ${app} --env ${env}\` shows the deployments` },
    ]);
  }
  const entries = await db
    .selectFrom('deployment_journal')
    .selectAll()
    .where('deployment_id', '=', row.id)
    .orderBy('id')
    .execute();
  let workloads: string[] | null = null;
  if (row.set_id) {
    const set = await db
      .selectFrom('deployment_sets')
      .select('content')
      .where('id', '=', row.set_id)
      .executeTakeFirst();
    if (set) workloads = Object.keys((JSON.parse(set.content) as { workloads: object }).workloads).sort();
  }
  return {
    ...toDeployment(row),
    workloads,
    journal: entries.map((entry) => ({
      id: Number(entry.id),
      at: entry.at,
      step: entry.step,
      workload: entry.workload,
      status: entry.status as JournalEntry['status'],
      message: entry.message,
    })),
  };
}

/** An environment's deployments, newest first. */
export async function listDeployments(
  db: Executor,
  app: string,
  env: string,
  limit = 50,
): Promise<Deployment[]> {
  const rows = await db
    .selectFrom('deployments')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toDeployment);
}
