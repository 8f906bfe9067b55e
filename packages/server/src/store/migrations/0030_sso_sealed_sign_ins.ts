import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * A sign-in under way keeps its nonce, PKCE verifier and where it returns to (the CLI's secret loopback path,
 * the portal tab's value) sealed with the secret box in `sealed`, no longer in plaintext. A migration cannot
 * reach the secret box, so the table is made anew and the sign-ins under way are deleted: they live 10
 * minutes, and whoever was signing in starts again.
 */
export const ssoSealedSignIns: StoreMigration = {
  name: '0030_sso_sealed_sign_ins',
  async up(db: Kysely<unknown>) {
    await db.schema.dropTable('sso_sign_ins').execute();
    await db.schema
      .createTable('sso_sign_ins')
      // SHA-256 of the `state` parameter: the state itself travels through the browser only.
      .addColumn('state_hash', 'text', (c) => c.primaryKey())
      // The secret box's ciphertext of the sign-in's nonce, verifier and return, bound to state_hash.
      .addColumn('sealed', 'text', (c) => c.notNull())
      // The redirect_uri sent to the provider (Pave's callback), needed again for the code exchange.
      .addColumn('callback_url', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
  },
};
