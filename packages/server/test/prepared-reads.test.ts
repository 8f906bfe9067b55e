import pg from 'pg';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, getApp } from '../src/domain/apps.ts';
import { systemContext } from '../src/domain/context.ts';
import { createEnvironment } from '../src/domain/environments.ts';
import type { Store } from '../src/index.ts';
import { openTestStore, storeEngines } from '../../../test/support/stores.ts';

/*
 * The API's hottest read (an app with its environments) runs as a prepared query outside Kysely: on SQLite on a
 * read-only connection of its own, on PostgreSQL as a named statement. It must answer exactly what a query
 * through Kysely answers, and see committed writes only.
 */
describe.each(storeEngines)('prepared reads (%s)', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let url: string | undefined;
  const context = systemContext('admin', 'prepared-reads');

  beforeEach(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    url = opened.location.url;
    await createApp(store, context, { id: 'shop' });
    await createEnvironment(store, context, 'shop', { id: 'dev', type: 'development' });
  });
  afterEach(async () => {
    await cleanup?.();
  });

  it('answers what Kysely answers, and sees each committed write at once', async () => {
    const app = await getApp(store.db, 'shop');
    expect(app).toMatchObject({ id: 'shop', name: 'shop', createdBy: 'admin' });
    expect(app.environments).toEqual([{ id: 'dev', type: 'development' }]);
    // The same app read inside a transaction goes through Kysely on the main connection.
    expect(await store.transaction((tx) => getApp(tx, 'shop'))).toEqual(app);

    await createEnvironment(store, context, 'shop', { id: 'prod', type: 'production' });
    expect((await getApp(store.db, 'shop')).environments.map((env) => env.id)).toEqual(['dev', 'prod']);
    await expect(getApp(store.db, 'nope')).rejects.toThrow('app "nope" not found');
  });

  it('never sees the writes of a transaction that is still open, nor those it rolls back', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx
          .insertInto('environments')
          .values({
            app_id: 'shop',
            id: 'staging',
            type: 'development',
            created_by: 'admin',
            created_at: new Date().toISOString(),
          })
          .execute();
        // Read from outside the transaction while it is open (on SQLite this once waited for it to end).
        expect((await getApp(store.db, 'shop')).environments.map((env) => env.id)).toEqual(['dev']);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await getApp(store.db, 'shop')).environments.map((env) => env.id)).toEqual(['dev']);
  });

  it.runIf(engine === 'postgres')(
    'keeps answering when a newer replica changes the type of a column the named statement returns',
    async () => {
      for (let i = 0; i < 3; i++) await getApp(store.db, 'shop');
      // Another replica's migration, on another connection.
      const other = new pg.Client({ connectionString: url });
      await other.connect();
      try {
        await other.query('alter table apps alter column name type varchar(200)');
      } finally {
        await other.end();
      }
      // Without the fallback, every connection that prepared the statement now answers 0A000.
      for (let i = 0; i < 3; i++) expect((await getApp(store.db, 'shop')).name).toBe('shop');
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from apps`.execute(store.db);
      expect(rows[0]?.n).toBe(1);
    },
  );

  it.runIf(engine === 'postgres')(
    'keeps answering when the server forgets the named statement (DEALLOCATE ALL, a pooler in transaction mode)',
    async () => {
      for (let i = 0; i < 3; i++) await getApp(store.db, 'shop');
      // Queries one after another take the same idle pooled connection: the one that prepared the statement.
      await sql`deallocate all`.execute(store.db);
      // Without the fallback: 26000, prepared statement "pave_app_detail" does not exist.
      for (let i = 0; i < 3; i++) expect((await getApp(store.db, 'shop')).id).toBe('shop');
    },
  );
});
