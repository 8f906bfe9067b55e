import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Four-eyes approvals: whether deployments into the environments of a type wait for approval (off for every
 * existing type), and on each deployment who decided it, with what comment, and when.
 */
export const approvals: StoreMigration = {
  name: '0016_approvals',
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('env_types')
      .addColumn('requires_approval', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('deployments').addColumn('approved_by', 'text').execute();
    await db.schema.alterTable('deployments').addColumn('approval_comment', 'text').execute();
    await db.schema.alterTable('deployments').addColumn('decided_at', 'text').execute();
  },
};
