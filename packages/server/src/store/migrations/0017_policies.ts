import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Policies as code (rules, promotion gates, freezes every deployment is checked against) and the policies an
 * org admin overrode for a deployment, with their reasons.
 */
export const policies: StoreMigration = {
  name: '0017_policies',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('policies')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('description', 'text')
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('spec', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.alterTable('deployments').addColumn('policy_overrides', 'text').execute();
  },
};
