import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Which artifact each workload of a deployment's set came from: `workload_artifacts` is JSON,
 * `{"api": "3", "worker": null}` (null: deployed by hand or by commit alone). A set is built up by several
 * deployments, so the artifact of the newest one is not where all its code came from. Null on deployments from
 * before this migration and on those not yet started that build their set when they start (see provenance.ts).
 */
export const workloadArtifacts: StoreMigration = {
  name: '0036_workload_artifacts',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('workload_artifacts', 'text').execute();
  },
};
