import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Single sign-on with OpenID Connect: the sign-ins under way (state, nonce and PKCE verifier, kept in the
 * store so that any replica can finish what another started), which provider subject is which Pave user,
 * and the provider group each team follows.
 */
export const sso: StoreMigration = {
  name: '0022_sso',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('sso_sign_ins')
      // SHA-256 of the `state` parameter: the state itself travels through the browser only.
      .addColumn('state_hash', 'text', (c) => c.primaryKey())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      // The redirect_uri sent to the provider (Pave's callback), needed again for the code exchange.
      .addColumn('callback_url', 'text', (c) => c.notNull())
      // Where the token goes: the portal's origin, or the CLI's loopback URL.
      .addColumn('return_to', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('oidc_identities')
      .addColumn('issuer', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_sign_in_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('oidc_identities_pk', ['issuer', 'subject'])
      .execute();
    await db.schema.createIndex('oidc_identities_user').on('oidc_identities').column('user_id').execute();
    // Null: membership is managed by hand only.
    await db.schema.alterTable('teams').addColumn('oidc_group', 'text').execute();
  },
};
