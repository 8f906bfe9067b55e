import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ServiceUnavailableError } from '@pave/core';
import type { Database, Executor } from '../store/index.ts';
import type { SecretBox } from '../secrets/secret-box.ts';

/** The SecretBox scope of the audit key: its data_keys row, wrapped by the master key. */
export const AUDIT_KEY_SCOPE = 'pave:audit-chain';

/**
 * What binds the audit key to the position the keyed chain starts at, and names the key: hex HMAC-SHA-256
 * under the key of `pave audit chain keyed from <keyedFrom>`. Stored as audit_chain.key_check; nobody without
 * the key can make one for another position, so moving the start of the keyed part (to pass keyed entries
 * off as unkeyed ones) shows. Frozen like the entry hashes.
 */
export function auditKeyCheck(key: Buffer, keyedFrom: number): string {
  return createHmac('sha256', key).update(`pave audit chain keyed from ${keyedFrom}`).digest('hex');
}

// The audit keys this process loaded, by key check, so that one process may hold the keys of several stores
// (tests; replicas in one process share the entry of theirs).
const loadedKeys = new Map<string, Buffer>();

/** How the chain of a store is keyed after loadAuditKey. */
export interface AuditKeyState {
  /** The first entry hashed with the key. */
  keyedFrom: number;
  /** True when this call keyed the chain (its first start with a keyring). */
  created: boolean;
}

const RESTORE =
  'the store was modified outside Pave; restore it from a backup, and check it with ' +
  '`pave audit verify --head SEQ:HASH` against a head published earlier';

/**
 * Loads the audit key of the store into this process (every server does it at start, before anything is
 * audited), so that new entries are hashed with it and the chain can be verified. On the first start with a
 * keyring it creates the key (wrapped by the master key, in data_keys) and keys the chain from the next
 * entry on, in one transaction with the chain's head locked, so concurrent replicas agree.
 *
 * Rejects with ServiceUnavailableError, refusing to start, when the store was changed outside Pave: the
 * chain is keyed but its key is gone or is not the one it was keyed with, or a key exists but the chain's
 * record of it was removed; and when this process's master key cannot open the audit key (its version is
 * missing, the key is another, or there is no key file: one is never created for a store that has data keys),
 * saying that every replica needs the same master key (see SecretBox).
 */
export async function loadAuditKey(db: Kysely<Database>, box: SecretBox): Promise<AuditKeyState> {
  return db.transaction().execute(async (tx) => {
    // An update that changes nothing locks the head on PostgreSQL until the transaction ends.
    const head = await tx
      .updateTable('audit_chain')
      .set((eb) => ({ seq: eb.ref('seq') }))
      .where('id', '=', 1)
      .returning(['seq', 'keyed_from', 'key_check'])
      .executeTakeFirst();
    if (!head) {
      throw new ServiceUnavailableError(
        `cannot load the audit key: the head of the audit hash chain (table audit_chain) is missing; ${RESTORE}`,
      );
    }
    const stored = await storedAuditKey(tx);
    if (head.keyed_from === null || head.key_check === null) {
      if (stored) {
        throw new ServiceUnavailableError(
          `the store holds an audit key (data_keys id ${stored.id}, scope ${AUDIT_KEY_SCOPE}) but the audit ` +
            'chain has no record of being keyed with it (audit_chain.keyed_from and key_check are empty): ' +
            `the record was removed, e.g. to pass rewritten entries off as unkeyed ones; ${RESTORE}`,
        );
      }
      const key = await box.macKey(AUDIT_KEY_SCOPE, tx);
      const keyedFrom = Number(head.seq) + 1;
      const check = auditKeyCheck(key, keyedFrom);
      await tx
        .updateTable('audit_chain')
        .set({ keyed_from: keyedFrom, key_check: check })
        .where('id', '=', 1)
        .execute();
      remember(check, key);
      return { keyedFrom, created: true };
    }
    const keyedFrom = Number(head.keyed_from);
    if (!stored) {
      throw new ServiceUnavailableError(
        `the audit chain is keyed from entry #${keyedFrom}, but its key (data_keys scope ${AUDIT_KEY_SCOPE}) ` +
          `is missing: it was deleted; ${RESTORE}`,
      );
    }
    const key = await box.macKey(AUDIT_KEY_SCOPE, tx);
    if (auditKeyCheck(key, keyedFrom) !== head.key_check) {
      throw new ServiceUnavailableError(
        `the audit key (data_keys id ${stored.id}) does not match the chain's record of it ` +
          `(audit_chain.key_check, keyed from entry #${keyedFrom}): the key was replaced or the record ` +
          `was changed; ${RESTORE}`,
      );
    }
    remember(head.key_check, key);
    return { keyedFrom, created: false };
  });
}

function remember(check: string, key: Buffer): void {
  loadedKeys.set(check, key);
}

/** The stored audit key's row, if the store has one. */
export async function storedAuditKey(db: Executor): Promise<{ id: number } | undefined> {
  const row = await db
    .selectFrom('data_keys')
    .select('id')
    .where('scope', '=', AUDIT_KEY_SCOPE)
    .executeTakeFirst();
  return row ? { id: Number(row.id) } : undefined;
}

/** The loaded audit key named by a chain's key check; undefined when this process did not load it. */
export function loadedAuditKey(check: string): Buffer | undefined {
  return loadedKeys.get(check);
}
