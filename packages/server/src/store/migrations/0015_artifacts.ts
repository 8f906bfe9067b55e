import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Build artifacts CI pushes (the Score workloads of a commit and the image built for them), automation rules
 * that deploy the artifacts of a branch to an environment, and the artifact and commit a deployment deploys.
 * An artifact records the incarnation of its app, as audit entries do; an app's artifacts and rules are
 * deleted with it, an environment's rules with the environment.
 */
export const artifacts: StoreMigration = {
  name: '0015_artifacts',
  async up(db: Kysely<unknown>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    await db.schema
      .createTable('artifacts')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('app_incarnation', 'text')
      .addColumn('workloads', 'text', (c) => c.notNull())
      .addColumn('image', 'text')
      .addColumn('commit', 'text', (c) => c.notNull())
      .addColumn('branch', 'text')
      .addColumn('commit_time', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('artifacts_app').on('artifacts').columns(['app_id', 'id']).execute();
    await db.schema
      .createTable('rules')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('branch', 'text', (c) => c.notNull())
      .addColumn('workload', 'text')
      .addColumn('created_by_id', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('rules_app').on('rules').columns(['app_id', 'env_id']).execute();
    await db.schema.alterTable('deployments').addColumn('artifact_id', 'bigint').execute();
    await db.schema.alterTable('deployments').addColumn('commit', 'text').execute();
  },
};
