import { randomUUID } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYSTEM_ACTORS } from '@pave/core';
import { isUniqueViolation, type Store } from '../store/index.ts';
import { recordAudit } from './audit.ts';
import { now, systemContext } from './context.ts';
import { insertToken } from './tokens.ts';

/** The file, under the data directory, that receives the first admin token. */
export const ADMIN_TOKEN_FILE = 'admin.token';

/**
 * On a store with no users, creates the `admin` user (an org admin) and an admin token, and writes the token to
 * `<dataDir>/admin.token` with mode 0600. Returns the file's path when it did so, null when the store
 * already had users (another replica may have bootstrapped it).
 */
export async function bootstrapAdmin(store: Store, dataDir: string): Promise<string | null> {
  const existing = await store.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (existing) return null;
  const user = { id: `usr_${randomUUID().replaceAll('-', '').slice(0, 16)}`, username: 'admin' };
  let token: string;
  try {
    token = await store.transaction(async (tx) => {
      await tx
        .insertInto('users')
        .values({ id: user.id, username: user.username, created_at: now() })
        .execute();
      await tx
        .insertInto('role_grants')
        .values({
          subject_kind: 'user',
          subject_id: user.id,
          role: 'admin',
          scope_kind: 'org',
          scope_id: '',
          created_by: SYSTEM_ACTORS.pave,
          created_at: now(),
        })
        .execute();
      const created = await insertToken(tx, user, 'admin (created at first start)', null);
      await recordAudit(tx, systemContext(SYSTEM_ACTORS.pave, 'bootstrap', user.id), {
        action: 'user.create',
        target: `users/${user.username}`,
        summary: { username: 'admin', tokenId: created.id },
      });
      return created.token;
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null; // another replica won the race
    throw error;
  }
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
