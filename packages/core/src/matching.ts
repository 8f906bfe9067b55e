/*
 * Which resource definition provisions a resource, by Humanitec's matching rules: every field a criterion sets
 * must equal the resource's, and the most specific matching criterion wins, where resId outranks envId, envId
 * outranks appId and appId outranks envType. `class` narrows a match without making it more specific. Pure
 * functions, shared by the server (provisioning, `GET …/resources/match`) and the CLI.
 */
import type { FieldProblem } from './errors.ts';
import { DEFAULT_RESOURCE_CLASS, type MatchCriterion } from './resources.ts';

/** The resource a definition is looked up for, with the context it is deployed in. */
export interface MatchQuery {
  /** The resource type, e.g. postgres. */
  type: string;
  /** The type of the environment deployed to, e.g. development. */
  envType: string;
  /** The environment deployed to. */
  envId: string;
  /** The app deployed. */
  appId: string;
  /** The Score `id` of a shared resource, else `<workload>.<name>`. */
  resId: string;
  /** Score's `class`: pass {@link DEFAULT_RESOURCE_CLASS} ("default") when the Score file names none. */
  class: string;
}

/** A definition as far as matching is concerned. */
export interface CandidateDefinition {
  id: string;
  /** The resource type it provisions. */
  type: string;
  /** Any one matching criterion is enough; an empty list matches every resource of the type in class "default". */
  criteria: MatchCriterion[];
  /** One of the defaults Pave ships: used only when no other definition matches. */
  builtIn?: boolean;
}

/** How one definition fared for a query, see {@link explainMatch}. */
export interface MatchCandidate {
  id: string;
  builtIn: boolean;
  /**
   * `won`: it provisions the resource; `lost`: it matches, less specifically than the winner (or ties with it
   * and loses on id order); `no-match`: none of its criteria match; `other-type`: it provisions another type.
   */
  outcome: 'won' | 'lost' | 'no-match' | 'other-type';
  /** Specificity of its best matching criterion (-1 for a built-in); null when it does not match. */
  specificity: number | null;
  /**
   * The criterion concerned: the best matching one, or for `no-match` the closest one (fewest mismatches).
   * Null for `other-type`, and for a definition without criteria (which matches as if by an empty criterion).
   */
  criterion: MatchCriterion | null;
  /** Why, for people: what made it win, lose or not match. */
  reason: string;
}

/** Which definition provisions a resource, and why every other definition does not. */
export interface MatchExplanation {
  /** The query explained. */
  query: MatchQuery;
  /** The winning definition and the criterion it won with (null when it has no criteria); null if none matches. */
  winner: { id: string; criterion: MatchCriterion | null; specificity: number } | null;
  /** Every definition given: the winner first, then the losers by specificity, then no-match, then other types. */
  candidates: MatchCandidate[];
}

/**
 * How much each criterion field adds to a criterion's specificity. Powers of two, so that a criterion with a
 * field outranks every criterion without it that sets only less specific fields (resId 8 > 4 + 2 + 1).
 */
export const CRITERION_WEIGHTS = { envType: 1, appId: 2, envId: 4, resId: 8 } as const;

type WeightedField = keyof typeof CRITERION_WEIGHTS;

const WEIGHTED_FIELDS: readonly WeightedField[] = ['envType', 'appId', 'envId', 'resId'];

/** The specificity a built-in definition matches with, whatever its criteria: below every other match. */
export const BUILT_IN_SPECIFICITY = -1;

/**
 * The specificity of a criterion: the sum of {@link CRITERION_WEIGHTS} of the fields it sets (envType 1,
 * appId 2, envId 4, resId 8), so 0 to 15. `class` adds nothing: it selects which resources can match at all.
 */
export function criterionSpecificity(criterion: MatchCriterion): number {
  let specificity = 0;
  for (const field of WEIGHTED_FIELDS) {
    if (criterion[field] !== undefined) specificity += CRITERION_WEIGHTS[field];
  }
  return specificity;
}

