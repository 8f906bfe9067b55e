import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Indexes for the identity lists that page: `GET /roles?app=` reads one app's grants in the order they were
 * granted (`role_grants_scope`: scope, then id, so a page stops after `limit` grants instead of filtering the
 * whole table), and `GET /tokens` reads a user's tokens newest first (`tokens_user_created`: a page walks the
 * index backwards from its cursor instead of sorting every token of the user, login sessions included).
 */
export const identityLists: StoreMigration = {
  name: '0034_identity_lists',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createIndex('role_grants_scope')
      .on('role_grants')
      .columns(['scope_kind', 'scope_id', 'id'])
      .execute();
    await db.schema
      .createIndex('tokens_user_created')
      .on('tokens')
      .columns(['user_id', 'created_at', 'id'])
      .execute();
  },
};
