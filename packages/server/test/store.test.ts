import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations, openStore, type StoreMigration } from '../src/index.ts';
import { systemContext } from '../src/domain/context.ts';
import { recordEvent, type EventRecord } from '../src/domain/events.ts';
import {
  createTestStoreLocation,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';

describe.each(storeEngines)('store on %s', (engine) => {
  let location: TestStoreLocation | undefined;
  afterEach(async () => {
    await location?.cleanup();
    location = undefined;
  });

  it('migrates a new store and seeds the three environment types', async () => {
    location = await createTestStoreLocation(engine);
    const store = await openStore({ url: location.url, dataDir: location.dataDir });
    try {
      const types = await store.db.selectFrom('env_types').select('id').orderBy('id').execute();
      expect(types.map((t) => t.id)).toEqual(['development', 'production', 'staging']);
      expect(store.engine).toBe(engine);
    } finally {
      await store.close();
    }
  });

  it('keeps its data across a reopen and runs each migration once', async () => {
    location = await createTestStoreLocation(engine);
    const first = await openStore({ url: location.url, dataDir: location.dataDir });
    await first.db
      .insertInto('apps')
      .values({ id: 'shop', name: 'Shop', created_by: 'admin', created_at: new Date().toISOString() })
      .execute();
    await first.close();
    const second = await openStore({ url: location.url, dataDir: location.dataDir });
    try {
      expect(await second.db.selectFrom('apps').select('name').execute()).toEqual([{ name: 'Shop' }]);
      const applied = await sql<{ name: string }>`select name from kysely_migration`.execute(second.db);
      expect(applied.rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
      expect(await second.db.selectFrom('env_types').select('id').execute()).toHaveLength(3);
    } finally {
      await second.close();
    }
  });

  it('rolls back every write of a failed transaction', async () => {
    location = await createTestStoreLocation(engine);
    const store = await openStore({ url: location.url, dataDir: location.dataDir });
    try {
      await expect(
        store.transaction(async (tx) => {
          await tx
            .insertInto('apps')
            .values({ id: 'half', name: 'half', created_by: 'a', created_at: 'now' })
            .execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.db.selectFrom('apps').selectAll().execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('tells its listeners about a commit that added events once it has committed, and about nothing else', async () => {
    location = await createTestStoreLocation(engine);
    const store = await openStore({ url: location.url, dataDir: location.dataDir });
    const event: EventRecord<'values.changed'> = {
      type: 'values.changed',
      app: null,
      data: { scope: 'app', version: null, set: ['KEY'], unset: [] },
    };
    const context = systemContext('tester', 'test');
    const count = () =>
      store.db
        .selectFrom('events')
        .select(sql<number>`count(*)`.as('n'))
        .executeTakeFirstOrThrow();
    try {
      // Each call reads how many events there are, with a query of its own: the commit must be visible to it.
      const reads: Promise<number>[] = [];
      const stop = store.onEventsCommitted(() => reads.push(count().then((row) => Number(row.n))));
      await store.transaction(async (tx) => {
        await recordEvent(tx, context, event);
        await recordEvent(tx, context, event);
        await tx
          .updateTable('event_cursor')
          .set({ last_id: sql`last_id` })
          .execute();
      });
      expect(await Promise.all(reads)).toEqual([2]);
      await recordEvent(store.db, context, event); // in a transaction of its own
      expect(await Promise.all(reads)).toEqual([2, 3]);
      await store.transaction(async (tx) => {
        await tx
          .updateTable('event_cursor')
          .set({ last_id: sql`last_id` })
          .execute(); // no event
      });
      await expect(
        store.transaction(async (tx) => {
          await recordEvent(tx, context, event);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(reads).toHaveLength(2);
      // Outside a transaction (Pave's own code always opens one), the insert is its own commit.
      await store.db
        .insertInto('events')
        .values({
          id: 1000,
          type: 'values.changed',
          time: new Date().toISOString(),
          actor: 'tester',
          app_id: null,
          app_incarnation: null,
          env_id: null,
          data: '{}',
        })
        .execute();
      expect(await Promise.all(reads)).toEqual([2, 3, 4]);
      stop();
      await recordEvent(store.db, context, event);
      expect(reads).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  it('refuses to start on a store written by a newer Pave, naming the unknown change', async () => {
    location = await createTestStoreLocation(engine);
    const future: StoreMigration = {
      name: '9999_from_the_future',
      async up(db) {
        await db.schema.createTable('future_things').addColumn('id', 'text').execute();
      },
    };
    const newer = await openStore({
      url: location.url,
      dataDir: location.dataDir,
      migrations: [...migrations, future],
    });
    await newer.close();
    const error = await openStore({ url: location.url, dataDir: location.dataDir }).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error?.name).toBe('StoreVersionError');
    expect(error?.message).toMatch(/written by a newer Pave.*9999_from_the_future.*Upgrade Pave/);
  });
});

describe('store locations', () => {
  it('refuses an unsupported store URL, saying which URLs work', async () => {
    const error = await openStore({ url: 'mysql://root@localhost/pave', dataDir: '/tmp' }).catch(
      (e: Error) => e,
    );
    expect(error).toMatchObject({ name: 'InputError' });
    expect((error as unknown as { errors: unknown[] }).errors).toEqual([
      { path: '--store', message: expect.stringContaining('postgres://') },
    ]);
  });

  it('reports an unreachable PostgreSQL without revealing its password', async () => {
    const error = await openStore({ url: 'postgres://pave:hunter2@127.0.0.1:1/pave', dataDir: '/tmp' }).catch(
      (e: Error) => e,
    );
    expect(error).toMatchObject({ name: 'ServiceUnavailableError' });
    expect((error as Error).message).toMatch(
      /cannot reach the store at postgres:\/\/pave:\*\*\*@127\.0\.0\.1:1\/pave/,
    );
    expect((error as Error).message).not.toContain('hunter2');
  });
});
