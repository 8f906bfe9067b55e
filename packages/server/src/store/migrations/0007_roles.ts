import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Roles: grants of a role to a user or a team at org, app or environment-type scope; restricted environment
 * types (production by default); tokens narrowed to a scope. Every user that exists already becomes an org
 * admin, so upgrading changes nobody's access.
 */
export const roles: StoreMigration = {
  name: '0007_roles',
  async up(db: Kysely<unknown>, engine) {
    const serial = engine === 'postgres' ? 'bigserial' : 'integer';
    await db.schema
      .createTable('role_grants')
      .addColumn('id', serial, (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      // 'user' or 'team'.
      .addColumn('subject_kind', 'text', (c) => c.notNull())
      .addColumn('subject_id', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      // 'org', 'app' or 'env-type'; scope_id is '' for org.
      .addColumn('scope_kind', 'text', (c) => c.notNull())
      .addColumn('scope_id', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('role_grants_unique', [
        'subject_kind',
        'subject_id',
        'role',
        'scope_kind',
        'scope_id',
      ])
      .execute();
    await db.schema
      .createIndex('role_grants_subject')
      .on('role_grants')
      .columns(['subject_kind', 'subject_id'])
      .execute();
    await db.schema
      .alterTable('env_types')
      .addColumn('restricted', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    const typed = db as unknown as Kysely<{
      env_types: { id: string; restricted: number };
      users: { id: string };
      role_grants: {
        subject_kind: string;
        subject_id: string;
        role: string;
        scope_kind: string;
        scope_id: string;
        created_by: string;
        created_at: string;
      };
    }>;
    await typed.updateTable('env_types').set({ restricted: 1 }).where('id', '=', 'production').execute();
    await db.schema.alterTable('tokens').addColumn('scope', 'text').execute();
    const users = await typed.selectFrom('users').select('id').execute();
    for (const user of users) {
      await typed
        .insertInto('role_grants')
        .values({
          subject_kind: 'user',
          subject_id: user.id,
          role: 'admin',
          scope_kind: 'org',
          scope_id: '',
          created_by: 'migration 0007_roles',
          created_at: new Date().toISOString(),
        })
        .execute();
    }
  },
};
