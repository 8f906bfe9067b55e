import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Identities: local users with scrypt-hashed passwords, service accounts (token-only users), teams and
 * their members, and recent failed logins (for rate limiting across replicas).
 */
export const identities: StoreMigration = {
  name: '0005_identities',
  async up(_db: Kysely<unknown>) {
    // Filled in with the identities work (see packages/server/src/domain/users.ts).
  },
};
