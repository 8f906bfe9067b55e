import { createHash } from 'node:crypto';
import { ServiceUnavailableError } from '@pave/core';
import type { AuditEntry, AuditPage, AuditQuery, AuditVerification } from '@pave/core';
import type { Executor } from '../store/index.ts';
import { now, type RequestContext } from './context.ts';
import { canonicalJson } from './deployments/sets.ts';

/** What a mutation records in the audit log. `summary` describes the change and never holds a secret. */
export interface AuditRecord {
  action: string;
  target: string;
  appId?: string | null;
  summary: Record<string, unknown>;
}

/** The previous hash of the first entry of the chain: 64 zeros. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** The fields of an audit entry its hash covers, as they are stored (`summary` is the stored JSON text). */
export interface ChainedAuditFields {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  appId: string | null;
  requestId: string;
  summary: string;
}

/**
 * The hash of an audit entry: hex SHA-256 of `prevHash`, a newline, and the canonical JSON (sorted keys) of
 * its fields. The one definition the writer, the 0006 backfill and the verifier share; anyone can recompute
 * it from the stored rows.
 */
export function auditEntryHash(prevHash: string, fields: ChainedAuditFields): string {
  const content = canonicalJson({
    seq: fields.seq,
    at: fields.at,
    actor: fields.actor,
    action: fields.action,
    target: fields.target,
    appId: fields.appId,
    requestId: fields.requestId,
    summary: fields.summary,
  });
  return createHash('sha256').update(`${prevHash}\n${content}`).digest('hex');
}

/**
 * Appends one entry to the audit log, extending its hash chain. Call it with the transaction that makes the
 * change, so the entry exists exactly when the change does; given the database itself, it opens a
 * transaction of its own.
 *
 * The head of the chain (audit_chain, one row) is taken with an UPDATE, which on PostgreSQL locks it until
 * the transaction ends: concurrent writers (on any replica) append one after the other and the chain never
 * forks. SQLite runs one transaction at a time anyway. Rejects with ServiceUnavailableError when the head row
 * is missing (the store was changed outside Pave).
 */
export async function recordAudit(db: Executor, context: RequestContext, record: AuditRecord): Promise<void> {
  if (!db.isTransaction) {
    await db.transaction().execute((tx) => appendEntry(tx, context, record));
    return;
  }
  await appendEntry(db, context, record);
}

async function appendEntry(tx: Executor, context: RequestContext, record: AuditRecord): Promise<void> {
  const head = await tx
    .updateTable('audit_chain')
    .set((eb) => ({ seq: eb('seq', '+', 1) }))
    .where('id', '=', 1)
    .returning(['seq', 'last_hash'])
    .executeTakeFirst();
  if (!head) {
    throw new ServiceUnavailableError(
      'cannot record the change in the audit log: the head of its hash chain (table audit_chain) is missing, ' +
        'so the store was modified outside Pave; restore the store from a backup and run `pave audit verify`',
    );
  }
  // Taken after the head, so that times follow the order of the chain across replicas.
  const fields: ChainedAuditFields = {
    seq: Number(head.seq),
    at: now(),
    actor: context.actor.username,
    action: record.action,
    target: record.target,
    appId: record.appId ?? null,
    requestId: context.requestId,
    summary: JSON.stringify(record.summary),
  };
  const hash = auditEntryHash(head.last_hash, fields);
  await tx
    .insertInto('audit_entries')
    .values({
      at: fields.at,
      actor: fields.actor,
      action: fields.action,
      target: fields.target,
      app_id: fields.appId,
      request_id: fields.requestId,
      summary: fields.summary,
      seq: fields.seq,
      prev_hash: head.last_hash,
      hash,
    })
    .execute();
  await tx.updateTable('audit_chain').set({ last_hash: hash }).where('id', '=', 1).execute();
}

/** How many entries the verifier reads at a time. */
const VERIFY_PAGE_SIZE = 1000;

