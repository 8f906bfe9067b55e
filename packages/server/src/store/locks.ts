import { sql, type Transaction } from 'kysely';
import type { Database } from './schema.ts';
import type { StoreEngine } from './migrations/index.ts';

/** The rows others hang from: what a grant, an environment, a webhook, a rule or a membership refers to. */
export type ParentTable = 'apps' | 'teams' | 'users' | 'environments';

/**
 * Locks the row of `table` whose columns have the values in `where` until `tx` ends, and says whether it
 * exists. A transaction that adds something hanging from the row (a role grant on an app, an environment,
 * a webhook, a team member) locks it `share` before it checks and inserts; one that deletes the row locks it
 * `update` before it deletes what hangs from it. On PostgreSQL, where transactions run side by side and each
 * statement sees what was committed when it began, that orders the two: the adder waits for the deletion and
 * then finds no row (and refuses), or the deletion waits for the adder and then deletes what it added too.
 * Without it, an addition that checked the row just before the deletion committed outlived it, and came to
 * belong to a new row of the same id. `share` is PostgreSQL's FOR KEY SHARE, the lock a foreign key check
 * takes: it keeps deletions out but not updates of the row (values take their app's row lock by updating it),
 * so it waits for nothing but a deletion. SQLite runs one write transaction at a time, so there it is a plain
 * read.
 */
export async function lockRow(
  engine: StoreEngine,
  tx: Transaction<Database>,
  table: ParentTable,
  where: Readonly<Record<string, string>>,
  mode: 'share' | 'update',
): Promise<boolean> {
  const conditions = Object.entries(where).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  const lock =
    engine === 'postgres' ? sql.raw(mode === 'update' ? ' for update' : ' for key share') : sql.raw('');
  const query = sql`select 1 as one from ${sql.table(table)} where ${sql.join(conditions, sql` and `)}${lock}`;
  return (await query.execute(tx)).rows.length > 0;
}

/**
 * Takes the advisory lock named `name` until `tx` ends: `exclusive` waits for every other holder, `shared` only
 * for an exclusive one. On PostgreSQL that is a transaction-scoped advisory lock, which orders transactions of
 * every replica of the store. SQLite runs one transaction at a time (a store has one control plane), so there
 * the transaction itself is the lock and this does nothing.
 */
export async function lockAdvisory(
  engine: StoreEngine,
  tx: Transaction<Database>,
  name: string,
  mode: 'shared' | 'exclusive',
): Promise<void> {
  if (engine !== 'postgres') return;
  const lock = sql.raw(mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock');
  await sql`select ${lock}(hashtext(${name}))`.execute(tx);
}