/**
 * Whether a criterion matches a query: every field the criterion sets must equal the query's, and its class
 * (DEFAULT_RESOURCE_CLASS when unset) must equal the query's class. The type is not part of a criterion; check it
 * separately. `mismatches` says, for each field that differs, what the query has and what the criterion wants,
 * e.g. `envType is "staging", not "production"`; it is empty exactly when `matches` is true.
 */
export function criterionMatches(
  criterion: MatchCriterion,
  query: MatchQuery,
): { matches: boolean; mismatches: string[] } {
  const mismatches: string[] = [];
  for (const field of WEIGHTED_FIELDS) {
    const wanted = criterion[field];
    if (wanted !== undefined && wanted !== query[field]) {
      mismatches.push(`${field} is "${query[field]}", not "${wanted}"`);
    }
  }
  const wantedClass = criterion.class ?? DEFAULT_RESOURCE_CLASS;
  if (wantedClass !== query.class) mismatches.push(`class is "${query.class}", not "${wantedClass}"`);
  return { matches: mismatches.length === 0, mismatches };
}

// How one definition relates to the query, before it is ranked against the others.
type Evaluation =
  | { kind: 'other-type'; definition: CandidateDefinition }
  | { kind: 'match'; definition: CandidateDefinition; criterion: MatchCriterion | null; specificity: number }
  | {
      kind: 'no-match';
      definition: CandidateDefinition;
      criterion: MatchCriterion | null;
      mismatches: string[];
    };

function evaluate(definition: CandidateDefinition, query: MatchQuery): Evaluation {
  if (definition.type !== query.type) return { kind: 'other-type', definition };
  // A definition without criteria behaves as one with a single empty criterion (reported as null).
  const criteria: Array<MatchCriterion | null> =
    definition.criteria.length > 0 ? definition.criteria : [null];
  let best: { criterion: MatchCriterion | null; specificity: number } | undefined;
  let closest: { criterion: MatchCriterion | null; mismatches: string[] } | undefined;
  // The built-in defaults serve every class, so a Score file's class never leaves a fresh machine without one.
  const asked = definition.builtIn === true ? { ...query, class: DEFAULT_RESOURCE_CLASS } : query;
  for (const criterion of criteria) {
    const result = criterionMatches(criterion ?? {}, asked);
    if (result.matches) {
      const specificity = criterionSpecificity(criterion ?? {});
      if (!best || specificity > best.specificity) best = { criterion, specificity };
    } else if (!closest || result.mismatches.length < closest.mismatches.length) {
      closest = { criterion, mismatches: result.mismatches };
    }
  }
  if (best) {
    const specificity = definition.builtIn === true ? BUILT_IN_SPECIFICITY : best.specificity;
    return { kind: 'match', definition, criterion: best.criterion, specificity };
  }
  // No criterion matched, so `closest` was set by the loop.
  const { criterion, mismatches } = closest as { criterion: MatchCriterion | null; mismatches: string[] };
  return { kind: 'no-match', definition, criterion, mismatches };
}

// "envType + envId", or a phrase for a criterion that sets none of the weighted fields.
function fieldsOf(criterion: MatchCriterion | null): string {
  const fields = WEIGHTED_FIELDS.filter((field) => criterion?.[field] !== undefined);
  return fields.length === 0 ? 'no fields besides class' : fields.join(' + ');
}

function matchedWith(criterion: MatchCriterion | null, specificity: number): string {
  const fields = WEIGHTED_FIELDS.filter((field) => criterion?.[field] !== undefined);
  const how =
    fields.length === 0
      ? criterion === null
        ? 'no criteria'
        : 'no fields besides class'
      : `${fields.join(' + ')}${fields.length === 1 ? ' only' : ''}`;
  return `matched with ${how} (specificity ${specificity})`;
}

const byId = (a: { definition: CandidateDefinition }, b: { definition: CandidateDefinition }): number =>
  a.definition.id < b.definition.id ? -1 : a.definition.id > b.definition.id ? 1 : 0;

