import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * A webhook's URL may carry the receiver's credentials (a password in its userinfo, a token in its query), so
 * the whole URL is kept sealed with the secret box in `sealed_url`, and `url` keeps only the form the API
 * shows (credentials masked). A migration cannot reach the secret box: the rows stored before it keep their
 * whole URL in `url`, with `sealed_url` null, until each replica's webhook dispatcher seals them as it starts.
 */
export const webhookSealedUrls: StoreMigration = {
  name: '0029_webhook_sealed_urls',
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('webhooks').addColumn('sealed_url', 'text').execute();
  },
};
