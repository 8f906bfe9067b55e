import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Resources: the platform team's resource definitions, the resources provisioned for each environment,
 * the routes Pave's reverse proxy serves, and environments that expire.
 */
export const resources: StoreMigration = {
  name: '0004_resources',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('resource_definitions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('driver', 'text', (c) => c.notNull())
      // driverInputs.values as JSON.
      .addColumn('input_values', 'text', (c) => c.notNull())
      // driverInputs.secrets as Pave ciphertext of their JSON, with a keyed fingerprint to detect changes.
      .addColumn('input_secrets', 'text', (c) => c.notNull())
      .addColumn('secrets_fp', 'text', (c) => c.notNull())
      .addColumn('secret_names', 'text', (c) => c.notNull())
      .addColumn('criteria', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('resources')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      // `<workload>.<name>` or `shared.<id>`.
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('class', 'text', (c) => c.notNull())
      .addColumn('res_id', 'text', (c) => c.notNull())
      .addColumn('definition_id', 'text', (c) => c.notNull())
      .addColumn('driver', 'text', (c) => c.notNull())
      // The driver's own id for the resource (a database name, a user…).
      .addColumn('driver_id', 'text', (c) => c.notNull())
      // Keyed fingerprint of everything the driver was given: tells whether an update is due.
      .addColumn('inputs_fp', 'text', (c) => c.notNull())
      // Score params as declared (placeholders unexpanded), JSON.
      .addColumn('params', 'text', (c) => c.notNull())
      .addColumn('output_values', 'text', (c) => c.notNull())
      // Secret outputs as Pave ciphertext of their JSON, and their names (JSON) for listings.
      .addColumn('output_secrets', 'text', (c) => c.notNull())
      .addColumn('secret_names', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('resources_pk', ['app_id', 'env_id', 'address'])
      .execute();
    await db.schema
      .createTable('routes')
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('workload', 'text', (c) => c.notNull())
      .addColumn('host_port', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('routes_pk', ['host', 'path'])
      .execute();
    await db.schema.alterTable('environments').addColumn('expires_at', 'text').execute();
  },
};
