import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/** The previous hash of the first entry of the chain: 64 zeros. */
const AUDIT_GENESIS_HASH = '0'.repeat(64);

/**
 * This migration's own copy of the unkeyed entry hash, frozen as the entries it chains were written: hex
 * SHA-256 of the previous hash, a newline, and the JSON of the fields with their keys sorted. It must never
 * change, whatever becomes of the server's hash (test/audit-chain.test.ts pins both with fixed vectors).
 */
export function auditEntryHash(
  prevHash: string,
  fields: {
    seq: number;
    at: string;
    actor: string;
    action: string;
    target: string;
    appId: string | null;
    requestId: string;
    summary: string;
  },
): string {
  const content = JSON.stringify({
    action: fields.action,
    actor: fields.actor,
    appId: fields.appId,
    at: fields.at,
    requestId: fields.requestId,
    seq: fields.seq,
    summary: fields.summary,
    target: fields.target,
  });
  return createHash('sha256').update(`${prevHash}\n${content}`).digest('hex');
}

/** How many existing entries the backfill reads at a time. */
const BACKFILL_PAGE_SIZE = 1000;

interface ChainTables {
  audit_entries: {
    id: number | string;
    at: string;
    actor: string;
    action: string;
    target: string;
    app_id: string | null;
    request_id: string;
    summary: string;
    seq: number | null;
    prev_hash: string | null;
    hash: string | null;
  };
  audit_chain: { id: number; seq: number; last_hash: string };
}

/**
 * A tamper-evident audit log: every entry carries its position (`seq`), the hash of the entry before it and
 * its own hash (see auditEntryHash), and the one-row table audit_chain holds the head of the chain. Existing
 * entries are chained in id order, the order they were written in.
 */
export const auditChain: StoreMigration = {
  name: '0006_audit_chain',
  async up(db: Kysely<unknown>, engine) {
    // PostgreSQL runs each migration in a transaction already; on SQLite one transaction makes the backfill
    // all-or-nothing, and fast.
    if (engine === 'sqlite') await db.transaction().execute((tx) => chainAuditLog(tx));
    else await chainAuditLog(db);
  },
};

async function chainAuditLog(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_entries').addColumn('seq', 'integer').execute();
  await db.schema.alterTable('audit_entries').addColumn('prev_hash', 'text').execute();
  await db.schema.alterTable('audit_entries').addColumn('hash', 'text').execute();
  await db.schema
    .createTable('audit_chain')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('last_hash', 'text', (c) => c.notNull())
    .execute();

  const typed = db as unknown as Kysely<ChainTables>;
  let seq = 0;
  let lastHash = AUDIT_GENESIS_HASH;
  let lastId: number | undefined;
  for (;;) {
    let page = typed.selectFrom('audit_entries').selectAll().orderBy('id').limit(BACKFILL_PAGE_SIZE);
    if (lastId !== undefined) page = page.where('id', '>', lastId);
    const rows = await page.execute();
    for (const row of rows) {
      seq += 1;
      const hash = auditEntryHash(lastHash, {
        seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        appId: row.app_id,
        requestId: row.request_id,
        summary: row.summary,
      });
      await typed
        .updateTable('audit_entries')
        .set({ seq, prev_hash: lastHash, hash })
        .where('id', '=', row.id)
        .execute();
      lastHash = hash;
      lastId = Number(row.id);
    }
    if (rows.length < BACKFILL_PAGE_SIZE) break;
  }
  await typed.insertInto('audit_chain').values({ id: 1, seq, last_hash: lastHash }).execute();
  // One entry per position: two writers can never both append the same one.
  await db.schema.createIndex('audit_entries_seq').on('audit_entries').column('seq').unique().execute();
}
