import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, migrations, openStore, type Store } from '../src/index.ts';
import {
  AUDIT_GENESIS_HASH,
  auditEntryHash,
  keyedAuditEntryHash,
  recordAudit,
  verifyAuditChain,
} from '../src/domain/audit.ts';
import { AUDIT_KEY_SCOPE, auditKeyCheck, loadAuditKey } from '../src/domain/audit-key.ts';
import { systemContext } from '../src/domain/context.ts';
import { keyringSource } from '../src/secrets/keyring.ts';
import { SecretBox } from '../src/secrets/secret-box.ts';
import { auditEntryHash as migrationAuditEntryHash } from '../src/store/migrations/0006_audit_chain.ts';
import {
  createTestStoreLocation,
  openTestStore,
  storeEngines,
  type TestStoreLocation,
} from '../../../test/support/stores.ts';

const context = systemContext('alice', 'req-test');

/** Records `count` entries one after the other, each in a transaction of its own (as API changes do). */
async function record(store: Store, count: number, prefix = 'thing'): Promise<void> {
  for (let index = 0; index < count; index++) {
    await store.transaction((tx) =>
      recordAudit(tx, context, {
        action: `${prefix}.create`,
        target: `${prefix}s/${index}`,
        appId: index % 2 === 0 ? 'shop' : null,
        summary: { index, note: `number ${index}` },
      }),
    );
  }
}

async function chain(store: Store) {
  const rows = await store.db
    .selectFrom('audit_entries')
    .select(['id', 'seq', 'prev_hash', 'hash'])
    .orderBy('seq')
    .execute();
  return rows.map((row) => ({ ...row, id: Number(row.id), seq: Number(row.seq) }));
}

function expectLinked(rows: Awaited<ReturnType<typeof chain>>): void {
  expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => index + 1));
  rows.forEach((row, index) => {
    expect(row.prev_hash).toBe(index === 0 ? AUDIT_GENESIS_HASH : rows[index - 1]!.hash);
  });
}

/**
 * What someone with write access to the store but not the master key does to hide an entry: delete it and
 * recompute the chain (positions, links, hashes, head) with the unkeyed formula, which anyone can compute.
 */
async function deleteAndRechainUnkeyed(store: Store, action: string): Promise<void> {
  await store.db.deleteFrom('audit_entries').where('action', '=', action).execute();
  const rows = await store.db.selectFrom('audit_entries').selectAll().orderBy('seq').execute();
  let previous = AUDIT_GENESIS_HASH;
  let seq = 0;
  for (const row of rows) {
    seq += 1;
    const hash = auditEntryHash(previous, {
      seq,
      at: row.at,
      actor: row.actor,
      action: row.action,
      target: row.target,
      appId: row.app_id,
      requestId: row.request_id,
      summary: row.summary,
    });
    // Positions move down one by one, so the unique index on seq never sees two at once.
    await store.db
      .updateTable('audit_entries')
      .set({ seq, prev_hash: previous, hash })
      .where('id', '=', row.id)
      .execute();
    previous = hash;
  }
  await store.db.updateTable('audit_chain').set({ seq, last_hash: previous }).where('id', '=', 1).execute();
}

