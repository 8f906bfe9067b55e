import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Restarts (deployments of kind `restart`, which Pave queues at start to bring back a current set it finds
 * stopped) are no changes, so DORA insights leave them out by their kind. The index that covers what insights
 * count per day gets `kind` as its last column, so it still covers every column they read.
 */
export const restartDeployments: StoreMigration = {
  name: '0031_restart_deployments',
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('deployments_facts').execute();
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
        'kind',
      ])
      .execute();
  },
};
