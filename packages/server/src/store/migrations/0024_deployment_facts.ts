import { sql, type Kysely } from 'kysely';
import type { StoreEngine, StoreMigration } from './index.ts';

/**
 * DORA insights read facts stored with each deployment instead of deriving them from its neighbours on every
 * request: whether it is a failed change, its lead time and its time to restore (see
 * domain/deployments/facts.ts, which keeps them up to date). Existing deployments are filled in once here.
 * Indexes: one that covers what insights count per day (it replaces `deployments_finished`, its prefix), one
 * per measure in value order, from which a percentile is read by walking to its rank, and one of the failed
 * changes not yet restored.
 */
export const deploymentFacts: StoreMigration = {
  name: '0024_deployment_facts',
  async up(db: Kysely<unknown>, engine: StoreEngine) {
    await db.schema
      .alterTable('deployments')
      .addColumn('failed_change', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('deployments').addColumn('lead_seconds', 'double precision').execute();
    await db.schema.alterTable('deployments').addColumn('restore_seconds', 'double precision').execute();
    await backfillDeploymentFacts(db, engine);
    await db.schema.dropIndex('deployments_finished').execute();
    await db.schema
      .createIndex('deployments_facts')
      .on('deployments')
      .columns([
        'app_id',
        'finished_at',
        'env_id',
        'status',
        'failed_change',
        'lead_seconds',
        'restore_seconds',
      ])
      .execute();
    // The failed changes still waiting for a success: the next success of their environment restores them.
    await db.schema
      .createIndex('deployments_unrestored')
      .on('deployments')
      .columns(['app_id', 'env_id', 'id'])
      .where(sql<boolean>`failed_change = 1 and restore_seconds is null`)
      .execute();
    for (const measure of ['lead_seconds', 'restore_seconds']) {
      await db.schema
        .createIndex(`deployments_${measure}`)
        .on('deployments')
        .columns(['app_id', measure, 'env_id', 'finished_at'])
        .where(sql.ref(measure), 'is not', null)
        .execute();
    }
  },
};

/**
 * Computes the facts of every finished deployment from its history, in SQL both engines run: a deployment is
 * a failed change when it failed, or when it succeeded and the next deployment of its environment that
 * started is a rollback created within 24 hours of its end; its time to restore runs to the first later
 * success of its environment. Used by this migration, and by the insights bench after it seeds rows directly.
 */
export async function backfillDeploymentFacts(db: Kysely<unknown>, engine: StoreEngine): Promise<void> {
  const epoch = (column: string) =>
    sql.raw(
      engine === 'postgres'
        ? `extract(epoch from (${column})::timestamptz)::double precision`
        : `((julianday(${column}) - 2440587.5) * 86400.0)`,
    );
  const newestFirst = sql.raw('partition by app_id, env_id order by id desc');
  await sql`update deployments set
      failed_change = facts.failure,
      lead_seconds = facts.lead,
      restore_seconds = facts.restore
    from (
      select id,
        case
          when status = 'failed' then 1
          when next_kind = 'rollback' and ${epoch('next_created_at')} - ${epoch('finished_at')} <= 86400 then 1
          else 0
        end as failure,
        case when status = 'succeeded' and kind <> 'rollback' and commit_time is not null
          then ${epoch('finished_at')} - ${epoch('commit_time')} end as lead,
        case when (status = 'failed'
            or (next_kind = 'rollback' and ${epoch('next_created_at')} - ${epoch('finished_at')} <= 86400))
            and restored_at is not null
          then ${epoch('restored_at')} - ${epoch('finished_at')} end as restore
      from (
        select id, kind, status, finished_at, commit_time,
          lag(kind) over (${newestFirst}) as next_kind,
          lag(created_at) over (${newestFirst}) as next_created_at,
          min(case when status = 'succeeded' then finished_at end)
            over (${newestFirst} rows between unbounded preceding and 1 preceding) as restored_at
        from deployments
        where started_at is not null
      ) ran
      where status in ('succeeded', 'failed')
    ) facts
    where facts.id = deployments.id`.execute(db);
}