describe('persisted hash formats are frozen', () => {
  // Fixed vectors, computed once (and checked against an independent HMAC/SHA-256 implementation). Stored
  // entries were hashed with these formulas: a change here breaks every existing audit log.
  const first = {
    seq: 1,
    at: '2024-01-01T00:00:00.000Z',
    actor: 'alice',
    action: 'app.create',
    target: 'apps/shop',
    appId: 'shop',
    requestId: 'req-1',
    summary: '{"id":"shop","name":"Shop"}',
  };
  const second = {
    seq: 2,
    at: '2024-01-01T00:00:01.000Z',
    actor: 'bob',
    action: 'value.reveal',
    target: 'apps/shop/values',
    appId: null,
    requestId: 'req-2',
    summary: '{}',
  };
  const firstHash = '520ef063381b7b05469fd88fe2bb59a8c69d2739fd1d7e0537f7d806b4e59928';
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');

  it('the unkeyed entry hash, in the server and in the 0006 migration that chained existing logs', () => {
    for (const hash of [auditEntryHash, migrationAuditEntryHash]) {
      expect(hash(AUDIT_GENESIS_HASH, first)).toBe(firstHash);
      expect(hash(firstHash, second)).toBe(
        'f54c2c845b86f746f3572ba7786277e595e9d6770f8f13995cb107c2490070e4',
      );
    }
  });

  it('the keyed entry hash, which also covers the app incarnation', () => {
    expect(keyedAuditEntryHash(key, firstHash, { ...second, appIncarnation: null })).toBe(
      '6c1f63cc1a668170f2ec16b21ef92bf17fd11abf2a68aca74cc6852e24410a0b',
    );
    expect(
      keyedAuditEntryHash(key, firstHash, {
        ...first,
        seq: 2,
        appIncarnation: '0123456789abcdef0123456789abcdef',
      }),
    ).toBe('c7793065190d9da02764bc178ae3e9a4843dff239f9ca8dfd82e39686c1b89aa');
  });

  it('the key check that pins where the keyed part starts', () => {
    expect(auditKeyCheck(key, 3)).toBe('58a5d90977989d12f5b8ef7e1ed1a824eb1c972c156d744d56a0c085dc1ab3d7');
  });

  it('no migration imports live server code, whose change would alter what it writes', () => {
    const dir = new URL('../src/store/migrations/', import.meta.url);
    for (const file of readdirSync(dir).filter((name) => /^\d{4}_.*\.ts$/.test(name))) {
      const imports = [...readFileSync(new URL(file, dir), 'utf8').matchAll(/from '([^']+)'/g)].map(
        (m) => m[1],
      );
      for (const source of imports) {
        expect(source, `${file} imports ${source}`).toMatch(/^(kysely|node:.+|\.\/index\.ts)$/);
      }
    }
  });
});

