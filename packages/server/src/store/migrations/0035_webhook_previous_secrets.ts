import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * A rotated webhook secret overlaps with the one it replaces: `previous_secret` keeps the replaced secret,
 * sealed with the secret box like `secret`, and deliveries are signed with both until `previous_secret_until`
 * (an ISO 8601 time). Both are null when no rotation's overlap was asked for.
 */
export const webhookPreviousSecrets: StoreMigration = {
  name: '0035_webhook_previous_secrets',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('webhooks').addColumn('previous_secret', 'text').execute();
    await db.schema.alterTable('webhooks').addColumn('previous_secret_until', 'text').execute();
  },
};