/**
 * Explains which definition provisions the resource described by `query`, and why each other one does not.
 * A definition matches when its type equals the query's and any one of its criteria matches (see
 * {@link criterionMatches}); its best matching criterion counts. The highest specificity wins (see
 * {@link criterionSpecificity}); built-in definitions match with specificity -1, below every other match. Two
 * definitions can only tie when they hold the same criterion, which {@link findDefinitionConflicts} refuses; if
 * it happens anyway, the lowest id wins so that the result never depends on the order of `definitions`.
 * `winner` is null when no definition matches: the resource cannot be provisioned.
 */
export function explainMatch(
  definitions: CandidateDefinition[],
  query: MatchQuery,
  /** What the reasons call a candidate: runtime targets match by the same rules. */
  noun: 'definition' | 'target' = 'definition',
): MatchExplanation {
  const evaluations = definitions.map((definition) => evaluate(definition, query));
  const matches = evaluations
    .filter((evaluation) => evaluation.kind === 'match')
    .sort((a, b) => b.specificity - a.specificity || byId(a, b));
  const noMatches = evaluations.filter((evaluation) => evaluation.kind === 'no-match').sort(byId);
  const otherTypes = evaluations.filter((evaluation) => evaluation.kind === 'other-type').sort(byId);

  const [best, ...losers] = matches;
  const candidates: MatchCandidate[] = [];
  if (best) {
    const tied = losers.filter((loser) => loser.specificity === best.specificity).map((l) => l.definition.id);
    let reason =
      best.definition.builtIn === true
        ? `built-in default, used because no other ${noun} matches`
        : best.criterion === null
          ? `most specific match: it has no criteria, so it matches every ${noun === 'target' ? 'environment' : `${query.type} resource of class "default"`}`
          : `most specific match: ${fieldsOf(best.criterion)}`;
    if (tied.length > 0) {
      reason +=
        `; tied with ${tied.join(', ')} and won because its id sorts first — ` +
        'make the criteria differ (e.g. add envId or class to one) or delete one';
    }
    candidates.push({
      id: best.definition.id,
      builtIn: best.definition.builtIn === true,
      outcome: 'won',
      specificity: best.specificity,
      criterion: best.criterion,
      reason,
    });
    for (const loser of losers) {
      const builtIn = loser.definition.builtIn === true;
      let reason: string;
      if (loser.specificity === best.specificity) {
        reason = builtIn
          ? `built-in default, tied with built-in ${best.definition.id}, which wins because its id sorts first`
          : `${matchedWith(loser.criterion, loser.specificity)}, as did ${noun} ${best.definition.id}, ` +
            'which wins because its id sorts first — make the criteria differ or delete one';
      } else if (builtIn) {
        reason = `built-in default, used only when no other ${noun} matches; ${noun} ${best.definition.id} matched`;
      } else {
        reason =
          `${matchedWith(loser.criterion, loser.specificity)} but ${noun} ${best.definition.id} ` +
          `matched more specifically (${best.criterion === null ? 'no criteria' : fieldsOf(best.criterion)})`;
      }
      candidates.push({
        id: loser.definition.id,
        builtIn,
        outcome: 'lost',
        specificity: loser.specificity,
        criterion: loser.criterion,
        reason,
      });
    }
  }
  for (const miss of noMatches) {
    candidates.push({
      id: miss.definition.id,
      builtIn: miss.definition.builtIn === true,
      outcome: 'no-match',
      specificity: null,
      criterion: miss.criterion,
      reason: miss.mismatches.join('; '),
    });
  }
  for (const other of otherTypes) {
    candidates.push({
      id: other.definition.id,
      builtIn: other.definition.builtIn === true,
      outcome: 'other-type',
      specificity: null,
      criterion: null,
      reason: `defines type ${other.definition.type}, not ${query.type}`,
    });
  }
  return {
    query,
    winner: best
      ? { id: best.definition.id, criterion: best.criterion, specificity: best.specificity }
      : null,
    candidates,
  };
}

