import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrations, openStore, type StoreMigration } from '../src/index.ts';
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
