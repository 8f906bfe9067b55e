import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapAdmin, buildApi, migrations, openStore, type Store } from '../src/index.ts';
import { AUDIT_GENESIS_HASH, auditEntryHash, recordAudit, verifyAuditChain } from '../src/domain/audit.ts';
import { systemContext } from '../src/domain/context.ts';
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

describe.each(storeEngines)('audit hash chain on %s', (engine) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function freshStore(): Promise<Store> {
    const opened = await openTestStore(engine);
    cleanups.push(opened.cleanup);
    return opened.store;
  }

  it('verifies an empty log', async () => {
    const store = await freshStore();
    expect(await verifyAuditChain(store.db)).toEqual({ ok: true, entries: 0, firstProblem: null });
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
    expect(head).toEqual({ id: 1, seq: 13, last_hash: rows.at(-1)!.hash });
    expect(await verifyAuditChain(store.db)).toEqual({ ok: true, entries: 13, firstProblem: null });
  });

  it('hashes exactly what is stored, so anyone can recompute an entry from its row', async () => {
    const store = await freshStore();
    await record(store, 1);
    const row = await store.db.selectFrom('audit_entries').selectAll().executeTakeFirstOrThrow();
    expect(row.hash).toBe(
      auditEntryHash(AUDIT_GENESIS_HASH, {
        seq: 1,
        at: row.at,
        actor: 'alice',
        action: 'thing.create',
        target: 'things/0',
        appId: 'shop',
        requestId: 'req-test',
        summary: JSON.stringify({ index: 0, note: 'number 0' }),
      }),
    );
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
    const opened = await openTestStore(engine);
    cleanups.push(opened.cleanup);
    const { store, location } = opened;
    const replicas = [store];
    if (engine === 'postgres') {
      // A second replica: its own connection pool on the same database.
      const second = await openStore({ url: location.url, dataDir: location.dataDir });
      cleanups.push(() => second.close());
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
    expect(await verifyAuditChain(store.db)).toEqual({ ok: true, entries: writers, firstProblem: null });
  });

  describe('detects a store changed outside Pave', () => {
    async function storeWithEntries(count: number) {
      const store = await freshStore();
      await record(store, count);
      const rows = await chain(store);
      return { store, rows };
    }

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
        new RegExp(`entry #4 \\(id ${rows[3]!.id}, .+, thing\\.create\\) does not match its hash`),
      );
      expect(result.firstProblem?.message).toContain('modified outside Pave');
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

    it('a changed entry whose hash was recomputed by someone who knows the algorithm', async () => {
      const { store, rows } = await storeWithEntries(6);
      const target = await store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      const forged = { ...target, actor: 'mallory' };
      await store.db
        .updateTable('audit_entries')
        .set({
          actor: forged.actor,
          hash: auditEntryHash(target.prev_hash!, {
            seq: 3,
            at: forged.at,
            actor: forged.actor,
            action: forged.action,
            target: forged.target,
            appId: forged.app_id,
            requestId: forged.request_id,
            summary: forged.summary,
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
      const { store } = await storeWithEntries(3);
      const newest = await store.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      await store.db
        .updateTable('audit_entries')
        .set({
          action: 'thing.delete',
          hash: auditEntryHash(newest.prev_hash!, {
            seq: 3,
            at: newest.at,
            actor: newest.actor,
            action: 'thing.delete',
            target: newest.target,
            appId: newest.app_id,
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
  });

  describe('upgrading a store written before the chain', () => {
    let location: TestStoreLocation | undefined;
    afterEach(async () => {
      await location?.cleanup();
      location = undefined;
    });

    it('chains the existing entries in the order they were written, page by page', async () => {
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
        expect(await verifyAuditChain(store.db)).toEqual({ ok: true, entries: count, firstProblem: null });

        await record(store, 2, 'after');
        expect(await verifyAuditChain(store.db)).toEqual({
          ok: true,
          entries: count + 2,
          firstProblem: null,
        });
      } finally {
        await store.close();
      }
    });
  });

  describe('GET /api/v1/audit/verify', () => {
    it('tells an intact log from a tampered one, answering 200 both times', async () => {
      const opened = await openTestStore(engine);
      cleanups.push(opened.cleanup);
      const { store } = opened;
      const tokenFile = await bootstrapAdmin(store, opened.location.dataDir);
      const token = readFileSync(tokenFile!, 'utf8').trim();
      const app = await buildApi({ store });
      cleanups.push(() => app.close());
      const verify = () =>
        app.inject({
          method: 'GET',
          url: '/api/v1/audit/verify',
          headers: { authorization: `Bearer ${token}` },
        });

      await app.inject({
        method: 'POST',
        url: '/api/v1/apps',
        headers: { authorization: `Bearer ${token}` },
        payload: { id: 'shop' },
      });
      const intact = await verify();
      expect(intact.statusCode).toBe(200);
      expect(intact.json()).toEqual({ ok: true, entries: 2, firstProblem: null });

      await store.db
        .updateTable('audit_entries')
        .set({ actor: 'someone-else' })
        .where('action', '=', 'app.create')
        .execute();
      const broken = await verify();
      expect(broken.statusCode).toBe(200);
      expect(broken.json()).toMatchObject({
        ok: false,
        entries: 1,
        firstProblem: { seq: 2, problem: 'changed' },
      });
      expect(broken.json().firstProblem.message).toContain('app.create');

      const anonymous = await app.inject({ method: 'GET', url: '/api/v1/audit/verify' });
      expect(anonymous.statusCode).toBe(401);
    });
  });
});