type AuditProblem = NonNullable<AuditVerification['firstProblem']>;

interface ChainRow {
  id: number;
  seq: number;
  at: string;
  action: string;
  hash: string | null;
}

const OUTSIDE = 'the store was modified outside Pave';

/**
 * Walks the audit log's hash chain in order, a page at a time: every entry must match its hash, link to the
 * previous entry's hash, and follow it by exactly one position from 1; the newest must be the head of the
 * chain (audit_chain), so deleting it shows too; no entry may sit outside the chain. Entries appended while
 * it walks are left for the next run. `ok: false` with `firstProblem` says where the chain first breaks,
 * which means someone changed the store outside Pave. Rejects only when the store cannot be read.
 */
export async function verifyAuditChain(db: Executor): Promise<AuditVerification> {
  const broken = (entries: number, firstProblem: AuditProblem): AuditVerification => ({
    ok: false,
    entries,
    firstProblem,
  });
  const head = await readHead(db);
  let previous: ChainRow | undefined;
  let previousHash = AUDIT_GENESIS_HASH;
  let verified = 0;
  for (;;) {
    let page = db
      .selectFrom('audit_entries')
      .selectAll()
      .where('seq', '>', previous?.seq ?? 0)
      .orderBy('seq')
      .limit(VERIFY_PAGE_SIZE);
    // Without a head (itself a problem, reported below) every entry is walked.
    if (head) page = page.where('seq', '<=', head.seq);
    const rows = await page.execute();
    for (const row of rows) {
      const entry: ChainRow = {
        id: Number(row.id),
        seq: Number(row.seq),
        at: row.at,
        action: row.action,
        hash: row.hash,
      };
      const expectedSeq = (previous?.seq ?? 0) + 1;
      if (entry.seq > expectedSeq) {
        const gap = entry.seq - expectedSeq;
        return broken(verified, {
          seq: expectedSeq,
          id: null,
          problem: 'missing',
          message:
            `entry #${expectedSeq}${gap > 1 ? ` and the ${gap - 1} after it are` : ' is'} missing: the log ` +
            `${previous ? `goes from ${describeEntry(previous)}` : 'starts'} to ${describeEntry(entry)}; ` +
            `${OUTSIDE} (entries were deleted)`,
        });
      }
      if (entry.seq < expectedSeq) {
        return broken(verified, {
          seq: entry.seq,
          id: entry.id,
          problem: 'broken-link',
          message: `${describeEntry(entry)} takes the position of an earlier entry in the chain; ${OUTSIDE}`,
        });
      }
      const recomputed = auditEntryHash(row.prev_hash ?? '', {
        seq: entry.seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        appId: row.app_id,
        requestId: row.request_id,
        summary: row.summary,
      });
      if (row.hash !== recomputed) {
        return broken(verified, {
          seq: entry.seq,
          id: entry.id,
          problem: 'changed',
          message: `${describeEntry(entry)} does not match its hash: its content was changed; ${OUTSIDE}`,
        });
      }
      if (row.prev_hash !== previousHash) {
        return broken(verified, {
          seq: entry.seq,
          id: entry.id,
          problem: 'broken-link',
          message:
            `${describeEntry(entry)} does not link to ` +
            `${previous ? `the entry before it, ${describeEntry(previous)}` : 'the start of the chain'}: ` +
            `its previous hash differs, so one of them was changed or replaced; ${OUTSIDE}`,
        });
      }
      previous = entry;
      previousHash = recomputed;
      verified += 1;
    }
    if (rows.length < VERIFY_PAGE_SIZE) break;
  }

  const headProblem = await checkHead(db, head, previous);
  if (headProblem) return broken(verified, headProblem);

  const outside = await db
    .selectFrom('audit_entries')
    .select(['id', 'at', 'action'])
    .where('seq', 'is', null)
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  if (outside) {
    return broken(verified, {
      seq: 0,
      id: Number(outside.id),
      problem: 'broken-link',
      message:
        `entry id ${outside.id} (${outside.at}, ${outside.action}) is not in the hash chain (it has no ` +
        `position): it was written without Pave's chain; ${OUTSIDE}`,
    });
  }
  return { ok: true, entries: verified, firstProblem: null };
}