describe.each(storeEngines)('audit hash chain on %s', (engine) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A store as a server leaves it at start: its chain keyed with the audit key (from entry #1). */
  async function keyedStore() {
    const opened = await openTestStore(engine);
    cleanups.push(opened.cleanup);
    const keyring = keyringSource(opened.location.dataDir, {});
    const box = new SecretBox(opened.store.db, keyring);
    const state = await loadAuditKey(opened.store.db, box);
    return { ...opened, keyring, box, state, key: await box.macKey(AUDIT_KEY_SCOPE) };
  }
  async function freshStore(): Promise<Store> {
    return (await keyedStore()).store;
  }
  /** A SecretBox over the store's own key file, as a restarted server has. */
  const restartedBox = (store: Store, location: TestStoreLocation) =>
    new SecretBox(store.db, keyringSource(location.dataDir, {}));
  const intact = (entries: number, keyedFrom: number | null = 1) => ({
    ok: true,
    entries,
    firstProblem: null,
    keyedFrom,
    publishedHead: null,
  });

  it('verifies an empty log', async () => {
    const store = await freshStore();
    expect(await verifyAuditChain(store.db)).toEqual(intact(0));
  });

  it('links every entry to the one before, in or outside a transaction, and verifies the whole log', async () => {
    const store = await freshStore();
    await record(store, 12);
    // Given the database itself, recordAudit opens a transaction of its own.
    await recordAudit(store.db, context, { action: 'value.reveal', target: 'apps/shop', summary: {} });

    const rows = await chain(store);
    expect(rows).toHaveLength(13);
    expectLinked(rows);
    const head = await store.db.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow();
    expect(head).toMatchObject({ id: 1, seq: 13, last_hash: rows.at(-1)!.hash, keyed_from: 1 });
    expect(await verifyAuditChain(store.db)).toEqual(intact(13));
  });

  it('hashes exactly what is stored, so whoever holds the audit key can recompute an entry from its row', async () => {
    const { store, key } = await keyedStore();
    await record(store, 1);
    const row = await store.db.selectFrom('audit_entries').selectAll().executeTakeFirstOrThrow();
    const fields = {
      seq: 1,
      at: row.at,
      actor: 'alice',
      action: 'thing.create',
      target: 'things/0',
      appId: 'shop',
      appIncarnation: null, // there is no app "shop" in this store
      requestId: 'req-test',
      summary: JSON.stringify({ index: 0, note: 'number 0' }),
    };
    expect(row.hash).toBe(keyedAuditEntryHash(key, AUDIT_GENESIS_HASH, fields));
    // …and nobody without it: the unkeyed formula gives another hash.
    expect(row.hash).not.toBe(auditEntryHash(AUDIT_GENESIS_HASH, fields));
  });

  it('leaves no trace of an entry whose transaction rolled back: the next one takes its place', async () => {
    const store = await freshStore();
    await record(store, 2);
    await expect(
      store.transaction(async (tx) => {
        await recordAudit(tx, context, { action: 'app.create', target: 'apps/half', summary: {} });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await record(store, 1, 'after');
    const rows = await chain(store);
    expect(rows).toHaveLength(3);
    expectLinked(rows);
    expect((await verifyAuditChain(store.db)).ok).toBe(true);
  });

  it('never forks when many transactions, on two replicas, append at once', async () => {
    const { store, location, keyring } = await keyedStore();
    const replicas = [store];
    if (engine === 'postgres') {
      // A second replica: its own connection pool on the same database, loading the same audit key.
      const second = await openStore({ url: location.url, dataDir: location.dataDir });
      cleanups.push(() => second.close());
      expect(await loadAuditKey(second.db, new SecretBox(second.db, keyring))).toEqual({
        keyedFrom: 1,
        created: false,
      });
      replicas.push(second);
    }
    const writers = 30;
    await Promise.all(
      Array.from({ length: writers }, (_, index) =>
        replicas[index % replicas.length]!.transaction(async (tx) => {
          await recordAudit(tx, context, {
            action: 'app.create',
            target: `apps/app-${index}`,
            summary: { index },
          });
        }),
      ),
    );

    const rows = await chain(store);
    expect(rows).toHaveLength(writers);
    expectLinked(rows);
    expect(new Set(rows.map((row) => row.prev_hash)).size).toBe(writers);
    expect(await verifyAuditChain(store.db)).toEqual(intact(writers));
  });

  it('keeps working after the master key is rotated and the old one retired', async () => {
    const { store, keyring, box, location } = await keyedStore();
    await record(store, 3);
    keyring.addKey();
    expect(await box.rewrapAll()).toBeGreaterThanOrEqual(1); // the audit key among them
    keyring.retireOldKeys();
    // As after a restart: a fresh keyring and box, holding only the new master key.
    const restarted = keyringSource(location.dataDir, {});
    expect([...restarted.load().keys.keys()]).toEqual([2]);
    expect(await loadAuditKey(store.db, new SecretBox(store.db, restarted))).toEqual({
      keyedFrom: 1,
      created: false,
    });
    await record(store, 2, 'after');
    expect(await verifyAuditChain(store.db)).toEqual(intact(5));
  });

  describe('detects a store changed outside Pave', () => {
    async function storeWithEntries(count: number) {
      const keyed = await keyedStore();
      await record(keyed.store, count);
      const rows = await chain(keyed.store);
      return { ...keyed, rows };
    }

    it('an entry deleted and the chain recomputed with the unkeyed formula (issue #12, finding 8)', async () => {
      const { store, rows } = await storeWithEntries(3);
      await recordAudit(store.db, context, { action: 'value.reveal', target: 'apps/shop', summary: {} });
      await record(store, 2, 'later');
      await deleteAndRechainUnkeyed(store, 'value.reveal');

      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({
        ok: false,
        entries: 0,
        firstProblem: { seq: 1, id: rows[0]!.id, problem: 'changed' },
      });
      expect(result.firstProblem?.message).toContain('does not match its keyed hash');
      expect(result.firstProblem?.message).toContain('without the audit key');
    });

    it('an entry whose content was changed', async () => {
      const { store, rows } = await storeWithEntries(6);
      await store.db
        .updateTable('audit_entries')
        .set({ summary: JSON.stringify({ index: 3, note: 'nothing to see' }) })
        .where('seq', '=', 4)
        .execute();
      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({
        ok: false,
        entries: 3,
        firstProblem: { seq: 4, id: rows[3]!.id, problem: 'changed' },
      });
      expect(result.firstProblem?.message).toMatch(
        new RegExp(`entry #4 \\(id ${rows[3]!.id}, .+, thing\\.create\\) does not match its keyed hash`),
      );
      expect(result.firstProblem?.message).toContain('modified outside Pave');
    });

    it('an entry moved to another incarnation of its app', async () => {
      const { store } = await storeWithEntries(3);
      await store.db
        .updateTable('audit_entries')
        .set({ app_incarnation: 'f'.repeat(32) })
        .where('seq', '=', 1)
        .execute();
      expect((await verifyAuditChain(store.db)).firstProblem).toMatchObject({ seq: 1, problem: 'changed' });
    });

    it('a deleted entry in the middle', async () => {
      const { store, rows } = await storeWithEntries(6);
      await store.db.deleteFrom('audit_entries').where('seq', '=', 3).execute();
      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({
        ok: false,
        entries: 2,
        firstProblem: { seq: 3, id: null, problem: 'missing' },
      });
      expect(result.firstProblem?.message).toContain('entry #3 is missing');
      expect(result.firstProblem?.message).toContain(`entry #4 (id ${rows[3]!.id}`);
    });

    it('a deleted first entry', async () => {
      const { store } = await storeWithEntries(3);
      await store.db.deleteFrom('audit_entries').where('seq', '=', 1).execute();
      expect((await verifyAuditChain(store.db)).firstProblem).toMatchObject({
        seq: 1,
        id: null,
        problem: 'missing',
      });
    });

    it('a deleted newest entry', async () => {
      const { store } = await storeWithEntries(6);
      await store.db.deleteFrom('audit_entries').where('seq', '=', 6).execute();
      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({
        ok: false,
        entries: 5,
        firstProblem: { seq: 6, id: null, problem: 'head-mismatch' },
      });
      expect(result.firstProblem?.message).toContain('the newest entry, #6, is missing');
    });

    it('a changed entry re-hashed without the key', async () => {
      const { store, rows } = await storeWithEntries(6);
      const target = await store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      await store.db
        .updateTable('audit_entries')
        .set({
          actor: 'mallory',
          hash: auditEntryHash(target.prev_hash!, {
            seq: 3,
            at: target.at,
            actor: 'mallory',
            action: target.action,
            target: target.target,
            appId: target.app_id,
            requestId: target.request_id,
            summary: target.summary,
          }),
        })
        .where('seq', '=', 3)
        .execute();
      expect(await verifyAuditChain(store.db)).toMatchObject({
        ok: false,
        entries: 2,
        firstProblem: { seq: 3, id: rows[2]!.id, problem: 'changed' },
      });
    });

    it('a changed entry re-hashed by someone holding the key still breaks the link to the next one', async () => {
      const { store, rows, key } = await storeWithEntries(6);
      const target = await store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      await store.db
        .updateTable('audit_entries')
        .set({
          actor: 'mallory',
          hash: keyedAuditEntryHash(key, target.prev_hash!, {
            seq: 3,
            at: target.at,
            actor: 'mallory',
            action: target.action,
            target: target.target,
            appId: target.app_id,
            appIncarnation: target.app_incarnation,
            requestId: target.request_id,
            summary: target.summary,
          }),
        })
        .where('seq', '=', 3)
        .execute();
      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({
        ok: false,
        entries: 3,
        firstProblem: { seq: 4, id: rows[3]!.id, problem: 'broken-link' },
      });
      expect(result.firstProblem?.message).toContain(`the entry before it, entry #3 (id ${rows[2]!.id}`);
    });

    it('the newest entry changed with its hash recomputed', async () => {
      const { store, key } = await storeWithEntries(3);
      const newest = await store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      await store.db
        .updateTable('audit_entries')
        .set({
          action: 'thing.delete',
          hash: keyedAuditEntryHash(key, newest.prev_hash!, {
            seq: 3,
            at: newest.at,
            actor: newest.actor,
            action: 'thing.delete',
            target: newest.target,
            appId: newest.app_id,
            appIncarnation: newest.app_incarnation,
            requestId: newest.request_id,
            summary: newest.summary,
          }),
        })
        .where('seq', '=', 3)
        .execute();
      expect((await verifyAuditChain(store.db)).firstProblem).toMatchObject({
        seq: 3,
        problem: 'head-mismatch',
      });
    });

    it('an entry added without a place in the chain', async () => {
      const { store } = await storeWithEntries(2);
      const inserted = await store.db
        .insertInto('audit_entries')
        .values({
          at: new Date().toISOString(),
          actor: 'mallory',
          action: 'app.create',
          target: 'apps/fake',
          app_id: null,
          request_id: 'forged',
          summary: '{}',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(await verifyAuditChain(store.db)).toMatchObject({
        ok: false,
        entries: 2,
        firstProblem: { seq: 0, id: Number(inserted.id), problem: 'broken-link' },
      });
    });

    it('a missing chain head', async () => {
      const { store } = await storeWithEntries(2);
      await store.db.deleteFrom('audit_chain').execute();
      expect((await verifyAuditChain(store.db)).firstProblem).toMatchObject({ problem: 'head-mismatch' });
      // Nothing more is recorded on a chain without a head.
      await expect(record(store, 1)).rejects.toThrow(/head of its hash chain .* is missing/);
    });

    it('the start of the keyed part moved past the keyed entries, which were re-hashed unkeyed', async () => {
      const { store, location } = await storeWithEntries(4);
      await deleteAndRechainUnkeyed(store, 'nothing.matches');
      await store.db.updateTable('audit_chain').set({ keyed_from: 5 }).where('id', '=', 1).execute();
      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({ ok: false, firstProblem: { seq: 5, problem: 'key-mismatch' } });
      expect(result.firstProblem?.message).toContain('does not match the audit key this server loaded');
      // A restarted server refuses to start on it.
      const box = restartedBox(store, location);
      await expect(loadAuditKey(store.db, box)).rejects.toThrow(/does not match the chain's record of it/);
      await expect(record(store, 1)).rejects.toThrow(/key this server has not loaded/);
    });

    it("the chain's record of its key removed, to pass re-hashed entries off as unkeyed ones", async () => {
      const { store, location } = await storeWithEntries(3);
      await deleteAndRechainUnkeyed(store, 'nothing.matches');
      await store.db
        .updateTable('audit_chain')
        .set({ keyed_from: null, key_check: null })
        .where('id', '=', 1)
        .execute();
      const result = await verifyAuditChain(store.db);
      expect(result).toMatchObject({ ok: false, entries: 0, firstProblem: { problem: 'key-mismatch' } });
      expect(result.firstProblem?.message).toContain('has no record of being keyed with it');
      await expect(record(store, 1)).rejects.toThrow(/no record of being keyed with it/);
      const box = restartedBox(store, location);
      await expect(loadAuditKey(store.db, box)).rejects.toThrow(/no record of being keyed with it/);
    });

    it('the audit key deleted: the server refuses to start rather than key the chain anew', async () => {
      const { store, location } = await storeWithEntries(2);
      await store.db.deleteFrom('data_keys').where('scope', '=', AUDIT_KEY_SCOPE).execute();
      const box = restartedBox(store, location);
      await expect(loadAuditKey(store.db, box)).rejects.toThrow(
        /keyed from entry #1, but its key \(data_keys scope pave:audit-chain\) is missing/,
      );
      expect(await store.db.selectFrom('data_keys').selectAll().execute()).toEqual([]);
    });

    it('the whole store rewound to before it was keyed: only a published head shows it', async () => {
      const { store } = await storeWithEntries(3);
      await recordAudit(store.db, context, { action: 'value.reveal', target: 'apps/shop', summary: {} });
      const published = await store.db.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow();
      await record(store, 1, 'later');
      // Everything an attacker with write access can do: the key, the record of it, every hash.
      await store.db.deleteFrom('data_keys').where('scope', '=', AUDIT_KEY_SCOPE).execute();
      await store.db
        .updateTable('audit_chain')
        .set({ keyed_from: null, key_check: null })
        .where('id', '=', 1)
        .execute();
      await deleteAndRechainUnkeyed(store, 'value.reveal');

      expect((await verifyAuditChain(store.db)).ok).toBe(true);
      const checked = await verifyAuditChain(store.db, {
        publishedHead: { seq: Number(published.seq), hash: published.last_hash },
      });
      expect(checked).toMatchObject({
        ok: false,
        entries: 3,
        firstProblem: { seq: 4, problem: 'published-head' },
        publishedHead: 4,
      });
      expect(checked.firstProblem?.message).toContain('the head published earlier says');
    });

    it('the newest entries cut off and the head rewound: only a published head shows it', async () => {
      const { store } = await storeWithEntries(3);
      const before = await store.db.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow();
      await recordAudit(store.db, context, { action: 'value.reveal', target: 'apps/shop', summary: {} });
      const published = await store.db.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow();
      await store.db.deleteFrom('audit_entries').where('action', '=', 'value.reveal').execute();
      await store.db
        .updateTable('audit_chain')
        .set({ seq: before.seq, last_hash: before.last_hash })
        .where('id', '=', 1)
        .execute();

      expect((await verifyAuditChain(store.db)).ok).toBe(true);
      const result = await verifyAuditChain(store.db, {
        publishedHead: { seq: Number(published.seq), hash: published.last_hash },
      });
      expect(result).toMatchObject({
        ok: false,
        entries: 3,
        firstProblem: { seq: 4, problem: 'published-head' },
      });
      expect(result.firstProblem?.message).toContain('before the head published earlier, #4');
    });
  });

  it("agrees with a published head that the log still contains, and with the empty log's", async () => {
    const store = await freshStore();
    expect(await verifyAuditChain(store.db, { publishedHead: { seq: 0, hash: AUDIT_GENESIS_HASH } })).toEqual(
      { ...intact(0), publishedHead: 0 },
    );
    await record(store, 3);
    const head = await store.db.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow();
    await record(store, 2, 'after');
    expect(
      await verifyAuditChain(store.db, { publishedHead: { seq: Number(head.seq), hash: head.last_hash } }),
    ).toEqual({ ...intact(5), publishedHead: 3 });
    expect(
      (await verifyAuditChain(store.db, { publishedHead: { seq: 3, hash: 'a'.repeat(64) } })).firstProblem,
    ).toMatchObject({ seq: 3, problem: 'published-head' });
  });

  describe('upgrading a store written before the chain', () => {
    let location: TestStoreLocation | undefined;
    afterEach(async () => {
      await location?.cleanup();
      location = undefined;
    });

    it('chains the existing entries in the order they were written, page by page, and keys the chain from the next one', async () => {
      location = await createTestStoreLocation(engine);
      const before = migrations.slice(
        0,
        migrations.findIndex((migration) => migration.name === '0006_audit_chain'),
      );
      const old = await openStore({ url: location.url, dataDir: location.dataDir, migrations: before });
      const count = 2345; // more than two pages of the backfill and of the verifier
      for (let start = 0; start < count; start += 500) {
        await old.db
          .insertInto('audit_entries')
          .values(
            Array.from({ length: Math.min(500, count - start) }, (_, offset) => ({
              at: new Date(Date.UTC(2024, 0, 1, 0, 0, start + offset)).toISOString(),
              actor: 'admin',
              action: 'app.create',
              target: `apps/app-${start + offset}`,
              app_id: (start + offset) % 3 === 0 ? null : `app-${start + offset}`,
              request_id: `req-${start + offset}`,
              summary: JSON.stringify({ id: `app-${start + offset}` }),
            })),
          )
          .execute();
      }
      await old.close();

      const store = await openStore({ url: location.url, dataDir: location.dataDir });
      try {
        const rows = await chain(store);
        expect(rows).toHaveLength(count);
        expectLinked(rows);
        // Chained in id order: the order the entries were written in.
        expect(rows.map((row) => row.id)).toEqual([...rows.map((row) => row.id)].sort((a, b) => a - b));
        // Not keyed until a server with the keyring starts.
        expect(await verifyAuditChain(store.db)).toEqual(intact(count, null));

        const box = new SecretBox(store.db, keyringSource(location.dataDir, {}));
        expect(await loadAuditKey(store.db, box)).toEqual({ keyedFrom: count + 1, created: true });
        await record(store, 2, 'after');
        expect(await verifyAuditChain(store.db)).toEqual(intact(count + 2, count + 1));

        // The unkeyed part is still verified with the unkeyed hash.
        await store.db.updateTable('audit_entries').set({ actor: 'mallory' }).where('seq', '=', 7).execute();
        expect((await verifyAuditChain(store.db)).firstProblem).toMatchObject({ seq: 7, problem: 'changed' });
      } finally {
        await store.close();
      }
    });
  });

  describe('GET /api/v1/audit/verify and /audit/head', () => {
    it('tell an intact log from a tampered one, answering 200 both times, and check a published head', async () => {
      const { store, location, box } = await keyedStore();
      const tokenFile = await bootstrapAdmin(store, location.dataDir);
      const token = readFileSync(tokenFile!, 'utf8').trim();
      const app = await buildApi({ store, secrets: { box } });
      cleanups.push(() => app.close());
      const get = (url: string) =>
        app.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });

      await app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: { authorization: `Bearer ${token}` },
        payload: { id: 'shop' },
      });
      const head = await get('/audit/head');
      expect(head.statusCode).toBe(200);
      const rows = await chain(store);
      expect(head.json()).toEqual({
        seq: 2,
        hash: rows[1]!.hash,
        head: `2:${rows[1]!.hash}`,
        keyedFrom: 1,
      });
      const intactLog = await get('/audit/verify');
      expect(intactLog.statusCode).toBe(200);
      expect(intactLog.json()).toEqual(intact(2));
      expect((await get(`/audit/verify?head=${head.json().head}`)).json()).toEqual({
        ...intact(2),
        publishedHead: 2,
      });
      const badHead = await get('/audit/verify?head=2:nothex');
      expect(badHead.statusCode).toBe(400);
      expect(badHead.json().errors[0]).toMatchObject({ path: 'query.head' });
      expect(badHead.json().errors[0].message).toContain('SEQ:HASH');

      await store.db
        .updateTable('audit_entries')
        .set({ actor: 'someone-else' })
        .where('action', '=', 'app.create')
        .execute();
      const broken = await get('/audit/verify');
      expect(broken.statusCode).toBe(200);
      expect(broken.json()).toMatchObject({
        ok: false,
        entries: 1,
        firstProblem: { seq: 2, problem: 'changed' },
      });
      expect(broken.json().firstProblem.message).toContain('app.create');

      for (const url of ['/api/v1/audit/verify', '/api/v1/audit/head']) {
        expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401);
      }
    });
  });
});
