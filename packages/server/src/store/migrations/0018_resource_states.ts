import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * The state resource drivers keep in the control plane (Terraform's `http` backend): one row per resource,
 * the state encrypted with the environment's data key, and the lock a run holds while it changes it.
 */
export const resourceStates: StoreMigration = {
  name: '0018_resource_states',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('resource_states')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('state', 'text')
      .addColumn('lock_id', 'text')
      .addColumn('lock_info', 'text')
      .addColumn('locked_at', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_states_pk', ['app_id', 'env_id', 'address'])
      .execute();
  },
};
