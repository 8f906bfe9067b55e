import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * The secret outputs a resource had before it was replaced, updated with new ones or deleted, sealed as its
 * record held them: its environment's workloads may have printed them (an old database password), and the
 * environment's logs are masked with every secret its workloads were given. They go with the environment.
 */
export const retiredResourceSecrets: StoreMigration = {
  name: '0032_retired_resource_secrets',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('retired_resource_secrets')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('address', 'text', (c) => c.notNull())
      .addColumn('output_secrets', 'text', (c) => c.notNull())
      .addColumn('retired_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('retired_resource_secrets_env')
      .on('retired_resource_secrets')
      .columns(['app_id', 'env_id'])
      .execute();
  },
};
