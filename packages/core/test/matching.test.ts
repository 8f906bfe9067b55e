import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  criterionMatches,
  criterionSpecificity,
  explainMatch,
  findDefinitionConflicts,
  type CandidateDefinition,
  type MatchCriterion,
  type MatchQuery,
} from '../src/index.ts';

const query = (overrides: Partial<MatchQuery> = {}): MatchQuery => ({
  type: 'postgres',
  envType: 'production',
  envId: 'prod-eu',
  appId: 'shop',
  resId: 'shop-api.db',
  class: 'default',
  ...overrides,
});

// The winner's id, as provisioning reads it from explainMatch.
const winnerOf = (definitions: CandidateDefinition[], q: MatchQuery): string | null =>
  explainMatch(definitions, q).winner?.id ?? null;

const definition = (
  id: string,
  criteria: MatchCriterion[],
  extra: Partial<CandidateDefinition> = {},
): CandidateDefinition => ({ id, type: 'postgres', criteria, ...extra });

describe('criterion specificity', () => {
  it('ranks envType below appId below envId below resId, and any resId above any combination without', () => {
    expect(criterionSpecificity({})).toBe(0);
    expect(criterionSpecificity({ envType: 'production' })).toBe(1);
    expect(criterionSpecificity({ appId: 'shop' })).toBe(2);
    expect(criterionSpecificity({ envId: 'prod-eu' })).toBe(4);
    expect(criterionSpecificity({ resId: 'shop-api.db' })).toBe(8);
    expect(criterionSpecificity({ resId: 'x' })).toBeGreaterThan(
      criterionSpecificity({ envType: 'a', appId: 'b', envId: 'c' }),
    );
  });

  it('does not count class', () => {
    expect(criterionSpecificity({ class: 'large', envType: 'production' })).toBe(1);
  });
});

describe('criterion matching', () => {
  it('says what the query has and what the criterion wants for every field that differs', () => {
    expect(criterionMatches({ envType: 'production', appId: 'blog' }, query({ envType: 'staging' }))).toEqual(
      {
        matches: false,
        mismatches: ['envType is "staging", not "production"', 'appId is "shop", not "blog"'],
      },
    );
  });

  it('matches class "default" only when the criterion names no class', () => {
    expect(criterionMatches({}, query()).matches).toBe(true);
    expect(criterionMatches({ class: 'default' }, query()).matches).toBe(true);
    expect(criterionMatches({}, query({ class: 'large' })).mismatches).toEqual([
      'class is "large", not "default"',
    ]);
    expect(criterionMatches({ class: 'large' }, query()).mismatches).toEqual([
      'class is "default", not "large"',
    ]);
    expect(criterionMatches({ class: 'large' }, query({ class: 'large' })).matches).toBe(true);
  });
});

describe('matching definitions', () => {
  const definitions = [
    definition('any', []),
    definition('prod', [{ envType: 'production' }]),
    definition('shop', [{ appId: 'shop' }]),
    definition('prod-eu', [{ envType: 'production', envId: 'prod-eu' }]),
    definition('the-db', [{ resId: 'shop-api.db' }]),
  ];

  it("follows Humanitec's order: resId, then envId, then appId, then envType, then no criteria", () => {
    expect(winnerOf(definitions, query())).toBe('the-db');
    expect(winnerOf(definitions, query({ resId: 'other.db' }))).toBe('prod-eu');
    expect(winnerOf(definitions, query({ resId: 'other.db', envId: 'prod-us' }))).toBe('shop');
    expect(winnerOf(definitions, query({ resId: 'other.db', envId: 'prod-us', appId: 'blog' }))).toBe('prod');
    expect(
      winnerOf(definitions, query({ resId: 'o.db', envId: 'dev', appId: 'blog', envType: 'development' })),
    ).toBe('any');
  });

  it('uses the best matching criterion of a definition with several', () => {
    const several = definition('several', [{ envType: 'staging' }, { envType: 'production', appId: 'shop' }]);
    const explanation = explainMatch([several, definition('prod', [{ envType: 'production' }])], query());
    expect(explanation.winner).toEqual({
      id: 'several',
      criterion: { envType: 'production', appId: 'shop' },
      specificity: 3,
    });
  });

  it('picks a definition for a class only for resources of that class', () => {
    const withClass = [definition('default-db', []), definition('large-db', [{ class: 'large' }])];
    expect(winnerOf(withClass, query())).toBe('default-db');
    expect(winnerOf(withClass, query({ class: 'large' }))).toBe('large-db');
    expect(winnerOf(withClass, query({ class: 'huge' }))).toBeNull();
  });

  it('falls back to a built-in default only when nothing else matches, whatever its criteria', () => {
    const withBuiltIn = [
      definition('pave-postgres', [{ resId: 'shop-api.db' }], { builtIn: true }),
      definition('staging', [{ envType: 'staging' }]),
    ];
    expect(winnerOf(withBuiltIn, query())).toBe('pave-postgres');
    expect(explainMatch(withBuiltIn, query()).winner?.specificity).toBe(-1);
    expect(winnerOf(withBuiltIn, query({ envType: 'staging' }))).toBe('staging');
    expect(winnerOf([...withBuiltIn, definition('any', [])], query())).toBe('any');
  });

  it('matches nothing when no definition of the type matches', () => {
    expect(winnerOf([definition('cache', [], { type: 'redis' })], query())).toBeNull();
    expect(explainMatch([], query())).toEqual({ query: query(), winner: null, candidates: [] });
  });
});

