import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '@pave/core';
import { bootstrapAdmin, buildApi, migrations, openStore, type Store } from '../src/index.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, listAudit, verifyAuditChain } from '../src/domain/audit.ts';
import { loadAuditKey } from '../src/domain/audit-key.ts';
import { createApp, deleteApp } from '../src/domain/apps.ts';
import { systemContext } from '../src/domain/context.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import {
  createTestStoreLocation,
  openTestStore,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';

const PASSWORD = 'a long enough password';

describe.each(storeEngines)('the audit trail of an app id deleted and created again, on %s', (engine) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let app: FastifyInstance;
  let adminToken: string;
  const tokens: Record<string, string> = {};

  const call = (token: string, method: string, url: string, payload?: object) =>
    app.inject({
      method: method as 'GET',
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const trail = async (token: string, query: string) => {
    const response = await call(token, 'GET', `/audit?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { items: AuditEntry[] }).items;
  };

  beforeAll(async () => {
    const opened = await openTestStore(engine);
    store = opened.store;
    cleanup = opened.cleanup;
    const keyring = keyringSource(opened.location.dataDir, {});
    const box = new SecretBox(store.db, keyring);
    await loadAuditKey(store.db, box);
    adminToken = readFileSync((await bootstrapAdmin(store, opened.location.dataDir))!, 'utf8').trim();
    await box.init();
    app = await buildApi({ store, secrets: { box } });
    for (const username of ['olivia', 'nina']) {
      expect((await call(adminToken, 'POST', '/users', { username, password: PASSWORD })).statusCode).toBe(
        201,
      );
      expect((await call(adminToken, 'POST', '/roles', { role: 'member', user: username })).statusCode).toBe(
        201,
      );
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: PASSWORD },
      });
      tokens[username] = login.json().token;
    }
    // Roles are cached with a token for up to a second.
    await new Promise((resolve) => setTimeout(resolve, 1_050));

    // The first "shop": Olivia's, with a secret, then deleted by an admin.
    expect((await call(tokens.olivia!, 'POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // Olivia's new owner role
    expect(
      (
        await call(tokens.olivia!, 'PATCH', '/apps/shop/values', {
          set: { OLIVIAS_KEY: { value: 'olivias-secret', secret: true } },
        })
      ).statusCode,
    ).toBe(200);
    expect((await call(adminToken, 'DELETE', '/apps/shop')).statusCode).toBe(204);
    // The second "shop": Nina's.
    expect((await call(tokens.nina!, 'POST', '/apps', { id: 'shop' })).statusCode).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_050)); // Nina's new owner role
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it("shows the new owner only the new app's trail, not the earlier app's", async () => {
    const entries = await trail(tokens.nina!, 'app=shop');
    expect(entries.map((entry) => `${entry.actor} ${entry.action}`)).toEqual(['nina app.create']);
    expect(JSON.stringify(entries)).not.toContain('OLIVIAS_KEY');
    // Nor does an admin see it there, unless asking for every incarnation.
    expect((await trail(adminToken, 'app=shop')).map((entry) => entry.action)).toEqual(['app.create']);
  });

  it('shows those who may read the whole log every incarnation, told apart', async () => {
    const entries = await trail(adminToken, 'app=shop&incarnation=all');
    expect(entries.map((entry) => `${entry.actor} ${entry.action}`)).toEqual([
      'nina app.create',
      'admin app.delete',
      'olivia values.set',
      'olivia app.create',
    ]);
    const [current, ...earlier] = entries.map((entry) => entry.appIncarnation);
    expect(current).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(earlier)).toEqual(new Set([earlier[0]]));
    expect(earlier[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(earlier[0]).not.toBe(current);
    // The whole log, too.
    expect((await trail(adminToken, '')).filter((entry) => entry.appId === 'shop')).toHaveLength(4);
  });

  it("refuses the earlier incarnations to the app's owner", async () => {
    const response = await call(tokens.nina!, 'GET', '/audit?app=shop&incarnation=all');
    expect(response.statusCode).toBe(403);
    expect(response.json().errors[0].message).toContain('audit.read-all');
  });

  it('keeps incarnations in the keyed hash, so moving an entry to another shows', async () => {
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });
});

describe.each(storeEngines)('upgrading a store written before incarnations, on %s', (engine) => {
  let location: TestStoreLocation | undefined;
  afterEach(async () => {
    await location?.cleanup();
    location = undefined;
  });

  it('gives every app an incarnation and files earlier entries under it only when written after the app was created', async () => {
    location = await createTestStoreLocation(engine);
    const before = migrations.filter((migration) => migration.name < '0010');
    const old = await openStore({ url: location.url, dataDir: location.dataDir, migrations: before });
    await old.db
      .insertInto('apps')
      .values({ id: 'shop', name: 'shop', created_by: 'nina', created_at: '2024-02-01T00:00:00.000Z' })
      .execute();
    // Entries of an earlier "shop" (deleted before this one was created), of this one, and of no app.
    const written = [
      { at: '2024-01-01T00:00:00.000Z', actor: 'olivia', action: 'app.create', app_id: 'shop' },
      { at: '2024-01-15T00:00:00.000Z', actor: 'admin', action: 'app.delete', app_id: 'shop' },
      { at: '2024-02-01T00:00:00.000Z', actor: 'nina', action: 'app.create', app_id: 'shop' },
      { at: '2024-02-02T00:00:00.000Z', actor: 'admin', action: 'user.create', app_id: null },
    ];
    let previous = AUDIT_GENESIS_HASH;
    for (const [index, entry] of written.entries()) {
      const fields = { ...entry, target: 'apps/shop', request_id: `req-${index}`, summary: '{}' };
      const hash = auditEntryHash(previous, {
        seq: index + 1,
        at: fields.at,
        actor: fields.actor,
        action: fields.action,
        target: fields.target,
        appId: fields.app_id,
        requestId: fields.request_id,
        summary: fields.summary,
      });
      await old.db
        .insertInto('audit_entries')
        .values({ ...fields, seq: index + 1, prev_hash: previous, hash })
        .execute();
      previous = hash;
    }
    await old.db
      .updateTable('audit_chain')
      .set({ seq: written.length, last_hash: previous })
      .where('id', '=', 1)
      .execute();
    await old.close();

    const store = await openStore({ url: location.url, dataDir: location.dataDir });
    try {
      const shop = await store.db.selectFrom('apps').select('incarnation').executeTakeFirstOrThrow();
      expect(shop.incarnation).toMatch(/^[0-9a-f]{32}$/);
      const entries = await store.db
        .selectFrom('audit_entries')
        .select(['actor', 'app_incarnation'])
        .orderBy('seq')
        .execute();
      expect(entries).toEqual([
        { actor: 'olivia', app_incarnation: null },
        { actor: 'admin', app_incarnation: null },
        { actor: 'nina', app_incarnation: shop.incarnation },
        { actor: 'admin', app_incarnation: null },
      ]);
      expect((await listAudit(store.db, { app: 'shop' })).items.map((entry) => entry.actor)).toEqual([
        'nina',
      ]);
      // Hashes are untouched: the unkeyed entries verify as they were written.
      expect(await verifyAuditChain(store.db)).toMatchObject({ ok: true, entries: 4, keyedFrom: null });

      // Apps created from now on get a new incarnation each, from the database.
      const context = systemContext('nina', 'req-upgrade');
      await deleteApp(store, context, 'shop', { force: false });
      await createApp(store, context, { id: 'shop' });
      const again = await store.db.selectFrom('apps').select('incarnation').executeTakeFirstOrThrow();
      expect(again.incarnation).toMatch(/^[0-9a-f]{32}$/);
      expect(again.incarnation).not.toBe(shop.incarnation);
      expect((await listAudit(store.db, { app: 'shop' })).items.map((entry) => entry.action)).toEqual([
        'app.create',
      ]);
      expect(
        (await listAudit(store.db, { app: 'shop', incarnation: 'all' })).items.map(
          (entry) =>
            `${entry.action} ${entry.appIncarnation === null ? 'unknown' : entry.appIncarnation === shop.incarnation ? 'before' : 'now'}`,
        ),
      ).toEqual([
        'app.create now',
        'app.delete before', // written after the row was deleted: filed under the app it deleted
        'app.create before',
        'app.delete unknown',
        'app.create unknown',
      ]);
    } finally {
      await store.close();
    }
  });
});
