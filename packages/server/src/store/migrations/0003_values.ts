import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Configuration values and secrets: data keys (wrapped by the master key), app-level values, environment
 * overrides, immutable versions of each environment's effective values, and the version a deployment pins.
 */
export const values: StoreMigration = {
  name: '0003_values',
  async up(db: Kysely<unknown>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    await db.schema
      .createTable('data_keys')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('scope', 'text', (c) => c.notNull().unique())
      .addColumn('master_version', 'integer', (c) => c.notNull())
      .addColumn('wrapped', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('app_values')
      .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('secret', 'integer', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      // A secret's keyed fingerprint (see SecretBox.fingerprint), to tell changes apart without decrypting.
      .addColumn('fp', 'text')
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('app_values_pk', ['app_id', 'key'])
      .execute();
    await db.schema
      .createTable('env_values')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('secret', 'integer', (c) => c.notNull())
      // NULL hides the app-level value of the key in this environment.
      .addColumn('value', 'text')
      .addColumn('fp', 'text')
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('env_values_pk', ['app_id', 'env_id', 'key'])
      .addForeignKeyConstraint(
        'env_values_env_fk',
        ['app_id', 'env_id'],
        'environments',
        ['app_id', 'id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    await db.schema
      .createTable('env_value_versions')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('changes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('env_value_versions_pk', ['app_id', 'env_id', 'version'])
      .addForeignKeyConstraint(
        'env_value_versions_env_fk',
        ['app_id', 'env_id'],
        'environments',
        ['app_id', 'id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    await db.schema.alterTable('deployments').addColumn('values_version', 'integer').execute();
  },
};