describe('match explanations', () => {
  it('say why each definition won, lost, did not match or is of another type, in that order', () => {
    const explanation = explainMatch(
      [
        definition('cache', [], { type: 'redis' }),
        definition('staging', [{ envType: 'staging', appId: 'blog' }, { envType: 'staging' }]),
        definition('prod', [{ envType: 'production' }]),
        definition('pave-postgres', [], { builtIn: true }),
        definition('prod-eu', [{ envType: 'production', envId: 'prod-eu' }]),
        definition('any', []),
      ],
      query(),
    );
    expect(explanation.winner).toEqual({
      id: 'prod-eu',
      criterion: { envType: 'production', envId: 'prod-eu' },
      specificity: 5,
    });
    expect(
      explanation.candidates.map(({ id, outcome, specificity, reason }) => ({
        id,
        outcome,
        specificity,
        reason,
      })),
    ).toEqual([
      { id: 'prod-eu', outcome: 'won', specificity: 5, reason: 'most specific match: envType + envId' },
      {
        id: 'prod',
        outcome: 'lost',
        specificity: 1,
        reason:
          'matched with envType only (specificity 1) but definition prod-eu matched more specifically (envType + envId)',
      },
      {
        id: 'any',
        outcome: 'lost',
        specificity: 0,
        reason:
          'matched with no criteria (specificity 0) but definition prod-eu matched more specifically (envType + envId)',
      },
      {
        id: 'pave-postgres',
        outcome: 'lost',
        specificity: -1,
        reason: 'built-in default, used only when no other definition matches; definition prod-eu matched',
      },
      {
        id: 'staging',
        outcome: 'no-match',
        specificity: null,
        reason: 'envType is "production", not "staging"',
      },
      { id: 'cache', outcome: 'other-type', specificity: null, reason: 'defines type redis, not postgres' },
    ]);
    // The closest criterion of a definition that does not match is the one with the fewest mismatches.
    expect(explanation.candidates.find((candidate) => candidate.id === 'staging')?.criterion).toEqual({
      envType: 'staging',
    });
  });

  it('join all mismatches of the closest criterion', () => {
    const explanation = explainMatch(
      [definition('large-staging', [{ envType: 'staging', class: 'large' }])],
      query(),
    );
    expect(explanation.candidates[0]?.reason).toBe(
      'envType is "production", not "staging"; class is "default", not "large"',
    );
  });

  it('explain a win by a definition without criteria, and by a built-in', () => {
    expect(explainMatch([definition('any', [])], query()).candidates[0]?.reason).toBe(
      'most specific match: it has no criteria, so it matches every postgres resource of class "default"',
    );
    const builtIn = explainMatch([definition('pave-postgres', [], { builtIn: true })], query());
    expect(builtIn.winner).toEqual({ id: 'pave-postgres', criterion: null, specificity: -1 });
    expect(builtIn.candidates[0]?.reason).toBe('built-in default, used because no other definition matches');
  });

  it('break a tie between duplicates by id, and say how to remove the tie', () => {
    const explanation = explainMatch(
      [definition('b', [{ envType: 'production' }]), definition('a', [{ envType: 'production' }])],
      query(),
    );
    expect(explanation.winner?.id).toBe('a');
    expect(explanation.candidates[0]?.reason).toContain('tied with b');
    expect(explanation.candidates[1]?.reason).toContain('as did definition a');
  });
});

