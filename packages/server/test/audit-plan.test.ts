import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/index.ts';
import { listAudit } from '../src/domain/audit.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { seedApps, withPlanOfLastQuery } from './support/query-plan.ts';

const APPS = 300;
const ENTRIES = 60_000;
/** Every HOT_EVERY-th entry is about the hot app: 1.7 % of the log, as for a busy app among hundreds. */
const HOT_EVERY = 60;

/**
 * The query plan of "the audit log of one app": it must walk an index newest first and stop after a page.
 * A plan that reads every entry of the app and sorts them costs time in proportion to the app's history
 * (bench/scale.mjs: 12 ms at p50 on PostgreSQL with 300 000 deployments). The log here is seeded with raw
 * SQL: it is the planner's statistics under test, not the chain, and a realistic share needs many rows.
 */
describe.each(storeEngines)('the audit log of one app on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    await seedApps(store, APPS);
    await sql`
      with recursive n(i) as (select 1 union all select i + 1 from n where i < ${sql.lit(ENTRIES)})
      insert into audit_entries (at, actor, action, target, app_id, app_incarnation, request_id, summary)
      select '2026-01-01T00:00:00.000Z', 'admin', 'deployment.queued', 'x', a.id, a.incarnation, 'r', '{}'
      from n join apps a
        on a.id = 'app-' || (case when n.i % ${sql.lit(HOT_EVERY)} = 0 then 0 else 1 + n.i % ${sql.lit(APPS - 1)} end)
    `.execute(store.db);
    // What autovacuum (PostgreSQL) and a long-running store's optimizer would have by now.
    await sql`analyze`.execute(store.db);
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  it.each([
    ['the busiest app', 'app-0', undefined],
    ['the busiest app', 'app-0', String(ENTRIES / 2)],
    ['a typical app', 'app-7', undefined],
    ['a typical app', 'app-7', String(ENTRIES / 2)],
  ])(
    '%s (%s, cursor %s): walks an index newest first, without reading and sorting all its entries',
    async (_, appId, cursor) => {
      const {
        result: page,
        plan,
        sql: text,
      } = await withPlanOfLastQuery(store, (db) => listAudit(db, { app: appId, limit: 50, cursor }));
      expect(text).toContain('audit_entries');
      expect(page.items).toHaveLength(50);
      expect(
        page.items.every(
          (item) => item.appId === appId && item.appIncarnation === `incarnation-${appId.slice(4)}`,
        ),
      ).toBe(true);
      const ids = page.items.map((item) => item.id);
      expect(ids).toEqual([...ids].sort((a, b) => b - a));
      if (cursor) expect(ids[0]).toBeLessThan(Number(cursor));
      const onEntries = plan.filter((step) => step.includes('audit_entries'));
      expect(onEntries, plan.join('\n')).toHaveLength(1);
      if (engine === 'postgres') {
        expect(onEntries[0], plan.join('\n')).toMatch(
          /^Index Scan audit_entries audit_entries_app_\w+ Backward$/,
        );
        expect(plan, plan.join('\n')).not.toContain('Sort');
      } else {
        expect(onEntries[0], plan.join('\n')).toMatch(/^SEARCH audit_entries USING INDEX audit_entries_app_/);
        expect(plan.join('\n')).not.toContain('TEMP B-TREE');
      }
    },
  );
});
