import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Something Kysely can compile: any query builder. */
interface Compilable<O> {
  compile(): CompiledQuery<O>;
}

/**
 * A query compiled once per database and then run with new parameter values: for the API's hottest reads,
 * where building and compiling the SQL again would cost more than running it. `build` must use each
 * parameter as a plain value exactly where it goes; a query whose parameters cannot be traced that way is
 * simply compiled every time.
 */
export function preparedQuery<P extends string[], O>(
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
    return (await db.executeQuery<O>({ ...entry.compiled, parameters })).rows;
  };
}
