import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations, openStore } from '../src/index.ts';
import { createTestStoreLocation, storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/** A stored webhook row of `app` named `name`, created `minute` minutes into 2026. */
const webhook = (id: string, app: string | null, name: string, minute: number, retired = false) => ({
  id,
  name,
  url: 'https://hooks.example.com/',
  app_id: app,
  app_incarnation: null,
  events: null,
  secret: 'sealed',
  enabled: 1,
  disabled_reason: null,
  consecutive_failures: 0,
  last_event_id: 0,
  lease_owner: null,
  lease_until: null,
  retire_after_event_id: retired ? 1 : null,
  created_at: `2026-01-01T00:0${minute}:00.000Z`,
  created_by: 'seed',
});

describe.each(storeEngines)('webhook names on %s', (engine) => {
  let api: FullApi;

  beforeAll(async () => {
    api = await openFullApi(engine);
    const response = await api.call('POST', '/apps', { id: 'shop' });
    expect(response.statusCode, response.body).toBe(201);
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('creates one webhook of a name when several creations of it race; the others get a 409', async () => {
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        api.call('POST', '/webhooks', { name: 'ci', url: `https://hooks.example.com/${n}`, app: 'shop' }),
      ),
    );
    expect(responses.map((response) => response.statusCode).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const refused of responses.filter((response) => response.statusCode === 409)) {
      expect(refused.json()).toMatchObject({
        detail: 'a webhook named "ci" already exists for app shop',
        errors: [{ path: '/name', message: 'choose another name, or delete that webhook first' }],
      });
    }
    const listed = await api.call('GET', '/webhooks?app=shop');
    expect(listed.json().items.map((webhook: { name: string }) => webhook.name)).toEqual(['ci']);
  });

  // On PostgreSQL a creation checks for the name, then inserts: one that commits in between went unseen.
  it.runIf(engine === 'postgres')(
    'refuses a name another creation committed after this one looked for it',
    async () => {
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted: () => void = () => undefined;
      const insertedYet = new Promise<void>((resolve) => (inserted = resolve));
      // Another replica's creation of "deploys": inserted, not yet committed.
      const other = api.store.db.transaction().execute(async (tx) => {
        await tx
          .insertInto('webhooks')
          .values(webhook('wh_other', 'shop', 'deploys', 0))
          .execute();
        inserted();
        await held;
      });
      await insertedYet;
      const creation = api.call('POST', '/webhooks', {
        name: 'deploys',
        url: 'https://hooks.example.com/mine',
        app: 'shop',
      });
      // Let the creation look for the name (it sees nothing committed) before the other commits.
      await new Promise((resolve) => setTimeout(resolve, 300));
      release();
      await other;
      const response = await creation;
      expect(response.statusCode, response.body).toBe(409);
      const named = await api.store.db
        .selectFrom('webhooks')
        .select('id')
        .where('name', '=', 'deploys')
        .execute();
      expect(named).toEqual([{ id: 'wh_other' }]);
    },
  );

  it('renames the later twins a store already holds when it is migrated, keeping the oldest name', async () => {
    const location = await createTestStoreLocation(engine);
    const before = migrations.filter((migration) => migration.name < '0027');
    expect(migrations[before.length]?.name).toBe('0027_webhook_names');
    try {
      const old = await openStore({ url: location.url, dataDir: location.dataDir, migrations: before });
      await old.db
        .insertInto('apps')
        .values({ id: 'shop', name: 'shop', created_by: 'seed', created_at: '2026-01-01T00:00:00.000Z' })
        .execute();
      await old.db
        .insertInto('webhooks')
        .values([
          webhook('wh_c', 'shop', 'ci', 3),
          webhook('wh_a', 'shop', 'ci', 1),
          webhook('wh_b', 'shop', 'ci', 2),
          webhook('wh_taken', 'shop', 'ci-2', 4),
          webhook('wh_org', null, 'ci', 5),
          webhook('wh_retired', 'shop', 'ci', 0, true),
        ])
        .execute();
      await old.close();
      const migrated = await openStore({ url: location.url, dataDir: location.dataDir });
      try {
        const rows = await migrated.db.selectFrom('webhooks').select(['id', 'name']).orderBy('id').execute();
        expect(Object.fromEntries(rows.map((row) => [row.id, row.name]))).toEqual({
          wh_a: 'ci',
          wh_b: 'ci-3',
          wh_c: 'ci-4',
          wh_org: 'ci',
          wh_retired: 'ci',
          wh_taken: 'ci-2',
        });
      } finally {
        await migrated.close();
      }
    } finally {
      await location.cleanup();
    }
  });
});