/** The conflicts of `definitions` when one request applies them all, in this order. */
const applyingAll = (definitions: CandidateDefinition[]) =>
  findDefinitionConflicts(definitions, { list: '/definitions', ids: definitions.map(({ id }) => id) });

describe('definition conflicts', () => {
  it('refuse two definitions of a type with the same criterion, naming the other and how to fix it', () => {
    const problems = applyingAll([
      definition('first', [{ envType: 'staging' }, { envType: 'production' }]),
      definition('second', [{ envType: 'production' }]),
    ]);
    expect(problems).toEqual([
      {
        path: '/definitions/1/criteria/0',
        message: expect.stringContaining('the same as criterion 1 of definition first'),
      },
    ]);
    expect(problems[0]?.message).toContain(
      'add a field such as envId or class to one of them, or delete one',
    );
  });

  it('read an unset class as "default", and no criteria as one empty criterion', () => {
    expect(
      applyingAll([
        definition('a', [{ envId: 'dev' }]),
        definition('b', [{ envId: 'dev', class: 'default' }]),
      ]),
    ).toHaveLength(1);
    expect(applyingAll([definition('a', []), definition('b', [{}])])).toEqual([
      {
        path: '/definitions/1/criteria/0',
        message: expect.stringContaining('definition a (which has no criteria)'),
      },
    ]);
    expect(applyingAll([definition('a', []), definition('b', [])])[0]?.path).toBe('/definitions/1/criteria');
  });

  it('refuse the same criterion twice in one definition', () => {
    expect(applyingAll([definition('a', [{ appId: 'shop' }, { appId: 'shop' }])])).toEqual([
      {
        path: '/definitions/0/criteria/1',
        message: expect.stringContaining('the same as criterion 0 of definition a'),
      },
    ]);
  });

  it('allow criteria that differ in a field, in class, or in type, and built-in defaults', () => {
    expect(
      applyingAll([
        definition('a', [{ envType: 'production' }]),
        definition('b', [{ envType: 'production', class: 'large' }]),
        definition('c', [{ envType: 'production', envId: 'prod-eu' }]),
        definition('d', [{ envType: 'production' }], { type: 'redis' }),
        definition('e', [], { builtIn: true }),
        definition('f', []),
      ]),
    ).toEqual([]);
  });
});

describe('definition conflicts of a request', () => {
  const request = (ids: string[]) => ({ list: '/definitions', ids });

  it('point at the later of two definitions the request applies, by its position in the request', () => {
    expect(
      findDefinitionConflicts(
        [definition('b', [{ envType: 'production' }]), definition('a', [{ envType: 'production' }])],
        request(['b', 'a']),
      ),
    ).toEqual([
      {
        path: '/definitions/1/criteria/0',
        message: expect.stringMatching(
          /^criterion 0 of definition a is the same as criterion 0 of definition b /u,
        ),
      },
    ]);
  });

  it('point at the one the request applies, naming a stored one by id, wherever it stands in the list', () => {
    const stored = definition('stored', []);
    const applied = definition('applied', []);
    for (const definitions of [
      [stored, applied],
      [applied, stored],
    ]) {
      expect(findDefinitionConflicts(definitions, request(['other', 'applied']))).toEqual([
        {
          path: '/definitions/1/criteria',
          message: expect.stringMatching(
            /^definition applied \(which has no criteria\) is the same as the stored definition stored \(which has no criteria\) \(type postgres\)/u,
          ),
        },
      ]);
    }
  });

  it('leave alone a tie of two stored definitions, which the request did not make', () => {
    expect(
      findDefinitionConflicts(
        [
          definition('old1', [{ appId: 'shop' }]),
          definition('old2', [{ appId: 'shop' }]),
          definition('new', []),
        ],
        request(['new']),
      ),
    ).toEqual([]);
  });

  it('speak of runtime targets as such, without a type or a class', () => {
    const target = (id: string): CandidateDefinition => ({
      id,
      type: 'runtime',
      criteria: [{ envId: 'dev' }],
    });
    expect(
      findDefinitionConflicts([target('k1'), target('k2')], {
        list: '/targets',
        ids: ['k1', 'k2'],
        kind: 'runtime target',
      }),
    ).toEqual([
      {
        path: '/targets/1/criteria/0',
        message:
          'criterion 0 of runtime target k2 is the same as criterion 0 of runtime target k1, so neither would ' +
          'be more specific and the match would be ambiguous; add a field such as envId or appId to one of ' +
          'them, or delete one',
      },
    ]);
  });
});

