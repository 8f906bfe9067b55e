import { sql, type Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * What reading one app's audit log or events, or the org-wide events, needs once history is long.
 *
 * On PostgreSQL, statistics that tell the planner an app incarnation determines its app, for the audit log
 * and the events. Without them it multiplies the selectivities of `app_id` and `app_incarnation` as if the two
 * were independent, so for an app whose rows are a small share of the table it expects a handful of rows of
 * the app's current incarnation. It then reads every row of the app and sorts them, instead of walking the
 * index on `(app_id, app_incarnation, id)` and stopping after a page: bench/scale.mjs measured the audit log of
 * one app at 12 ms (p50) with 300 000 deployments, against 1.6 ms with 10 000. SQLite has no such statistics
 * and walks the index anyway.
 *
 * On both engines, an index of the org-wide events (those about no app) by type, in order, so that a reader
 * who may see some of their types reads them a page at a time rather than all of them, sorted.
 */
export const readsByApp: StoreMigration = {
  name: '0026_reads_by_app',
  async up(db: Kysely<unknown>, engine) {
    await db.schema
      .createIndex('events_org')
      .on('events')
      .columns(['type', 'id'])
      .where(sql.ref('app_id'), 'is', null)
      .execute();
    if (engine !== 'postgres') return;
    for (const table of ['audit_entries', 'events']) {
      await sql`create statistics ${sql.id(`${table}_app_dependencies`)} (dependencies)
        on app_id, app_incarnation from ${sql.table(table)}`.execute(db);
      await sql`analyze ${sql.table(table)}`.execute(db);
    }
  },
};
