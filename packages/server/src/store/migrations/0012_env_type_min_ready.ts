import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * The stability window per environment type: how long a workload without a readiness probe must keep
 * running before a deployment to an environment of the type counts it as ready. Null (every existing type)
 * means the platform default, so a type keeps following that default until the platform team sets its own.
 */
export const envTypeMinReady: StoreMigration = {
  name: '0012_env_type_min_ready',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('env_types').addColumn('min_ready_seconds', 'integer').execute();
  },
};