// Small value pools, so that generated criteria collide with each other and with queries often.
const queryArbitrary: fc.Arbitrary<MatchQuery> = fc.record({
  type: fc.constantFrom('postgres', 'redis'),
  envType: fc.constantFrom('development', 'production'),
  appId: fc.constantFrom('shop', 'blog'),
  envId: fc.constantFrom('dev', 'prod'),
  resId: fc.constantFrom('shop-api.db', 'shared.main'),
  class: fc.constantFrom('default', 'large'),
});
const criterionArbitrary: fc.Arbitrary<MatchCriterion> = fc.record(
  {
    envType: fc.constantFrom('development', 'production'),
    appId: fc.constantFrom('shop', 'blog'),
    envId: fc.constantFrom('dev', 'prod'),
    resId: fc.constantFrom('shop-api.db', 'shared.main'),
    class: fc.constantFrom('default', 'large'),
  },
  { requiredKeys: [] },
);

/** A criterion that matches `q` by construction: some of its fields, and its class (left unset when allowed). */
const matchingCriterion = (q: MatchQuery): fc.Arbitrary<MatchCriterion> =>
  fc
    .record({ fields: fc.subarray(['envType', 'appId', 'envId', 'resId'] as const), classSet: fc.boolean() })
    .map(({ fields, classSet }) => {
      const criterion: MatchCriterion = Object.fromEntries(fields.map((field) => [field, q[field]]));
      if (classSet || q.class !== 'default') criterion.class = q.class;
      return criterion;
    });

/** Definitions (unique ids) for a query, about half of whose criteria match it. */
const definitionsFor = (q: MatchQuery, idPattern = /^[a-z]{1,3}$/u): fc.Arbitrary<CandidateDefinition[]> =>
  fc.uniqueArray(
    fc.record({
      id: fc.stringMatching(idPattern),
      type: fc.oneof(fc.constant(q.type), fc.constantFrom('postgres', 'redis')),
      criteria: fc.array(fc.oneof(criterionArbitrary, matchingCriterion(q)), { maxLength: 3 }),
      builtIn: fc.oneof(
        { arbitrary: fc.constant(false), weight: 3 },
        { arbitrary: fc.constant(true), weight: 1 },
      ),
    }),
    { selector: (candidate) => candidate.id, maxLength: 8 },
  );

/** A query and definitions for it. */
const scenario = queryArbitrary.chain((q) => fc.tuple(fc.constant(q), definitionsFor(q)));

// The matching candidates of an explanation, with their specificity.
const matching = (definitions: CandidateDefinition[], q: MatchQuery) =>
  explainMatch(definitions, q).candidates.filter(
    (candidate) => candidate.outcome === 'won' || candidate.outcome === 'lost',
  );