// A criterion's identity for matching: its weighted fields and its class, "default" when unset.
function criterionKey(criterion: MatchCriterion): string {
  return JSON.stringify([
    ...WEIGHTED_FIELDS.map((field) => criterion[field] ?? null),
    criterion.class ?? DEFAULT_RESOURCE_CLASS,
  ]);
}

/**
 * The request that applies definitions, for {@link findDefinitionConflicts}: where in its body each definition
 * is, so that a problem points there.
 */
export interface DefinitionsRequest {
  /** The JSON pointer of the body's list of them: `/definitions`, `/targets`. */
  list: string;
  /** The ids of the definitions the request applies, in its order; any other definition is a stored one. */
  ids: readonly string[];
  /** What one is called in messages: a resource `definition` (the default) or a `runtime target`. */
  kind?: 'definition' | 'runtime target';
}

/** How problems speak of each kind: runtime targets are all of one type and their criteria have no class. */
const CONFLICT_WORDS = {
  definition: { typed: true, fields: 'envId or class' },
  'runtime target': { typed: false, fields: 'envId or appId' },
} as const;

/**
 * Finds criteria that would make matching ambiguous: two criteria of non-built-in definitions of the same type
 * (in two definitions, or twice in one) that are the same once an unset class is read as "default" (a definition
 * with no criteria counts as one empty criterion). Because the weights are powers of two, a specificity is
 * reached by exactly one set of fields, and a criterion only matches when each of its fields equals the
 * query's; so two criteria that match the same query with the same specificity set the same fields to the same
 * values and the same class: ties happen exactly between such duplicates, and this check rules them all out.
 * Built-in definitions are not checked: they rank below every other match, and Pave ships at most one per type.
 *
 * `definitions` are all of them as they will be. A duplicate is reported at the one of the two `request`
 * applies (the later in the request when it applies both), at its position in the request body
 * (`/definitions/1/criteria/0`, `/definitions/1/criteria` for an empty list), naming the other by id; a
 * duplicate of two stored definitions is not the request's doing and is not reported. An empty result means
 * every query has at most one winner per specificity.
 */
export function findDefinitionConflicts(
  definitions: readonly CandidateDefinition[],
  request: DefinitionsRequest,
): FieldProblem[] {
  const kind = request.kind ?? 'definition';
  const words = CONFLICT_WORDS[kind];
  const positions = new Map(request.ids.map((id, index) => [id, index]));
  // The stored definitions first, then the request's in its order: a duplicate is found at the later one.
  const ordered = [
    ...definitions.filter((definition) => !positions.has(definition.id)),
    ...definitions
      .filter((definition) => positions.has(definition.id))
      .sort((a, b) => positions.get(a.id)! - positions.get(b.id)!),
  ];
  type Place = { id: string; index: number | null; stored: boolean };
  const describe = (at: Place): string => {
    const name = `${at.stored ? 'the stored ' : ''}${kind} ${at.id}`;
    return at.index === null ? `${name} (which has no criteria)` : `criterion ${at.index} of ${name}`;
  };
  const problems: FieldProblem[] = [];
  const seen = new Map<string, Place>();
  for (const definition of ordered) {
    if (definition.builtIn === true) continue;
    const at = positions.get(definition.id);
    const criteria: Array<[number | null, MatchCriterion]> =
      definition.criteria.length > 0
        ? definition.criteria.map((criterion, index) => [index, criterion])
        : [[null, {}]];
    for (const [index, criterion] of criteria) {
      const key = JSON.stringify([definition.type, criterionKey(criterion)]);
      const here = { id: definition.id, index, stored: at === undefined };
      const first = seen.get(key);
      if (!first) {
        seen.set(key, here);
        continue;
      }
      if (at === undefined) continue;
      problems.push({
        path: `${request.list}/${at}/criteria${index === null ? '' : `/${index}`}`,
        message:
          `${describe(here)} is the same as ${describe(first)}${words.typed ? ` (type ${definition.type})` : ''}, ` +
          'so neither would be more specific and the match would be ambiguous; add a field such as ' +
          `${words.fields} to one of them, or delete one`,
      });
    }
  }
  return problems;
}
