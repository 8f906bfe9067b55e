// fast-check arbitraries of resource scopes for drivers' naming tests: that different (app, env, address) never
// share a name, where the pairs that would are built on purpose.
import fc from 'fast-check';

/** The part of a ResourceScope a driver's names come from. */
export interface NamedScope {
  app: string;
  env: string;
  resId: string;
  /** The resource's graph address: its resId, or `shared.<resId>` for a shared resource. */
  address: string;
}

/**
 * Scopes whose app, env and resId parts are made of `label`s (a few characters, so that parts often look alike
 * and only a hash keeps names apart), and pairs of them: independent ones, and look-alikes: the same
 * `<app>-<env>` text cut elsewhere into app and env (app `a-b` env `c`, app `a` env `b-c`), and one resId as a
 * workload's own resource and as a shared one.
 */
export function lookAlikeScopes(label: fc.Arbitrary<string>): {
  scope: fc.Arbitrary<NamedScope>;
  scopePairs: fc.Arbitrary<readonly [NamedScope, NamedScope]>;
} {
  const resId = fc.array(label, { minLength: 1, maxLength: 3 }).map((labels) => labels.join('.'));
  const scope = fc
    .record({ app: label, env: label, resId, shared: fc.boolean() })
    .map(({ shared, ...rest }) => ({ ...rest, address: shared ? `shared.${rest.resId}` : rest.resId }));
  const scopePairs = fc.oneof(
    fc.tuple(scope, scope),
    fc.tuple(scope, fc.nat()).map(([s, n]) => {
      const joined = `${s.app}-${s.env}`;
      const cuts = [...joined.matchAll(/(?<=[^-])-(?=[^-])/g)].map((match) => match.index);
      const cut = cuts[n % cuts.length] ?? s.app.length;
      return [s, { ...s, app: joined.slice(0, cut), env: joined.slice(cut + 1) }] as const;
    }),
    scope.map((s) => [s, { ...s, address: s.address === s.resId ? `shared.${s.resId}` : s.resId }] as const),
  );
  return { scope, scopePairs };
}

/** Scopes of any text at all (names must come out valid whatever they hold). */
export const anyScope: fc.Arbitrary<NamedScope> = fc.record({
  app: fc.string({ unit: 'grapheme' }),
  env: fc.string({ unit: 'grapheme' }),
  resId: fc.string({ unit: 'grapheme' }),
  address: fc.string({ unit: 'grapheme' }),
});