// Drops the criteria (and definitions) that duplicate an earlier one, and all but the first built-in per type.
function withoutConflicts(definitions: CandidateDefinition[]): CandidateDefinition[] {
  const seen = new Set<string>();
  const builtInTypes = new Set<string>();
  const key = (type: string, c: MatchCriterion) =>
    JSON.stringify([type, c.envType, c.appId, c.envId, c.resId, c.class ?? 'default']);
  const result: CandidateDefinition[] = [];
  for (const candidate of definitions) {
    if (candidate.builtIn === true) {
      if (!builtInTypes.has(candidate.type)) result.push(candidate);
      builtInTypes.add(candidate.type);
      continue;
    }
    const criteria = candidate.criteria.length > 0 ? candidate.criteria : [{}];
    const kept = criteria.filter((criterion) => {
      const k = key(candidate.type, criterion);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    if (kept.length > 0) result.push({ ...candidate, criteria: kept });
  }
  return result;
}

describe('matching, for any definitions and query', () => {
  it('picks a winner that matches the query', () => {
    fc.assert(
      fc.property(scenario, ([q, definitions]) => {
        const winner = explainMatch(definitions, q).winner;
        if (winner === null) return;
        const won = definitions.find((candidate) => candidate.id === winner.id);
        expect(won?.type).toBe(q.type);
        // Built-in defaults serve every class.
        const asked = won?.builtIn ? { ...q, class: 'default' } : q;
        expect(criterionMatches(winner.criterion ?? {}, asked).matches).toBe(true);
        if (won?.criteria.length === 0) expect(winner.criterion).toBeNull();
        else expect(won?.criteria).toContainEqual(winner.criterion);
      }),
    );
  });

  it('picks a winner whenever some definition matches, and none matches more specifically', () => {
    fc.assert(
      fc.property(scenario, ([q, definitions]) => {
        const explanation = explainMatch(definitions, q);
        const matches = matching(definitions, q);
        expect(explanation.winner === null).toBe(matches.length === 0);
        for (const candidate of matches) {
          expect(candidate.specificity).toBeLessThanOrEqual(explanation.winner?.specificity ?? -Infinity);
        }
      }),
    );
  });

  it('has a unique winner once findDefinitionConflicts finds nothing', () => {
    fc.assert(
      fc.property(scenario, ([q, generated]) => {
        const definitions = withoutConflicts(generated);
        expect(applyingAll(definitions)).toEqual([]);
        const explanation = explainMatch(definitions, q);
        const rivals = matching(definitions, q).filter(
          (candidate) =>
            candidate.id !== explanation.winner?.id &&
            candidate.specificity === explanation.winner?.specificity,
        );
        expect(rivals).toEqual([]);
      }),
    );
  });

  it('gives two different criteria that match one query different specificities', () => {
    const normal = (c: MatchCriterion) => ({ ...c, class: c.class ?? 'default' });
    fc.assert(
      fc.property(
        queryArbitrary.chain((q) => fc.tuple(fc.constant(q), matchingCriterion(q), matchingCriterion(q))),
        ([q, a, b]) => {
          expect(criterionMatches(a, q).matches && criterionMatches(b, q).matches).toBe(true);
          if (criterionSpecificity(a) === criterionSpecificity(b)) expect(normal(a)).toEqual(normal(b));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('finds a conflict whenever two non-built-in definitions could tie', () => {
    fc.assert(
      fc.property(scenario, ([q, definitions]) => {
        const nonBuiltIn = definitions.filter((candidate) => candidate.builtIn !== true);
        const specificities = matching(nonBuiltIn, q).map((candidate) => candidate.specificity);
        if (new Set(specificities).size < specificities.length) {
          expect(applyingAll(nonBuiltIn).length).toBeGreaterThan(0);
        }
      }),
    );
  });

  it('does not depend on the order of the definitions', () => {
    fc.assert(
      fc.property(
        scenario.chain(([q, definitions]) =>
          fc.tuple(
            fc.constant(q),
            fc.constant(definitions),
            fc.shuffledSubarray(definitions, { minLength: definitions.length }),
          ),
        ),
        ([q, definitions, shuffled]) => {
          expect(explainMatch(shuffled, q)).toEqual(explainMatch(definitions, q));
        },
      ),
    );
  });

  it('keeps its winner when a definition that does not match is added', () => {
    fc.assert(
      fc.property(
        queryArbitrary.chain((q) =>
          fc.tuple(fc.constant(q), definitionsFor(q), definitionsFor(q, /^extra-[a-z]{1,3}$/u)),
        ),
        ([q, definitions, extras]) => {
          const extra = extras.filter((candidate) => matching([candidate], q).length === 0)[0];
          if (extra === undefined) return;
          expect(winnerOf([...definitions, extra], q)).toBe(winnerOf(definitions, q));
          expect(winnerOf([extra, ...definitions], q)).toBe(winnerOf(definitions, q));
        },
      ),
    );
  });
});
