import { sql, type Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/** A webhook's name: a DNS label, at most this long. */
const MAX_NAME = 63;

/**
 * A webhook's name is unique among the live (not retired) webhooks of its app, or among the org-wide ones:
 * the store now says so with a unique index, as createWebhook only checked before inserting, and two creations
 * racing on PostgreSQL could both pass the check. A store that holds such twins keeps the oldest under its
 * name; each later one is renamed NAME-2, NAME-3, … (the first free one), so that none stops delivering.
 */
export const webhookNames: StoreMigration = {
  name: '0027_webhook_names',
  async up(db: Kysely<unknown>) {
    const live = await sql<{ id: string; app_id: string | null; name: string }>`
      select id, app_id, name from webhooks where retire_after_event_id is null order by created_at, id
    `.execute(db);
    const taken = new Set(live.rows.map((row) => `${row.app_id ?? ''}/${row.name}`));
    const kept = new Set<string>();
    for (const row of live.rows) {
      const scope = row.app_id ?? '';
      if (!kept.has(`${scope}/${row.name}`)) {
        kept.add(`${scope}/${row.name}`);
        continue;
      }
      let name = row.name;
      for (let n = 2; taken.has(`${scope}/${name}`); n += 1) {
        const suffix = `-${n}`;
        name = `${row.name.slice(0, MAX_NAME - suffix.length).replace(/-+$/, '')}${suffix}`;
      }
      taken.add(`${scope}/${name}`);
      kept.add(`${scope}/${name}`);
      await sql`update webhooks set name = ${name} where id = ${row.id}`.execute(db);
    }
    await sql`create unique index webhooks_live_name on webhooks (coalesce(app_id, ''), name)
      where retire_after_event_id is null`.execute(db);
  },
};
