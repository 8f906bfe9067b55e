import { sql } from 'kysely';
import type { Executor } from '../store/index.ts';

/**
 * How many items a page of platform configuration (environment types, policies, profiles, definitions,
 * targets, templates) holds when the caller does not say: platform teams write them, so one page is usually all.
 */
export const DEFAULT_CONFIG_PAGE = 100;

/** Which page of a list ordered by id: at most `limit` items whose id sorts after `cursor`. */
export interface IdPageRequest {
  limit?: number | undefined;
  cursor?: string | undefined;
}

/**
 * The ids of one page of a list ordered by id whose items are the rows of `table` and `builtIns` (items Pave
 * ships, never stored), and the page's `nextCursor` (null on the last page). The database orders both
 * together, so the built-in ids sort exactly as `id > cursor` compares on that engine.
 */
export async function idPage(
  db: Executor,
  table: 'resource_definitions' | 'runtime_targets',
  builtIns: readonly string[],
  page: IdPageRequest,
): Promise<{ ids: string[]; nextCursor: string | null }> {
  const limit = page.limit ?? DEFAULT_CONFIG_PAGE;
  // Keyset pagination on the primary key: at most a page of stored ids after the cursor, then the built-ins.
  const stored = db
    .selectFrom(table)
    .select('id')
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1);
  let listed = db.selectFrom(stored.as('stored')).select('stored.id');
  for (const id of builtIns) {
    listed = listed.unionAll(db.selectNoFrom(sql<string>`cast(${id} as text)`.as('id')));
  }
  const rows = await db
    .selectFrom(listed.as('listed'))
    .select('listed.id')
    .$if(page.cursor !== undefined, (qb) => qb.where('listed.id', '>', page.cursor!))
    .orderBy('listed.id')
    .limit(limit + 1)
    .execute();
  const ids = rows.slice(0, limit).map((row) => row.id);
  return { ids, nextCursor: rows.length > limit ? (ids.at(-1) ?? null) : null };
}
