import { sql, type Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * DORA insights: a deployment records when its commit was made (`commit_time`: the artifact's, or
 * `pave deploy --commit-time`), filled in for the deployments of artifacts that said; and an index on
 * finished deployments, which insights read by app, environment and time.
 */
export const insights: StoreMigration = {
  name: '0023_insights',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('commit_time', 'text').execute();
    await sql`update deployments set commit_time = (
        select artifacts.commit_time from artifacts where artifacts.id = deployments.artifact_id
      ) where artifact_id is not null`.execute(db);
    await db.schema
      .createIndex('deployments_finished')
      .on('deployments')
      .columns(['app_id', 'finished_at'])
      .execute();
  },
};
