import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/** A tamper-evident audit log: every entry carries the hash of the one before. */
export const auditChain: StoreMigration = {
  name: '0006_audit_chain',
  async up(_db: Kysely<unknown>) {
    // Filled in with the audit chain work (see packages/server/src/domain/audit.ts).
  },
};
