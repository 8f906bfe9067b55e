import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * What a deployment's run has changed so far (whether it touched workloads, which it started, which resources
 * it created), kept with the deployment as it happens: a run resumed after the control plane died knows what
 * the interrupted one did, and a failure takes it all back as that run would have. Null until a run changes
 * something, and for every deployment before this migration.
 */
export const deploymentProgress: StoreMigration = {
  name: '0028_deployment_progress',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('progress', 'text').execute();
  },
};
