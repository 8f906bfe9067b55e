import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/** Runtime targets (where workloads run, matched to environments) and the target each environment runs on. */
export const runtimeTargets: StoreMigration = {
  name: '0008_runtime_targets',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('runtime_targets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // The target the environment's workloads run on (set when a deployment starts); null: never deployed.
    await db.schema.alterTable('environments').addColumn('runtime_target', 'text').execute();
  },
};