async function readHead(db: Executor): Promise<{ seq: number; lastHash: string } | undefined> {
  const row = await db
    .selectFrom('audit_chain')
    .select(['seq', 'last_hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  return row ? { seq: Number(row.seq), lastHash: row.last_hash } : undefined;
}

// The walk covered the entries up to the head as it was read first; the newest of them must be the head, and
// no entry may lie beyond the head as it is now (entries appended meanwhile moved it on).
async function checkHead(
  db: Executor,
  head: { seq: number; lastHash: string } | undefined,
  last: ChainRow | undefined,
): Promise<AuditProblem | undefined> {
  const lastSeq = last?.seq ?? 0;
  const lastHash = last?.hash ?? AUDIT_GENESIS_HASH;
  if (!head) {
    return {
      seq: lastSeq,
      id: last?.id ?? null,
      problem: 'head-mismatch',
      message: `the head of the hash chain (table audit_chain) is missing; ${OUTSIDE}`,
    };
  }
  if (head.seq > lastSeq) {
    const count = head.seq - lastSeq;
    return {
      seq: lastSeq + 1,
      id: null,
      problem: 'head-mismatch',
      message:
        `the newest ${count === 1 ? `entry, #${head.seq}, is` : `${count} entries, #${lastSeq + 1} to #${head.seq}, are`} ` +
        `missing: the head of the chain says the log ends at #${head.seq}, but it ends at ` +
        `${last ? describeEntry(last) : 'nothing (no entries)'}; ${OUTSIDE} (entries were deleted)`,
    };
  }
  if (head.lastHash !== lastHash) {
    return {
      seq: lastSeq,
      id: last?.id ?? null,
      problem: 'head-mismatch',
      message:
        `${last ? `the newest entry, ${describeEntry(last)},` : 'the empty log'} does not match the hash the ` +
        `head of the chain holds: it was changed or replaced; ${OUTSIDE}`,
    };
  }
  const beyond = await db
    .selectFrom('audit_entries')
    .select(['id', 'seq', 'at', 'action'])
    .where('seq', '>', head.seq)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
  const current = beyond ? await readHead(db) : undefined;
  if (beyond && (!current || Number(beyond.seq) > current.seq)) {
    const entry = { id: Number(beyond.id), seq: Number(beyond.seq), at: beyond.at, action: beyond.action };
    return {
      seq: entry.seq,
      id: entry.id,
      problem: 'head-mismatch',
      message: `${describeEntry(entry)} lies beyond the head of the chain (#${current?.seq ?? head.seq}): it was added; ${OUTSIDE}`,
    };
  }
  return undefined;
}

function describeEntry(entry: { id: number; seq: number; at: string; action: string }): string {
  return `entry #${entry.seq} (id ${entry.id}, ${entry.at}, ${entry.action})`;
}

const DEFAULT_PAGE_SIZE = 50;

/** Lists audit entries newest first, optionally for one app, one page at a time (cursor = last id seen). */
export async function listAudit(db: Executor, query: AuditQuery): Promise<AuditPage> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let select = db
    .selectFrom('audit_entries')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (query.app) select = select.where('app_id', '=', query.app);
  if (query.cursor) select = select.where('id', '<', Number(query.cursor));
  const rows = await select.execute();
  const page = rows.slice(0, limit);
  const items: AuditEntry[] = page.map((row) => ({
    id: Number(row.id),
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    appId: row.app_id,
    requestId: row.request_id,
    summary: JSON.parse(row.summary) as Record<string, unknown>,
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
