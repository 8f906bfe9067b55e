import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * An index of each environment's deployments by status, newest first. The queries that look for an
 * environment's newest deployment in some status (the previous successful one a diff compares with by default
 * and a rollback returns to; the queued or running one an environment's status shows; those awaiting approval
 * that a new deployment supersedes) otherwise walk either every deployment of the environment
 * (`deployments_env`) or every deployment in that status of every environment (`deployments_status`), which
 * grows with the whole history: with a million deployments, bench/scale.mjs measured the default diff of an
 * environment at tens of milliseconds on SQLite.
 */
export const scaleIndexes: StoreMigration = {
  name: '0025_scale_indexes',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('deployments_env_status')
      .on('deployments')
      .columns(['app_id', 'env_id', 'status', 'id'])
      .execute();
  },
};
