import { sql, type Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * The event outbox: one row per change, written in the change's transaction. Ids come from `event_cursor`
 * (one row), taken with an UPDATE that holds its row lock until the transaction ends, so ids are committed
 * in their order on every engine: a reader that has seen id N never later finds a smaller id appear. An
 * event about an app records the app's incarnation, as audit entries do: an app id deleted and created again
 * starts a new stream for its readers.
 */
export const events: StoreMigration = {
  name: '0013_events',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('events')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('app_id', 'text')
      .addColumn('app_incarnation', 'text')
      .addColumn('env_id', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('events_app_id')
      .on('events')
      .columns(['app_id', 'app_incarnation', 'id'])
      .execute();
    await db.schema.createIndex('events_time').on('events').columns(['time']).execute();
    await db.schema
      .createTable('event_cursor')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('last_id', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into event_cursor (id, last_id) values (1, 0)`.execute(db);
  },
};
