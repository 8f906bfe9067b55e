import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/index.ts';
import type { Actor } from '../src/domain/context.ts';
import { listRoles } from '../src/domain/roles.ts';
import { listTokens } from '../src/domain/tokens.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';
import { withPlanOfLastQuery } from './support/query-plan.ts';

const GRANTS = 20_000;
const TOKENS = 20_000;
const USERS = 20;

/** An org admin calling with an unscoped token, as user-0. */
const admin: Actor = {
  userId: 'usr-0',
  username: 'user-0',
  tokenId: 'tok-admin',
  tokenName: 'admin',
  tokenExpiresAt: null,
  grants: [{ role: 'admin', scope: { kind: 'org' }, via: 'user' }],
  tokenScope: null,
};

/**
 * A long grant table and many login sessions: each app's grants and each user's tokens are read a page at a
 * time through an index, not all read and sorted. Seeded with SQL: the shape of the tables is under test.
 */
describe.each(storeEngines)('role grants and tokens read a page through an index on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const n = (count: number) =>
      sql`with recursive n(i) as (select 0 union all select i + 1 from n where i < ${sql.lit(count - 1)})`;
    await sql`${n(USERS)}
      insert into users (id, username, created_at)
      select 'usr-' || i, 'user-' || i, '2026-01-01T00:00:00.000Z' from n`.execute(store.db);
    await sql`${n(GRANTS)}
      insert into role_grants (subject_kind, subject_id, role, scope_kind, scope_id, created_by, created_at)
      select 'user', 'usr-' || (i % ${sql.lit(USERS)}), 'viewer', 'app', 'app-' || (i / ${sql.lit(USERS)}),
        'admin', '2026-01-01T00:00:00.000Z' from n`.execute(store.db);
    await sql`${n(TOKENS)}
      insert into tokens (id, user_id, name, token_hash, prefix, created_at)
      select 'tok-' || i, 'usr-' || (i % ${sql.lit(USERS)}), 'session', 'hash-' || i, 'pave_',
        '2026-01-01T00:00:00.000Z' from n`.execute(store.db);
    // The app whose grants are listed (a filter naming an app that is not there answers 404).
    await store.db
      .insertInto('apps')
      .values({ id: 'app-7', name: 'app-7', created_by: 'admin', created_at: '2026-01-01T00:00:00.000Z' })
      .execute();
    if (engine === 'postgres') await sql`analyze`.execute(store.db);
  }, 120_000);
  afterAll(async () => {
    await cleanup?.();
  });

  const expectIndexed = (plan: string[], table: string, index: string) => {
    const steps = plan.filter((step) => new RegExp(`\\b${table}\\b`).test(step));
    expect(steps, plan.join('\n')).toHaveLength(1);
    if (engine === 'postgres') {
      expect(steps[0], plan.join('\n')).toMatch(new RegExp(`^Index (Only )?Scan ${table} ${index} `));
      expect(plan.join('\n')).not.toMatch(/^Sort/m);
    } else {
      expect(steps[0], plan.join('\n')).toMatch(
        new RegExp(`^SEARCH ${table} USING (COVERING )?INDEX ${index}\\b`),
      );
      expect(plan.join('\n')).not.toMatch(/TEMP B-TREE/);
    }
  };

  it("reads a page of one app's grants through role_grants_scope", async () => {
    const { result, plan } = await withPlanOfLastQuery(store, (db) =>
      listRoles(db, admin, { app: 'app-7', limit: 10, cursor: '142' }),
    );
    expect(result.items).toHaveLength(10);
    expect(result.items.every((grant) => grant.scope.id === 'app-7')).toBe(true);
    expectIndexed(plan, 'role_grants', 'role_grants_scope');
  });

  it("reads a page of a user's tokens, newest first, through tokens_user_created", async () => {
    const first = await listTokens(store.db, admin, { limit: 10 });
    const { result, plan } = await withPlanOfLastQuery(store, (db) =>
      listTokens(db, admin, { limit: 10, cursor: first.nextCursor! }),
    );
    expect(result.items).toHaveLength(10);
    expectIndexed(plan, 'tokens', 'tokens_user_created');
  });
});
