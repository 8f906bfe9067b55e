import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * An index of each app's rules in order, for `GET /apps/{app}/rules`, which lists them a page at a time,
 * oldest first: `rules_app` (app_id, env_id) finds an app's rules but not in that order, so each page would
 * read and sort every rule of the app.
 */
export const rulesByApp: StoreMigration = {
  name: '0033_rules_by_app',
  async up(db: Kysely<unknown>) {
    await db.schema.createIndex('rules_app_id').on('rules').columns(['app_id', 'id']).execute();
  },
};
