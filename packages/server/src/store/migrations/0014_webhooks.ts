import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Webhooks and their deliveries. A webhook keeps its own cursor in the event outbox (`last_event_id`) and a
 * lease (`lease_owner`, `lease_until`, taken with a conditional update like an environment's), so exactly
 * one replica sends its events, in order. Its signing secret is stored encrypted with the secret box. A
 * delivery keeps the exact body it sends, so retries and redeliveries send the same bytes even after the
 * event itself has been pruned, and its attempts as a JSON list. A webhook of a deleted app is retired
 * (`retire_after_event_id`, the last event of the deletion) rather than deleted with it, so that it still
 * delivers the app's last events; the janitor removes it once it has.
 */
export const webhooks: StoreMigration = {
  name: '0014_webhooks',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('webhooks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text')
      .addColumn('app_incarnation', 'text')
      .addColumn('events', 'text')
      .addColumn('secret', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('disabled_reason', 'text')
      .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('last_event_id', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('lease_owner', 'text')
      .addColumn('lease_until', 'text')
      .addColumn('retire_after_event_id', 'bigint')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhooks_app_id').on('webhooks').columns(['app_id', 'name']).execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('webhook_id', 'text', (c) => c.notNull())
      .addColumn('event_id', 'bigint')
      .addColumn('event_type', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('next_attempt_at', 'text')
      .addColumn('last_status_code', 'integer')
      .addColumn('last_error', 'text')
      .addColumn('attempt_log', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_webhook')
      .on('webhook_deliveries')
      .columns(['webhook_id', 'created_at'])
      .execute();
    await db.schema
      .createIndex('webhook_deliveries_status')
      .on('webhook_deliveries')
      .columns(['status', 'webhook_id'])
      .execute();
  },
};
