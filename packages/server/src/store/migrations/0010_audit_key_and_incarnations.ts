import { sql, type Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * A keyed audit chain and app incarnations.
 *
 * - audit_chain gains `keyed_from` and `key_check`, both empty: the chain is keyed (HMAC-SHA-256 under a key
 *   kept wrapped by the master key) from the first entry written after a server with the keyring starts
 *   (see loadAuditKey). A migration cannot do it: it runs before the keyring is loaded, and a store may be
 *   migrated by a process that has no master key. The entries written so far keep their unkeyed hashes,
 *   which stay verifiable as they are; re-chaining them with the key would only launder whatever an
 *   attacker may already have rewritten under the unkeyed formula.
 * - apps gain a random `incarnation`, set by the database on every insert; audit entries record the
 *   incarnation of the app they are about, so an app id deleted and created again starts a new trail.
 *   Existing entries belong to the current app when they were written after it was created, and to no
 *   incarnation (an earlier, deleted app) otherwise.
 */
export const auditKeyAndIncarnations: StoreMigration = {
  name: '0010_audit_key_and_incarnations',
  async up(db: Kysely<unknown>, engine) {
    await db.schema.alterTable('audit_chain').addColumn('keyed_from', 'integer').execute();
    await db.schema.alterTable('audit_chain').addColumn('key_check', 'text').execute();
    await db.schema.alterTable('audit_entries').addColumn('app_incarnation', 'text').execute();

    if (engine === 'postgres') {
      // A volatile default is evaluated for every existing row too.
      await db.schema
        .alterTable('apps')
        .addColumn('incarnation', 'text', (c) =>
          c.notNull().defaultTo(sql`replace(gen_random_uuid()::text, '-', '')`),
        )
        .execute();
    } else {
      // SQLite cannot add a column with a non-constant default: existing rows are filled in, new ones by a
      // trigger (in the same statement's transaction, so the inserting transaction reads it at once).
      await db.schema.alterTable('apps').addColumn('incarnation', 'text').execute();
      await sql`update apps set incarnation = lower(hex(randomblob(16)))`.execute(db);
      await sql`
        create trigger apps_incarnation after insert on apps
        for each row when new.incarnation is null
        begin
          update apps set incarnation = lower(hex(randomblob(16))) where id = new.id;
        end
      `.execute(db);
    }

    await sql`
      update audit_entries
      set app_incarnation = (
        select apps.incarnation from apps
        where apps.id = audit_entries.app_id and audit_entries.at >= apps.created_at
      )
      where app_id is not null
    `.execute(db);
    await db.schema
      .createIndex('audit_entries_app_incarnation')
      .on('audit_entries')
      .columns(['app_id', 'app_incarnation', 'id'])
      .execute();
  },
};
