import type { Kysely } from 'kysely';
import type { StoreMigration } from './index.ts';

/**
 * Templates (golden paths): every version of each template is kept, its content as applied (canonical JSON
 * with the files inline), so a project can be generated again from the version it came from.
 */
export const templates: StoreMigration = {
  name: '0021_templates',
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('templates')
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('templates_pkey', ['id', 'version'])
      .execute();
  },
};
