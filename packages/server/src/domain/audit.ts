import { createHash, createHmac } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ServiceUnavailableError } from '@pave/core';
import type { AuditEntry, AuditHead, AuditPage, AuditQuery, AuditVerification } from '@pave/core';
import type { Executor } from '../store/index.ts';
import { appNotFound } from './apps.ts';
import { auditKeyCheck, loadedAuditKey, storedAuditKey } from './audit-key.ts';
import { now, type RequestContext } from './context.ts';

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
 * The unkeyed hash of an audit entry, for the entries written before the chain was keyed: hex SHA-256 of
 * `prevHash`, a newline, and the JSON of its fields with their keys sorted. Frozen: entries already stored
 * were chained with it (the 0006 migration keeps its own copy; test/audit-chain.test.ts pins both).
 * Anyone can recompute it, so it shows accidents, not someone who rewrites the store: see keyedAuditEntryHash.
 */
export function auditEntryHash(prevHash: string, fields: ChainedAuditFields): string {
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

/** The fields a keyed entry's hash covers: those of an unkeyed one and the incarnation of its app. */
export interface KeyedAuditFields extends ChainedAuditFields {
  appIncarnation: string | null;
}

/**
 * The keyed hash of an audit entry, for entries from the chain's `keyed_from` on: hex HMAC-SHA-256 under the
 * audit key (kept wrapped by the master key) of `prevHash`, a newline, and the JSON of its fields with their
 * keys sorted. Without the key nobody can recompute it, so deleting or changing an entry and re-chaining
 * the rest shows. Frozen, like auditEntryHash.
 */
export function keyedAuditEntryHash(key: Buffer, prevHash: string, fields: KeyedAuditFields): string {
  const content = JSON.stringify({
    action: fields.action,
    actor: fields.actor,
    appId: fields.appId,
    appIncarnation: fields.appIncarnation,
    at: fields.at,
    requestId: fields.requestId,
    seq: fields.seq,
    summary: fields.summary,
    target: fields.target,
  });
  return createHmac('sha256', key).update(`${prevHash}\n${content}`).digest('hex');
}

/**
 * Appends one entry to the audit log, extending its hash chain. Call it with the transaction that makes the
 * change, so the entry exists exactly when the change does; given the database itself, it opens a
 * transaction of its own. An entry about an app records the app's incarnation.
 *
 * The head of the chain (audit_chain, one row) is taken with an UPDATE, which on PostgreSQL locks it until
 * the transaction ends: concurrent writers (on any replica) append one after the other and the chain never
 * forks. SQLite runs one transaction at a time anyway. From the chain's `keyed_from` on, entries are hashed
 * with the audit key, which the server loads at start (loadAuditKey). Rejects with ServiceUnavailableError
 * when the head row is missing, or the chain is keyed with a key this process has not loaded, or a key
 * exists that the chain does not record (each time: the store was changed outside Pave).
 */
export async function recordAudit(db: Executor, context: RequestContext, record: AuditRecord): Promise<void> {
  if (!db.isTransaction) {
    await db.transaction().execute((tx) => appendEntry(tx, context, record));
    return;
  }
  await appendEntry(db, context, record);
}

async function appendEntry(tx: Executor, context: RequestContext, record: AuditRecord): Promise<void> {
  const appId = record.appId ?? null;
  const appIncarnation = appId === null ? null : await incarnationOf(tx, appId);
  const head = await tx
    .updateTable('audit_chain')
    .set((eb) => ({ seq: eb('seq', '+', 1) }))
    .where('id', '=', 1)
    .returning(['seq', 'last_hash', 'keyed_from', 'key_check'])
    .executeTakeFirst();
  if (!head) {
    throw new ServiceUnavailableError(
      'cannot record the change in the audit log: the head of its hash chain (table audit_chain) is missing, ' +
        'so the store was modified outside Pave; restore the store from a backup and run `pave audit verify`',
    );
  }
  // Taken after the head, so that times follow the order of the chain across replicas.
  const fields: KeyedAuditFields = {
    seq: Number(head.seq),
    at: now(),
    actor: context.actor.username,
    action: record.action,
    target: record.target,
    appId,
    appIncarnation,
    requestId: context.requestId,
    summary: JSON.stringify(record.summary),
  };
  const hash = await hashForAppend(tx, head, fields);
  await tx
    .insertInto('audit_entries')
    .values({
      at: fields.at,
      actor: fields.actor,
      action: fields.action,
      target: fields.target,
      app_id: fields.appId,
      app_incarnation: fields.appIncarnation,
      request_id: fields.requestId,
      summary: fields.summary,
      seq: fields.seq,
      prev_hash: head.last_hash,
      hash,
    })
    .execute();
  await tx.updateTable('audit_chain').set({ last_hash: hash }).where('id', '=', 1).execute();
}

interface ChainHead {
  seq: number | string;
  last_hash: string;
  keyed_from: number | string | null;
  key_check: string | null;
}

async function hashForAppend(tx: Executor, head: ChainHead, fields: KeyedAuditFields): Promise<string> {
  const keyedFrom = head.keyed_from === null ? null : Number(head.keyed_from);
  if (keyedFrom !== null && fields.seq >= keyedFrom) {
    const key = head.key_check === null ? undefined : loadedAuditKey(head.key_check);
    if (!key || auditKeyCheck(key, keyedFrom) !== head.key_check) {
      throw new ServiceUnavailableError(
        `cannot record the change in the audit log: its hash chain is keyed from entry #${keyedFrom} with a ` +
          'key this server has not loaded. A server loads it at start; if this one started normally, the ' +
          "chain's record of its key (audit_chain.key_check) was changed outside Pave: restore the store " +
          'from a backup and run `pave audit verify`',
      );
    }
    return keyedAuditEntryHash(key, head.last_hash, fields);
  }
  // Until a server with the keyring keyed the chain there is no audit key; once there is one, an unkeyed
  // chain means its record of the key was removed.
  const stored = await storedAuditKey(tx);
  if (stored) {
    throw new ServiceUnavailableError(
      'cannot record the change in the audit log: the store holds an audit key but the hash chain has no ' +
        'record of being keyed with it (audit_chain.keyed_from is empty), so the store was modified ' +
        'outside Pave; restore it from a backup and run `pave audit verify`',
    );
  }
  return auditEntryHash(head.last_hash, fields);
}

/**
 * The incarnation of the app an entry is about: that of the app as it exists, or, once it was deleted (the
 * entry recording the deletion is written after the row is gone), the one its trail was last recorded under.
 */
export async function incarnationOf(tx: Executor, appId: string): Promise<string | null> {
  const app = await tx.selectFrom('apps').select('incarnation').where('id', '=', appId).executeTakeFirst();
  if (app) return app.incarnation;
  const last = await tx
    .selectFrom('audit_entries')
    .select('app_incarnation')
    .where('app_id', '=', appId)
    .where('app_incarnation', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return last?.app_incarnation ?? null;
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

/** A head of the chain published earlier: the entry at `seq` must still have `hash`. */
export interface PublishedHead {
  seq: number;
  hash: string;
}

/** Reads `SEQ:HASH` (validated by the API schema) as a PublishedHead. */
export function parsePublishedHead(text: string): PublishedHead {
  const [seq, hash] = text.split(':');
  return { seq: Number(seq), hash: hash ?? '' };
}

const OUTSIDE = 'the store was modified outside Pave';

/**
 * Walks the audit log's hash chain in order, a page at a time: every entry must match its hash (unkeyed
 * before the chain's `keyed_from`, keyed with the audit key from it on), link to the previous entry's hash,
 * and follow it by exactly one position from 1; the newest must be the head of the chain (audit_chain), so
 * deleting it shows too; no entry may sit outside the chain; the chain's record of its key must match the
 * key this process loaded. With `publishedHead`, the entry at that position must still have the published
 * hash: that catches even a store rewritten as a whole, and newest entries cut off with the head rewound,
 * which no hash in the store can show. Entries appended while it walks are left for the next run.
 *
 * `ok: false` with `firstProblem` says where the chain first breaks, which means someone changed the store
 * outside Pave. Rejects only when the store cannot be read.
 */
export async function verifyAuditChain(
  db: Executor,
  options: { publishedHead?: PublishedHead } = {},
): Promise<AuditVerification> {
  const published = options.publishedHead;
  const head = await readHead(db);
  const keyedFrom = head?.keyedFrom ?? null;
  const broken = (entries: number, firstProblem: AuditProblem): AuditVerification => ({
    ok: false,
    entries,
    firstProblem,
    keyedFrom,
    publishedHead: published?.seq ?? null,
  });
  if (!head) {
    return broken(0, {
      seq: 0,
      id: null,
      problem: 'head-mismatch',
      message: `the head of the hash chain (table audit_chain) is missing; ${OUTSIDE}`,
    });
  }
  const keyed = await keyFor(db, head);
  if ('problem' in keyed) return broken(0, keyed.problem);
  const key = keyed.key;

  let previous: ChainRow | undefined;
  let previousHash = AUDIT_GENESIS_HASH;
  let verified = 0;
  if (published?.seq === 0 && published.hash !== AUDIT_GENESIS_HASH) {
    return broken(0, publishedHeadDiffers(published, undefined, AUDIT_GENESIS_HASH));
  }
  for (;;) {
    const rows = await db
      .selectFrom('audit_entries')
      .selectAll()
      .where('seq', '>', previous?.seq ?? 0)
      .where('seq', '<=', head.seq)
      .orderBy('seq')
      .limit(VERIFY_PAGE_SIZE)
      .execute();
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
      const fields: KeyedAuditFields = {
        seq: entry.seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        appId: row.app_id,
        appIncarnation: row.app_incarnation,
        requestId: row.request_id,
        summary: row.summary,
      };
      const isKeyed = key !== undefined && keyedFrom !== null && entry.seq >= keyedFrom;
      const recomputed = isKeyed
        ? keyedAuditEntryHash(key, row.prev_hash ?? '', fields)
        : auditEntryHash(row.prev_hash ?? '', fields);
      if (row.hash !== recomputed) {
        return broken(verified, {
          seq: entry.seq,
          id: entry.id,
          problem: 'changed',
          message: isKeyed
            ? `${describeEntry(entry)} does not match its keyed hash: its content was changed, or it was ` +
              `re-hashed by someone without the audit key (after deleting or changing entries); ${OUTSIDE}`
            : `${describeEntry(entry)} does not match its hash: its content was changed; ${OUTSIDE}`,
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
      if (published?.seq === entry.seq && published.hash !== recomputed) {
        return broken(verified, publishedHeadDiffers(published, entry, recomputed));
      }
      previous = entry;
      previousHash = recomputed;
      verified += 1;
    }
    if (rows.length < VERIFY_PAGE_SIZE) break;
    // On SQLite every query answers synchronously, so without this the walk would never let the event loop
    // run: the server would answer nothing else until the whole chain was checked (bench/scale.mjs measured
    // 13 s for 110 000 entries).
    await yieldToEventLoop();
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
  const lastSeq = previous?.seq ?? 0;
  if (published && published.seq > lastSeq) {
    return broken(verified, {
      seq: lastSeq + 1,
      id: null,
      problem: 'published-head',
      message:
        `the log ends at ${previous ? describeEntry(previous) : 'nothing (no entries)'}, before the head ` +
        `published earlier, #${published.seq}: entries #${lastSeq + 1} to #${published.seq} were deleted ` +
        `and the head of the chain rewound; ${OUTSIDE}`,
    });
  }
  return {
    ok: true,
    entries: verified,
    firstProblem: null,
    keyedFrom,
    publishedHead: published?.seq ?? null,
  };
}

function publishedHeadDiffers(
  published: PublishedHead,
  entry: ChainRow | undefined,
  hash: string,
): AuditProblem {
  return {
    seq: published.seq,
    id: entry?.id ?? null,
    problem: 'published-head',
    message:
      `${entry ? describeEntry(entry) : 'the start of the chain'} has the hash ${hash}, but the head published ` +
      `earlier says ${published.hash}: the log up to #${published.seq} was rewritten (entries changed, deleted ` +
      `or added, and the chain recomputed); ${OUTSIDE}`,
  };
}

/**
 * The key to verify keyed entries with: the one this process loaded for the chain, if the chain's record
 * still matches it. A problem when the record was changed, or removed while a key exists.
 */
async function keyFor(
  db: Executor,
  head: ChainHeadRow,
): Promise<{ key: Buffer | undefined } | { problem: AuditProblem }> {
  if (head.keyedFrom === null || head.keyCheck === null) {
    const stored = await storedAuditKey(db);
    if (!stored) return { key: undefined };
    return {
      problem: {
        seq: 0,
        id: null,
        problem: 'key-mismatch',
        message:
          `the store holds an audit key (data_keys id ${stored.id}) but the hash chain has no record of ` +
          'being keyed with it (audit_chain.keyed_from is empty): the record was removed, e.g. to pass ' +
          `rewritten entries off as unkeyed ones; ${OUTSIDE}`,
      },
    };
  }
  const key = loadedAuditKey(head.keyCheck);
  if (!key || auditKeyCheck(key, head.keyedFrom) !== head.keyCheck) {
    return {
      problem: {
        seq: head.keyedFrom,
        id: null,
        problem: 'key-mismatch',
        message:
          `the hash chain says it is keyed from entry #${head.keyedFrom}, but its record of the key ` +
          '(audit_chain.keyed_from, key_check) does not match the audit key this server loaded at start: the ' +
          `record was changed; ${OUTSIDE}`,
      },
    };
  }
  return { key };
}

interface ChainHeadRow {
  seq: number;
  lastHash: string;
  keyedFrom: number | null;
  keyCheck: string | null;
}

async function readHead(db: Executor): Promise<ChainHeadRow | undefined> {
  const row = await db
    .selectFrom('audit_chain')
    .select(['seq', 'last_hash', 'keyed_from', 'key_check'])
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    seq: Number(row.seq),
    lastHash: row.last_hash,
    keyedFrom: row.keyed_from === null ? null : Number(row.keyed_from),
    keyCheck: row.key_check,
  };
}

/**
 * The head of the audit chain, to publish outside Pave (see verifyAuditChain's `publishedHead`). Rejects
 * with ServiceUnavailableError when the head row is missing (the store was changed outside Pave).
 */
export async function readAuditHead(db: Executor): Promise<AuditHead> {
  const head = await readHead(db);
  if (!head) {
    throw new ServiceUnavailableError(
      `the head of the audit hash chain (table audit_chain) is missing; ${OUTSIDE}: restore the store from a backup`,
    );
  }
  return {
    seq: head.seq,
    hash: head.lastHash,
    head: `${head.seq}:${head.lastHash}`,
    keyedFrom: head.keyedFrom,
  };
}

// The walk covered the entries up to the head as it was read first; the newest of them must be the head, and
// no entry may lie beyond the head as it is now (entries appended meanwhile moved it on).
async function checkHead(
  db: Executor,
  head: ChainHeadRow,
  last: ChainRow | undefined,
): Promise<AuditProblem | undefined> {
  const lastSeq = last?.seq ?? 0;
  const lastHash = last?.hash ?? AUDIT_GENESIS_HASH;
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

/**
 * Throws NotFoundError (appNotFound) unless the app `app` exists or audit entries about it are kept: the trail
 * of an app that was deleted stays readable by those who may read the whole log (`incarnation: 'all'`), while
 * naming an app that never existed answers 404, as every route naming an app does, not an empty page. (For a
 * caller who may not read the whole log, the permission check has already answered 404 for an app it cannot
 * see.)
 */
export async function requireAppWithEntries(db: Executor, app: string): Promise<void> {
  const exists = await db.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst();
  if (exists) return;
  const recorded = await db
    .selectFrom('audit_entries')
    .select('id')
    .where('app_id', '=', app)
    .limit(1)
    .executeTakeFirst();
  if (!recorded) throw appNotFound(app);
}

/**
 * Lists audit entries newest first, one page at a time (cursor = last id seen). With `app`, only that app's
 * entries, of its current incarnation unless `incarnation: 'all'` (an app id deleted and created again must
 * not show the earlier app's trail to the new one's owners): none when the app does not exist now.
 */
export async function listAudit(db: Executor, query: AuditQuery): Promise<AuditPage> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  let select = db
    .selectFrom('audit_entries')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit + 1);
  const app = query.app;
  if (app) {
    select = select.where('app_id', '=', app);
    if (query.incarnation !== 'all') {
      select = select.where((eb) =>
        eb(
          'app_incarnation',
          '=',
          eb.selectFrom('apps').select('apps.incarnation').where('apps.id', '=', app),
        ),
      );
    }
  }
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
    appIncarnation: row.app_incarnation,
    requestId: row.request_id,
    summary: JSON.parse(row.summary) as Record<string, unknown>,
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
