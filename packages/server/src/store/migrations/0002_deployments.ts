import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Deployment sets, deployments as durable jobs with a journal, per-environment leases that serialize them
 * across replicas, and stable host-port allocations.
 */
export const deployments: StoreMigration = {
  name: '0002_deployments',
  async up(db: Kysely<unknown>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    await db.schema
      .createTable('deployment_sets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('deployments')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('set_id', 'text')
      .addColumn('previous_set_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('rolled_back', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('started_at', 'text')
      .addColumn('finished_at', 'text')
      .addForeignKeyConstraint(
        'deployments_env_fk',
        ['app_id', 'env_id'],
        'environments',
        ['app_id', 'id'],
        (fk) => fk.onDelete('cascade'),
      )
      .execute();
    await db.schema
      .createIndex('deployments_env')
      .on('deployments')
      .columns(['app_id', 'env_id', 'id'])
      .execute();
    await db.schema.createIndex('deployments_status').on('deployments').columns(['status', 'id']).execute();
    await db.schema
      .createTable('deployment_journal')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('deployment_id', 'integer', (c) =>
        c.notNull().references('deployments.id').onDelete('cascade'),
      )
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('workload', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('deployment_journal_deployment')
      .on('deployment_journal')
      .columns(['deployment_id', 'id'])
      .execute();
    await db.schema.alterTable('environments').addColumn('current_set_id', 'text').execute();
    await db.schema.alterTable('environments').addColumn('current_deployment_id', 'integer').execute();
    await db.schema.alterTable('environments').addColumn('lease_owner', 'text').execute();
    await db.schema.alterTable('environments').addColumn('lease_until', 'text').execute();
    await db.schema
      .createTable('port_allocations')
      .addColumn('app_id', 'text', (c) => c.notNull())
      .addColumn('env_id', 'text', (c) => c.notNull())
      .addColumn('workload', 'text', (c) => c.notNull())
      .addColumn('port_name', 'text', (c) => c.notNull())
      .addColumn('host_port', 'integer', (c) => c.notNull().unique())
      .addPrimaryKeyConstraint('port_allocations_pk', ['app_id', 'env_id', 'workload', 'port_name'])
      .execute();
  },
};
