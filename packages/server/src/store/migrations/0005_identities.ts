import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Identities: local users with scrypt-hashed passwords, service accounts (token-only users), teams and
 * their members, and recent failed logins (for rate limiting across replicas).
 */
export const identities: StoreMigration = {
  name: '0005_identities',
  async up(db: Kysely<unknown>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    // 'user' (may have a password) or 'service' (a service account: tokens only).
    await db.schema
      .alterTable('users')
      .addColumn('kind', 'text', (c) => c.notNull().defaultTo('user'))
      .execute();
    // `scrypt$N$r$p$<salt>$<hash>` (base64); null: the user cannot log in with a password.
    await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
    await db.schema
      .createTable('teams')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('team_members')
      .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('added_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('team_members_pk', ['team_id', 'user_id'])
      .execute();
    await db.schema.createIndex('team_members_user').on('team_members').column('user_id').execute();
    await db.schema
      .createTable('login_failures')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      // `user:<username>` or `client:<address>`.
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('login_failures_key_at')
      .on('login_failures')
      .columns(['key', 'at'])
      .execute();
  },
};
