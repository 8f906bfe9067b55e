import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/index.ts';
import { idPage } from '../src/domain/config-pages.ts';
import { listTemplates } from '../src/domain/templates.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { withPlanOfLastQuery } from './support/query-plan.ts';

const ROWS = 5_000;

/**
 * The query plans of the platform lists that are more than `where id > cursor order by id limit n`: the
 * targets and definitions merge Pave's built-in ids into the stored ones, and the templates keep each id's
 * latest version. A page must come from the primary key after the cursor, never from the whole table.
 * Seeded with raw SQL: the planner is under test, not how targets and templates are applied.
 */
describe.each(storeEngines)('the plans of the platform lists on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openTestStore(engine));
    await sql`
      with recursive n(i) as (select 0 union all select i + 1 from n where i < ${sql.lit(ROWS - 1)})
      insert into runtime_targets (id, type, config, criteria, updated_by, updated_at)
      select 't' || (10000 + i), 'kubernetes', '{}', '[]', 'admin', '2026-01-01T00:00:00.000Z' from n
    `.execute(store.db);
    await sql`
      with recursive n(i) as (select 0 union all select i + 1 from n where i < ${sql.lit(2 * ROWS - 1)})
      insert into templates (id, version, content, created_at, created_by)
      select
        'tpl' || (10000 + i / 2),
        1 + i % 2,
        '{"id":"tpl' || (10000 + i / 2) || '","title":"t","tags":[],"parameters":{"type":"object","properties":{}}}',
        '2026-01-01T00:00:00.000Z',
        'admin'
      from n
    `.execute(store.db);
    if (engine === 'postgres') await sql`analyze`.execute(store.db);
  }, 60_000);
  afterAll(async () => {
    await cleanup?.();
  });

  it('reads a page of target ids after the cursor from the primary key, with the built-in one merged in', async () => {
    const { result, plan } = await withPlanOfLastQuery(store, (db) =>
      idPage(db, 'runtime_targets', ['local'], { cursor: 't12000', limit: 3 }),
    );
    expect(result).toEqual({ ids: ['t12001', 't12002', 't12003'], nextCursor: 't12003' });
    const onTargets = plan.filter((step) => step.includes('runtime_targets'));
    expect(onTargets, plan.join('\n')).toHaveLength(1);
    expect(onTargets[0], plan.join('\n')).toMatch(
      engine === 'postgres'
        ? /Index (Only )?Scan runtime_targets runtime_targets_pkey/
        : /SEARCH .*\(id>\?\)/,
    );
    // The built-in id sorts before every stored one here: on the first page, not after a cursor past it.
    expect((await idPage(store.db, 'runtime_targets', ['local'], { limit: 2 })).ids).toEqual([
      'local',
      't10000',
    ]);
  });

  it('reads a page of templates after the cursor from the primary key, each at its latest version', async () => {
    const { result, plan } = await withPlanOfLastQuery(store, (db) =>
      listTemplates(db, { cursor: 'tpl12000', limit: 2 }),
    );
    expect(result.items.map((item) => [item.id, item.version])).toEqual([
      ['tpl12001', 2],
      ['tpl12002', 2],
    ]);
    expect(plan.join('\n')).not.toMatch(/^(Seq Scan templates|SCAN templates)$/m);
    expect(plan.join('\n')).toMatch(engine === 'postgres' ? /templates_pkey/ : /SEARCH templates USING/);
  });
});
