import { CompiledQuery, sql, type KyselyPlugin, type RootOperationNode } from 'kysely';
import type { Store } from '../../src/index.ts';
import type { Executor } from '../../src/store/index.ts';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  Plans?: PlanNode[];
}

/**
 * Runs `run` against `store` and explains the last query it sent: resolves with what `run` resolved with, the
 * query's SQL, and its plan's steps, one line each. On PostgreSQL a step is a node type with the relation,
 * index and direction it scans (`Index Scan audit_entries audit_entries_app_incarnation Backward`); on SQLite
 * it is a line of EXPLAIN QUERY PLAN (`SEARCH events USING INDEX events_app_id (app_id=? AND ...)`).
 */
export async function withPlanOfLastQuery<T>(
  store: Store,
  run: (db: Executor) => Promise<T>,
): Promise<{ result: T; sql: string; plan: string[] }> {
  const nodes: RootOperationNode[] = [];
  const recorder: KyselyPlugin = {
    transformQuery: (args) => {
      nodes.push(args.node);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  const result = await run(store.db.withPlugin(recorder));
  const node = nodes.at(-1);
  if (!node) throw new Error('the function under test sent no query');
  const compiled = store.db.getExecutor().compileQuery(node, { queryId: 'plan' });
  const postgres = store.engine === 'postgres';
  const explained = await store.db.executeQuery(
    CompiledQuery.raw(`${postgres ? 'explain (format json)' : 'explain query plan'} ${compiled.sql}`, [
      ...compiled.parameters,
    ]),
  );
  if (!postgres) {
    return {
      result,
      sql: compiled.sql,
      plan: explained.rows.map((row) => (row as { detail: string }).detail),
    };
  }
  const plan: string[] = [];
  const walk = (step: PlanNode) => {
    plan.push(
      [step['Node Type'], step['Relation Name'], step['Index Name'], step['Scan Direction']]
        .filter(Boolean)
        .join(' '),
    );
    for (const child of step.Plans ?? []) walk(child);
  };
  walk((explained.rows[0] as { 'QUERY PLAN': [{ Plan: PlanNode }] })['QUERY PLAN'][0].Plan);
  return { result, sql: compiled.sql, plan };
}

/** Inserts apps app-0 … app-(count-1) with incarnations incarnation-0 …, in one statement (for long logs). */
export async function seedApps(store: Store, count: number): Promise<void> {
  await sql`
    with recursive n(i) as (select 0 union all select i + 1 from n where i < ${sql.lit(count - 1)})
    insert into apps (id, name, created_by, created_at, incarnation)
    select 'app-' || i, 'app-' || i, 'admin', '2026-01-01T00:00:00.000Z', 'incarnation-' || i from n
  `.execute(store.db);
}
