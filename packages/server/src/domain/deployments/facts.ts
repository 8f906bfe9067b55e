// The DORA facts stored with each deployment (migration 0024): whether it is a failed change, its lead time
// and its time to restore. They are written as deployments start and finish, so insights only count and rank
// them (domain/insights.ts); docs/insights.md defines each.
import type { DeploymentKind } from '@pave/core';
import type { Executor } from '../../store/index.ts';

/**
 * Whether deployments of `kind` are changes DORA counts. A restart is not: Pave queues it at start to bring
 * back the current set it found stopped (see restart.ts), so it is no deployment-frequency event, has no lead
 * time, is never a failed change and restores none, and a rollback after it looks past it.
 */
export function isChange(kind: DeploymentKind | string): boolean {
  return kind !== 'restart';
}

/** How long after a deployment finished a rollback still makes it a failed change. */
export const ROLLBACK_HORIZON_SECONDS = 24 * 3600;

const seconds = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 1000;

/**
 * A rollback started: the deployment it follows (its environment's previous one that started, restarts aside)
 * becomes a failed change when it succeeded less than 24 hours before the rollback was created. Its time to
 * restore is set by the next success (see recordSuccessFacts).
 */
export async function recordRollbackStartFacts(db: Executor, id: number): Promise<void> {
  const rollback = await db
    .selectFrom('deployments')
    .select(['app_id', 'env_id', 'kind', 'created_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!rollback || rollback.kind !== 'rollback') return;
  const previous = await db
    .selectFrom('deployments')
    .select(['id', 'status', 'finished_at'])
    .where('app_id', '=', rollback.app_id)
    .where('env_id', '=', rollback.env_id)
    .where('id', '<', id)
    .where('started_at', 'is not', null)
    .where('kind', '!=', 'restart')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (
    previous?.status === 'succeeded' &&
    previous.finished_at &&
    seconds(previous.finished_at, rollback.created_at) <= ROLLBACK_HORIZON_SECONDS
  ) {
    await db.updateTable('deployments').set({ failed_change: 1 }).where('id', '=', previous.id).execute();
  }
}

/**
 * A deployment succeeded at `finishedAt`: its lead time (a deploy with a commit time), and the time to restore
 * of every earlier failed change of its environment that no success had restored yet.
 */
export async function recordSuccessFacts(db: Executor, id: number, finishedAt: string): Promise<void> {
  const row = await db
    .selectFrom('deployments')
    .select(['app_id', 'env_id', 'kind', 'commit_time'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row || !isChange(row.kind)) return;
  if (row.kind !== 'rollback' && row.commit_time) {
    // The API takes a commit time up to five minutes ahead of its own clock (a committer's clock may run
    // ahead); a change cannot have reached production before it was made, so such a lead time is zero.
    await db
      .updateTable('deployments')
      .set({ lead_seconds: Math.max(0, seconds(row.commit_time, finishedAt)) })
      .where('id', '=', id)
      .execute();
  }
  const unrestored = await db
    .selectFrom('deployments')
    .select(['id', 'finished_at'])
    .where('app_id', '=', row.app_id)
    .where('env_id', '=', row.env_id)
    .where('id', '<', id)
    .where('failed_change', '=', 1)
    .where('restore_seconds', 'is', null)
    .execute();
  for (const failure of unrestored) {
    if (!failure.finished_at) continue;
    await db
      .updateTable('deployments')
      .set({ restore_seconds: seconds(failure.finished_at, finishedAt) })
      .where('id', '=', failure.id)
      .execute();
  }
}
