import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Something Kysely can compile: any query builder. */
interface Compilable<O> {
  compile(): CompiledQuery<O>;
}

/**
 * How a store runs prepared reads without going through Kysely (see store.ts): on SQLite, synchronously on a
 * read-only connection of its own; on PostgreSQL, as a named statement that each pooled connection parses and
 * plans once. Outside any transaction only: they see what is committed.
 */
export interface DirectReads {
  /** The rows of `sqlText` (the query called `name`, always the same text) with `parameters`. */
  all<O>(name: string, sqlText: string, parameters: readonly unknown[]): O[] | Promise<O[]>;
  close(): void;
}

const directReadsOf = new WeakMap<Kysely<Database>, DirectReads>();

/** Lets prepared queries on `db` (itself, not its transactions) run through `reads`. */
export function readDirectly(db: Kysely<Database>, reads: DirectReads): void {
  directReadsOf.set(db, reads);
}

/**
 * A query compiled once per database and then run with new parameter values: for the API's hottest reads,
 * where building and compiling the SQL again would cost more than running it. Run on the store's database
 * (not a transaction), it skips Kysely too (see {@link DirectReads}); `name` names it there and must be unique.
 * `build` must use each parameter as a plain value exactly where it goes; a query whose parameters cannot be
 * traced that way is simply compiled every time.
 */
export function preparedQuery<P extends string[], O>(
  name: string,
  build: (db: Kysely<Database>, ...params: P) => Compilable<O>,
): (db: Kysely<Database>, ...params: P) => Promise<O[]> {
  const compiledByDb = new WeakMap<
    Kysely<Database>,
    { compiled: CompiledQuery<O>; slots: number[] } | null
  >();
  return async (db, ...params) => {
    let entry = compiledByDb.get(db);
    if (entry === undefined) {
      const markers = params.map((_, index) => `\u0000pave-parameter-${index}\u0000`) as P;
      const compiled = build(db, ...markers).compile();
      const slots = compiled.parameters.map((value) => markers.indexOf(value as string));
      entry = slots.every((slot) => slot >= 0) ? { compiled, slots } : null;
      compiledByDb.set(db, entry);
    }
    if (!entry) return (await db.executeQuery<O>(build(db, ...params).compile())).rows;
    const parameters = entry.slots.map((slot) => params[slot]);
    const direct = directReadsOf.get(db);
    if (direct) return direct.all<O>(name, entry.compiled.sql, parameters);
    return (await db.executeQuery<O>({ ...entry.compiled, parameters })).rows;
  };
}
