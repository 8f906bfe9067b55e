import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Workload profiles: patches and extra objects platform teams add to the Kubernetes manifests of every
 * workload of the environments a profile's criteria match.
 */
export const profiles: StoreMigration = {
  name: '0019_profiles',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('profiles')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('description', 'text')
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('patches', 'text', (c) => c.notNull())
      .addColumn('objects', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
  },
};
