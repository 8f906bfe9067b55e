import type { ExpressionBuilder, Selectable } from 'kysely';
import {
  NotFoundError,
  type Deployment,
  type DeploymentDetail,
  type DeploymentKind,
  type DeploymentPage,
  type DeploymentStatus,
  type JournalEntry,
  type RecordedPolicyOverride,
  type WorkloadSource,
} from '@pave/core';
import type { Executor, Store } from '../../store/index.ts';
import type { Database, DeploymentsTable, EnvironmentsTable } from '../../store/schema.ts';
import { now, type Clock } from '../context.ts';
import { recordRollbackStartFacts, recordSuccessFacts } from './facts.ts';
import { DeploymentInterrupted, type RunProgress } from './phases/phase.ts';
import { workloadArtifactsOf, type WorkloadArtifacts } from './provenance.ts';
import type { SetWorkloads } from './sets.ts';

/** What a deployment was asked to do, as stored in its `request` column. */
export interface DeploymentRequest {
  /** Deploy: workloads that replace their namesakes (others stay). */
  upsert?: WorkloadSource[];
  /** Deploy: workloads to remove. */
  remove?: string[];
  /** Rollback, promote, clone, restart: the whole set to deploy. */
  setId?: string;
  fromDeploymentId?: string;
  fromEnvId?: string;
  timeoutSeconds: number;
  autoRollback: boolean;
  /**
   * Rollback: the values version to run with (the source deployment's), restored when it succeeds. Restart: the
   * version the current deployment ran with (not restored: later values wait for the next deployment).
   */
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
    artifactId: row.artifact_id === null || row.artifact_id === undefined ? null : String(row.artifact_id),
    commit: row.commit ?? null,
    commitTime: row.commit_time ?? null,
    ...(row.policy_overrides
      ? { policyOverrides: JSON.parse(row.policy_overrides) as RecordedPolicyOverride[] }
      : {}),
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** A deployment about to run, with the environment it deploys to as it is now. */
export async function deploymentToRun(
  db: Executor,
  id: number,
): Promise<{ row: Selectable<DeploymentsTable>; environment: Selectable<EnvironmentsTable> }> {
  const row = await db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const environment = await db
    .selectFrom('environments')
    .selectAll()
    .where('app_id', '=', row.app_id)
    .where('id', '=', row.env_id)
    .executeTakeFirstOrThrow();
  return { row, environment };
}

/** The values version a deployment ran with (null: none, or no such deployment). */
export async function valuesVersionOf(db: Executor, id: string | number | null): Promise<number | null> {
  if (id === null) return null;
  const row = await db
    .selectFrom('deployments')
    .select('values_version')
    .where('id', '=', Number(id))
    .executeTakeFirst();
  return row?.values_version === null || row?.values_version === undefined
    ? null
    : Number(row.values_version);
}

/**
 * Records what a deployment runs when it starts: its set, the set it replaces, the values version and, when
 * it built its set now, where each workload of it came from.
 */
export async function recordRunStart(
  db: Executor,
  id: number,
  run: {
    setId: string;
    previousSetId: string | null;
    valuesVersion: number | null;
    startedAt: string | null;
    workloadArtifacts?: WorkloadArtifacts | undefined;
  },
): Promise<void> {
  await db
    .updateTable('deployments')
    .set({
      set_id: run.setId,
      previous_set_id: run.previousSetId,
      values_version: run.valuesVersion,
      started_at: run.startedAt ?? now(),
      ...(run.workloadArtifacts ? { workload_artifacts: JSON.stringify(run.workloadArtifacts) } : {}),
    })
    .where('id', '=', id)
    .execute();
  await recordRollbackStartFacts(db, id);
}

/**
 * Makes a deployment the environment's current one and marks it succeeded (at `clock()`). Fencing: only the
 * replica that still holds the environment's lease (`replicaId`) may finish it; false when it no longer does.
 */
export async function recordSuccess(
  tx: Executor,
  id: number,
  target: { app: string; env: string; setId: string },
  replicaId: string | undefined,
  clock: Clock = now,
): Promise<boolean> {
  const held = await tx
    .updateTable('environments')
    .set({ current_set_id: target.setId, current_deployment_id: id })
    .where('app_id', '=', target.app)
    .where('id', '=', target.env)
    .$if(replicaId !== undefined, (qb) => qb.where('lease_owner', '=', replicaId!))
    .executeTakeFirst();
  if (Number(held.numUpdatedRows) !== 1) return false;
  const finishedAt = clock();
  await tx
    .updateTable('deployments')
    .set({ status: 'succeeded', finished_at: finishedAt })
    .where('id', '=', id)
    .execute();
  await recordSuccessFacts(tx, id, finishedAt);
  return true;
}

/**
 * Marks a deployment failed (at `clock()`) with its reason, and whether the previous set was restored. It is a
 * failed change unless it is no change at all (a restart: see isChange).
 */
export async function recordFailure(
  db: Executor,
  id: number,
  reason: string,
  rolledBack: boolean,
  clock: Clock = now,
): Promise<void> {
  await db
    .updateTable('deployments')
    .set((eb) => ({
      status: 'failed',
      reason,
      finished_at: clock(),
      rolled_back: rolledBack ? 1 : 0,
      failed_change: failedChangeOf(eb),
    }))
    .where('id', '=', id)
    .execute();
}

/**
 * The `failed_change` of a deployment that fails, by its kind: 1, except for a restart, which is no change
 * (see isChange in facts.ts).
 */
export function failedChangeOf(eb: ExpressionBuilder<Database, 'deployments'>) {
  return eb.case().when('kind', '=', 'restart').then(0).else(1).end();
}

/** What a deployment's runs have changed so far, as recordProgress stored it (nothing before its first change). */
export function progressOf(row: Pick<Selectable<DeploymentsTable>, 'progress'>): RunProgress {
  const stored = row.progress ? (JSON.parse(row.progress) as Partial<RunProgress>) : {};
  return { touched: stored.touched ?? false, started: stored.started ?? [], created: stored.created ?? [] };
}

/** What a deployment's runs have changed so far, as stored now (see progressOf). */
export async function storedProgress(db: Executor, id: number): Promise<RunProgress> {
  return progressOf(
    await db.selectFrom('deployments').select('progress').where('id', '=', id).executeTakeFirstOrThrow(),
  );
}

/**
 * Fencing: the writes a replica makes for a deployment it runs (status, progress, journal) land only while it
 * holds the environment's lease. Without a replica (a deployment run outside a worker) nothing is fenced.
 */
export interface LeaseFence {
  /**
   * Runs `write` in `tx`, or in a transaction of its own, after confirming the lease in it: an update of the
   * environment's row that matches only the lease's holder, and locks the row, so a replica taking the lease
   * over waits for the transaction to end. Rejects with DeploymentInterrupted (`leaseLost`), having written
   * nothing, when another replica or an environment deletion holds the lease.
   */
  write<T>(write: (db: Executor) => Promise<T>, tx?: Executor): Promise<T>;
  /** Rejects as `write` does when the lease is no longer held; writes nothing. */
  check(): Promise<void>;
}

/** The fence of `replicaId`'s writes for deployments of `target` (see LeaseFence). */
export function leaseFence(
  store: Store,
  target: { app: string; env: string },
  replicaId: string | undefined,
): LeaseFence {
  const confirm = async (tx: Executor) => {
    if (replicaId === undefined) return;
    const held = await tx
      .updateTable('environments')
      .set({ lease_owner: replicaId })
      .where('app_id', '=', target.app)
      .where('id', '=', target.env)
      .where('lease_owner', '=', replicaId)
      .executeTakeFirst();
    if (Number(held.numUpdatedRows) !== 1) {
      throw new DeploymentInterrupted('this replica lost its lease on the environment', true);
    }
  };
  const write = async <T>(fn: (db: Executor) => Promise<T>, tx?: Executor): Promise<T> => {
    if (tx) {
      await confirm(tx);
      return fn(tx);
    }
    if (replicaId === undefined) return fn(store.db);
    return store.transaction(async (own) => {
      await confirm(own);
      return fn(own);
    });
  };
  return { write, check: () => write(async () => undefined) };
}

/** Stores what a deployment's run has changed so far, for a run that resumes it (see progressOf). */
export async function recordProgress(db: Executor, id: number, progress: RunProgress): Promise<void> {
  const { touched, started, created } = progress;
  await db
    .updateTable('deployments')
    .set({ progress: JSON.stringify({ touched, started, created }) })
    .where('id', '=', id)
    .execute();
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
  let workloadArtifacts: WorkloadArtifacts | null = null;
  if (row.set_id) {
    const set = await db
      .selectFrom('deployment_sets')
      .select('content')
      .where('id', '=', row.set_id)
      .executeTakeFirst();
    if (set) {
      const content = JSON.parse(set.content) as { workloads: SetWorkloads };
      workloads = Object.keys(content.workloads).sort();
      workloadArtifacts = workloadArtifactsOf(row, content.workloads);
    }
  }
  return {
    ...toDeployment(row),
    workloads,
    workloadArtifacts,
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

/**
 * The environment's queued or running deployment that comes first by id (`asc`: the oldest, which runs next;
 * `desc`: the newest). One lookup per status on the index (app_id, env_id, status, id): asked with
 * `status in (...)` and ordered by id, SQLite walks the environment's whole history instead.
 */
export async function pendingDeployment(
  db: Executor,
  app: string,
  env: string,
  order: 'asc' | 'desc',
): Promise<Selectable<DeploymentsTable> | undefined> {
  const found = await Promise.all(
    (['queued', 'running'] as const).map((status) =>
      db
        .selectFrom('deployments')
        .selectAll()
        .where('app_id', '=', app)
        .where('env_id', '=', env)
        .where('status', '=', status)
        .orderBy('id', order)
        .limit(1)
        .executeTakeFirst(),
    ),
  );
  const sign = order === 'asc' ? 1 : -1;
  return found.filter((row) => row !== undefined).sort((a, b) => sign * (Number(a.id) - Number(b.id)))[0];
}

/** An environment's deployments, newest first. */
export async function listDeployments(
  db: Executor,
  app: string,
  env: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<DeploymentPage> {
  const limit = page.limit ?? 50;
  // Keyset pagination on the index (app_id, env_id, id): a deep page costs what the first does.
  const rows = await db
    .selectFrom('deployments')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '<', Number(page.cursor)))
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toDeployment);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}
