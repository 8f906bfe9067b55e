/*
 * Declarations files (resource definitions, runtime targets, policies, workload profiles, templates): one YAML
 * list of items, or one item per YAML document, each checked against its schema and located at its line and
 * column. Pure functions shared by the CLI (`pave <kind> apply -f` checks the file before sending it) and the
 * portal (its Apply YAML forms check the text before sending it), so both report the same problems at the
 * same places. Import this module on its own (`@pave/core/declarations`) and only where a file is checked:
 * it loads the YAML parser, the schemas, the CEL interpreter and the patch checks.
 */
import { isMap, isScalar, isSeq, type Document, type Node, type ParsedNode } from 'yaml';
import { closestForm } from './issues.ts';
import { MAX_NESTING_DEPTH, firstTooDeepValue, tooDeepMessage } from './nesting.ts';
import { checkPolicy } from './policy-eval.ts';
import { Policy } from './policies.ts';
import { checkProfilePatches } from './profile-patch.ts';
import { WorkloadProfile } from './profiles.ts';
import { resourceDefinitionSchema, type ResourceDefinitionSpec } from './resources.ts';
import {
  TYPE_NAMES,
  YamlNodeLocator,
  describe,
  formatScorePath,
  isEmptyYamlNode,
  isObject,
  lineCounterOf,
  parseYamlDocuments,
  unresolvedAlias,
  valueAt,
  yamlTooDeepProblem,
  type YamlAnchor,
} from './score/parse.ts';
import { runtimeTargetSchema, type RuntimeTargetSpec } from './targets.ts';
import { Template, TemplateDirectorySpec } from './templates.ts';

/**
 * One problem in a declarations file (resource definitions, runtime targets, policies, workload profiles,
 * templates), with where it is; the same shape as a Score file's problems.
 */
export interface DeclarationProblem {
  /** The file name as given; it only labels the problem. */
  file: string;
  /** 1-based line of the offending YAML node. */
  line: number;
  /** 1-based column of the offending YAML node. */
  column: number;
  /** JSON path of the offending value, e.g. `[1].criteria[0].envType`; `(root)` for a whole document. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** What {@link parseDefinitionsFile} makes of a file. */
export interface DefinitionsFile {
  /** The definitions in file order, defaults applied; empty unless `problems` is empty. */
  definitions: ResourceDefinitionSpec[];
  /** Every problem found, sorted by position. */
  problems: DeclarationProblem[];
}

/** What {@link parseTargetsFile} makes of a file. */
export interface TargetsFile {
  /** The runtime targets in file order, defaults applied; empty unless `problems` is empty. */
  targets: RuntimeTargetSpec[];
  /** Every problem found, sorted by position. */
  problems: DeclarationProblem[];
}

type PathSegment = string | number;
type Anchor = YamlAnchor;

/** The outcome of checking one item; a zod schema's `safeParse` result has this shape. */
type SchemaResult<Spec> =
  | { success: true; data: Spec }
  | { success: false; error: { issues: readonly (Issue & { path: PropertyKey[] })[] } };

/**
 * One kind of declarations file: the schema each item is checked against, and the words its problems use.
 * Every item has an `id`, unique in the file.
 */
export interface DeclarationsKind<Spec extends { id: string }> {
  /** What one item is called, e.g. `definition`. */
  noun: string;
  /** Its plural, when adding an `s` does not make it, e.g. `policies`. */
  plural?: string;
  /** An item's keys, named in the message for a file that holds none, e.g. `id, type, config, criteria`. */
  keys: string;
  /** Checks one item and applies its defaults; core's zod schemas fit. */
  schema: { safeParse(value: unknown): SchemaResult<Spec> };
  /** What each required top-level key is, for `missing required key` messages. */
  requiredHints: Readonly<Record<string, string>>;
  /** Which keys are allowed at `path` (relative to one item), for `unknown key` messages. */
  knownKeys(path: readonly PathSegment[]): string;
  /** Whether the value at `path` (relative to one item) is secret, so never quoted; default: nothing is. */
  isSecret?(path: readonly PathSegment[]): boolean;
}

/** Resource definitions, checked with core's `resourceDefinitionSchema`; secret inputs are never quoted. */
export const DEFINITIONS: DeclarationsKind<ResourceDefinitionSpec> = {
  noun: 'definition',
  keys: 'id, type, driver, driverInputs, criteria',
  schema: resourceDefinitionSchema,
  requiredHints: {
    id: 'the definition id, a DNS label such as shop-postgres',
    type: 'the resource type it provisions, e.g. postgres',
    driver: 'the resource driver that provisions it, e.g. postgres',
  },
  knownKeys(path) {
    if (path.length === 0) return 'a definition has id, type, driver, driverInputs and criteria';
    if (path.length === 1 && path[0] === 'driverInputs') {
      return 'driverInputs has values (shown as they are) and secrets (encrypted, never shown)';
    }
    if (path[0] === 'criteria') return 'a criterion may set envType, envId, appId, resId and class';
    return 'remove it';
  },
  isSecret: (path) => path[0] === 'driverInputs' && path[1] === 'secrets',
};

/**
 * Runtime targets, checked with core's `runtimeTargetSchema`. Which `config` keys a type takes is checked
 * by the server when the file is applied.
 */
export const TARGETS: DeclarationsKind<RuntimeTargetSpec> = {
  noun: 'target',
  keys: 'id, type, config, criteria',
  schema: runtimeTargetSchema,
  requiredHints: {
    id: 'the target id, a DNS label such as staging-docker',
    type: 'where workloads run: process, docker or kubernetes',
  },
  knownKeys(path) {
    if (path.length === 0) return 'a target has id, type, config and criteria';
    if (path[0] === 'criteria') return 'a criterion may set envType, envId and appId';
    return 'remove it';
  },
};

/** The words of a template's problems, whichever schema checks it. */
function templatesKind(schema: DeclarationsKind<Template>['schema']): DeclarationsKind<Template> {
  return {
    noun: 'template',
    keys: 'id, title, description, tags, parameters, files, setup',
    schema,
    requiredHints: {
      id: 'the template id, a DNS label such as node-http',
      title: 'what the template makes, in a few words',
      files: 'the files it generates (a list of path and content; may be empty)',
    },
    knownKeys(path) {
      if (path.length === 0)
        return 'a template has id, title, description, tags, parameters, files and setup';
      if (path[0] === 'files')
        return 'a file has path and content (or binaryContent, base64), and executable';
      if (path[0] === 'setup' && path.length === 1) {
        return 'setup has app, environments, values, prepare, score and deploy';
      }
      if (path[0] === 'setup' && path[1] === 'environments')
        return 'an environment has id, type, from and ttl';
      if (path[0] === 'setup' && path[1] === 'values')
        return 'a value has key, secret or value, and description';
      return 'remove it';
    },
  };
}

/**
 * Golden-path templates in one YAML file, their files inline: what `pave templates apply -f FILE` and the
 * portal's Apply template form check, with core's `Template` schema.
 */
export const TEMPLATES: DeclarationsKind<Template> = templatesKind(Template);

/** The `template.yaml` of a template directory, whose files may come from its `files/` folder instead. */
export const TEMPLATE_DIRECTORIES: DeclarationsKind<Template> = templatesKind(TemplateDirectorySpec);

/**
 * Parses and validates a declarations file of `kind`: either one YAML list of items, or one item per YAML
 * document (separated by `---`; a document may also hold a list). Each item is checked against the kind's
 * schema, and ids must be unique in the file. Every problem is reported at once with the line and column of
 * the node it concerns (YAML syntax errors, schema violations: an unknown key at the key, a missing key at the
 * mapping that lacks it, a bad value at the value). Secret values are never quoted in a message. `file` only
 * labels the problems. Returns the items in file order with defaults applied and no problems, or to no
 * items and every problem sorted by position. Never throws for bad input.
 */
export function parseDeclarationsFile<Spec extends { id: string }>(
  text: string,
  file: string,
  kind: DeclarationsKind<Spec>,
): { items: Spec[]; problems: DeclarationProblem[] } {
  const lineCounter = lineCounterOf(text);
  let documents: Document.Parsed<ParsedNode>[];
  try {
    documents = parseYamlDocuments(text);
  } catch (error) {
    // The YAML parser recurses once per level of block nesting and overflows the stack on deep files.
    if (error instanceof RangeError) return { items: [], problems: [yamlTooDeepProblem(text, file)] };
    throw error;
  }
  const problems: DeclarationProblem[] = [];
  const items: Spec[] = [];
  const firstById = new Map<string, number>();
  let found = 0;

  for (const document of documents) {
    const locator = new YamlNodeLocator(text, lineCounter, document);
    const add = (path: readonly PathSegment[], at: Anchor, message: string) =>
      problems.push({ file, ...locator.locate(path, at), path: formatScorePath(path), message });

    const reported = new Set<number>();
    let stackOverflowReported = false;
    for (const error of document.errors) {
      // The parser often reports one mistake twice at the same place; the first message is the clearer one.
      if (reported.has(error.pos[0])) continue;
      reported.add(error.pos[0]);
      // A stack overflow may be reported at several places, as many as the stack left room for: one is enough.
      const stackOverflow = /call stack/i.test(error.message);
      if (stackOverflow && stackOverflowReported) continue;
      stackOverflowReported ||= stackOverflow;
      const innermost = locator.pathAt(error.pos[0]);
      // Too deep: the first value deeper than the limit, as for a value nested too deep for the schemas.
      const path = stackOverflow ? innermost.slice(0, MAX_NESTING_DEPTH + 1) : innermost;
      // An unclosed quote or bracket is noticed at the end of the file; point at where it was opened instead.
      const atEnd = error.code === 'MISSING_CHAR' || error.pos[0] >= text.length;
      const position =
        (atEnd || stackOverflow) && path.length > 0
          ? locator.locate(path, 'value')
          : locator.position(error.pos[0]);
      problems.push({
        file,
        ...position,
        path: formatScorePath(path),
        // The YAML parser gives up on very deep collections with the engine's stack overflow message.
        message: stackOverflow ? `the YAML ${tooDeepMessage()}` : `YAML syntax error: ${error.message}`,
      });
    }
    // When the YAML structure is broken the recovered tree is guesswork; a duplicate key leaves it intact.
    if (!document.errors.every((error) => error.code === 'DUPLICATE_KEY')) continue;
    if (isEmptyYamlNode(document.contents ?? undefined)) continue; // an empty document, e.g. after a final `---`

    let data: unknown;
    try {
      data = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      if (error instanceof RangeError) {
        problems.push(yamlTooDeepProblem(text, file));
        continue;
      }
      // An alias to an anchor not set before it, or an alias bomb: said at the alias, or the document's start.
      const offset = unresolvedAlias(document)?.range?.[0] ?? document.range[0];
      problems.push({
        file,
        ...locator.position(offset),
        path: formatScorePath(locator.pathAt(offset)),
        message: `YAML error: ${(error as Error).message}`,
      });
      continue;
    }
    // Nothing recursive (the schemas) may see a value deep enough to exhaust the stack.
    const tooDeep = firstTooDeepValue(data);
    if (tooDeep) {
      add(tooDeep, 'value', tooDeepMessage());
      continue;
    }
    const entries: { prefix: PathSegment[]; value: unknown }[] = Array.isArray(data)
      ? data.map((value, index) => ({ prefix: [index], value }))
      : [{ prefix: [], value: data }];
    for (const { prefix, value } of entries) {
      found++;
      const parsed = kind.schema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues.flatMap(closestForm)) {
          const path = [...prefix, ...(issue.path as PathSegment[])];
          for (const problem of describeIssue(kind, issue, path, value, prefix.length)) {
            add(problem.path, problem.at, problem.message);
          }
        }
        continue;
      }
      const idPath = [...prefix, 'id'];
      const earlier = firstById.get(parsed.data.id);
      if (earlier !== undefined) {
        add(
          idPath,
          'value',
          `id "${parsed.data.id}" is also defined on line ${earlier}; define each id once`,
        );
        continue;
      }
      firstById.set(parsed.data.id, locator.locate(idPath, 'value').line);
      items.push(parsed.data);
    }
  }

  if (found === 0 && problems.length === 0) {
    const nouns = kind.plural ?? `${kind.noun}s`;
    problems.push({
      file,
      line: 1,
      column: 1,
      path: formatScorePath([]),
      message: `no ${nouns}: write a YAML list of ${nouns}, or one ${kind.noun} (${kind.keys}) per YAML document`,
    });
  }
  const sorted = problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return sorted.length === 0 ? { items, problems: [] } : { items: [], problems: sorted };
}

/** {@link parseDeclarationsFile} for a file of resource definitions. */
export function parseDefinitionsFile(text: string, file: string): DefinitionsFile {
  const { items, problems } = parseDeclarationsFile(text, file, DEFINITIONS);
  return { definitions: items, problems };
}

/** {@link parseDeclarationsFile} for a file of runtime targets. */
export function parseTargetsFile(text: string, file: string): TargetsFile {
  const { items, problems } = parseDeclarationsFile(text, file, TARGETS);
  return { targets: items, problems };
}

/** What {@link parsePoliciesFile} makes of a file. */
export interface PoliciesFile {
  /** The policies in file order, defaults applied; empty unless `problems` is empty. */
  policies: Policy[];
  /** Every problem found. */
  problems: DeclarationProblem[];
}

/** What {@link parseProfilesFile} makes of a file. */
export interface ProfilesFile {
  /** The workload profiles in file order, defaults applied; empty unless `problems` is empty. */
  profiles: WorkloadProfile[];
  /** Every problem found. */
  problems: DeclarationProblem[];
}

/** Policies, checked with core's `Policy` schema. */
export const POLICIES: DeclarationsKind<Policy> = {
  noun: 'policy',
  plural: 'policies',
  keys: 'id, criteria, severity, message and one of rule, promotionGate, freeze',
  schema: Policy,
  requiredHints: {
    id: 'the policy id, a DNS label such as no-latest-images',
    severity: 'deny (refuses the deployment) or warn (lets it through, with a warning)',
    message: 'what a failing deployment is told, and how to fix it',
  },
  knownKeys(path) {
    if (path.length === 0) {
      return 'a policy has id, description, criteria, severity, message, each and one of rule, promotionGate, freeze';
    }
    if (path[0] === 'criteria') return 'a criterion may set envType, envId and appId';
    if (path[0] === 'promotionGate') return 'a promotion gate has from and within';
    if (path[0] === 'freeze') return 'a freeze has schedule, duration and timezone, or from and to';
    return 'remove it';
  },
};

/** Workload profiles, checked with core's `WorkloadProfile` schema. */
export const PROFILES: DeclarationsKind<WorkloadProfile> = {
  noun: 'profile',
  keys: 'id, criteria, patches, objects',
  schema: WorkloadProfile,
  requiredHints: {
    id: 'the profile id, a DNS label such as prod-hardening',
    criteria: 'where it applies, e.g. [{ envType: production }]; [] applies everywhere',
  },
  knownKeys(path) {
    if (path.length === 0) return 'a profile has id, description, criteria, patches and objects';
    if (path[0] === 'criteria') return 'a criterion may set envType, envId and appId';
    if (path[0] === 'patches' && path.length === 2) return 'a patch has target and ops';
    if (path[0] === 'patches' && path[2] === 'target') return 'a target has kind and name';
    if (path[0] === 'patches') return 'an operation has op, path, value and from (RFC 6902)';
    return 'remove it';
  },
};

/**
 * Parses a policies file (a YAML list, or one policy per document) as {@link parseDeclarationsFile} does, then
 * checks every CEL rule, freeze schedule and time zone offline. A rule problem is reported at the rule's line
 * and column in the file plus the column in the expression. Returns the policies, or none and every problem.
 * Never throws for bad input.
 */
export function parsePoliciesFile(text: string, file: string): PoliciesFile {
  const { items, problems } = parseDeclarationsFile(text, file, POLICIES);
  if (problems.length) return { policies: [], problems };
  const found: DeclarationProblem[] = [];
  items.forEach((policy, index) => {
    for (const problem of checkPolicy(policy)) {
      found.push({
        file,
        ...locatePolicyField(text, index, problem.field, problem.offset),
        path: `${policy.id}.${problem.field.replace('/', '.')}`,
        message: problem.message,
      });
    }
  });
  return found.length ? { policies: [], problems: found } : { policies: items, problems: [] };
}

/**
 * Parses a profiles file (a YAML list, or one profile per document) as {@link parseDeclarationsFile} does, then
 * checks it offline: the schema (RFC 6902 operations with JSON pointer paths, objects with apiVersion, kind
 * and metadata.name), then every patch against the objects Pave renders for a sample workload. Each problem
 * has the file's line and column. Returns the profiles, or none and every problem. Never throws for bad input.
 */
export function parseProfilesFile(text: string, file: string): ProfilesFile {
  const { items, problems } = parseDeclarationsFile(text, file, PROFILES);
  if (problems.length) return { profiles: [], problems };
  const found: DeclarationProblem[] = [];
  items.forEach((profile, index) => {
    for (const problem of checkProfilePatches(profile)) {
      const path = problem.path.split('/').slice(1);
      found.push({
        file,
        ...locateDeclarationPath(text, index, path),
        path: formatScorePath([
          profile.id,
          ...path.map((part) => (/^\d+$/u.test(part) ? Number(part) : part)),
        ]),
        message: problem.message,
      });
    }
  });
  return found.length ? { profiles: [], problems: found } : { profiles: items, problems: [] };
}

// Positions of the items' values --------------------------------------------------------------------------

/**
 * The 1-based line and column in a policies file (as {@link parseDeclarationsFile} reads it: a YAML list, or one
 * policy per document) of the `index`-th policy's `field` (`rule`, `freeze/schedule`, `criteria/0/envType`, ...). For `rule` with
 * `offset`, the position of that character of the expression: exact for plain, quoted and literal (`|`)
 * scalars, the start of the value otherwise. Falls back to the start of the policy, then to 1:1.
 */
export function locatePolicyField(
  text: string,
  index: number,
  field: string,
  offset?: number,
): { line: number; column: number } {
  const lineCounter = lineCounterOf(text);
  const items: Node[] = [];
  for (const document of parseYamlDocuments(text)) {
    const contents = document.contents;
    if (isSeq(contents)) items.push(...(contents.items as Node[]));
    else if (contents) items.push(contents as Node);
  }
  const at = (position: number) => {
    const { line, col } = lineCounter.linePos(position);
    return { line, column: col };
  };
  const item = items[index];
  if (!item || !isMap(item)) return item?.range ? at(item.range[0]) : { line: 1, column: 1 };
  let node: unknown = item;
  for (const key of field.split('/')) {
    node = isMap(node) ? node.get(key, true) : isSeq(node) ? node.get(Number(key), true) : undefined;
  }
  if (!isScalar(node) || !node.range) return item.range ? at(item.range[0]) : { line: 1, column: 1 };
  const start = node.range[0];
  if (offset === undefined || typeof node.value !== 'string') return at(start);
  // Find the expression's line in the source and the column within it.
  const expression = node.value;
  const before = expression.slice(0, offset);
  const lineIndex = before.split('\n').length - 1;
  const column = offset - (before.lastIndexOf('\n') + 1);
  const source = text.slice(start, node.range[1]);
  let cursor = 0;
  const lines = expression.split('\n');
  for (let i = 0; i <= lineIndex; i++) {
    const wanted = lines[i] ?? '';
    const found = wanted === '' ? cursor : source.indexOf(wanted, cursor);
    if (found < 0) return at(start);
    if (i === lineIndex) return at(start + found + column);
    cursor = found + wanted.length;
  }
  return at(start);
}

/**
 * The 1-based line and column in a declarations file (as {@link parseDeclarationsFile} reads it: a YAML list, or
 * one item per document) of `path` inside the `index`-th item, e.g. `['patches', '0', 'ops', '1', 'path']`.
 * Falls back to the nearest ancestor that exists, then to 1:1.
 */
export function locateDeclarationPath(
  text: string,
  index: number,
  path: readonly string[],
): { line: number; column: number } {
  const lineCounter = lineCounterOf(text);
  const segments = path.map((segment) => (/^\d+$/u.test(segment) ? Number(segment) : segment));
  let seen = 0;
  for (const document of parseYamlDocuments(text)) {
    const contents = document.contents;
    const items = isSeq(contents) ? contents.items.length : contents ? 1 : 0;
    if (index < seen + items) {
      const prefix = isSeq(contents) ? [index - seen] : [];
      return new YamlNodeLocator(text, lineCounter, document).locate([...prefix, ...segments], 'value');
    }
    seen += items;
  }
  return { line: 1, column: 1 };
}

// Zod issues into problems ----------------------------------------------------------------------------------

interface Issue {
  code: string;
  message: string;
  keys?: string[];
  expected?: string;
  values?: unknown[];
}

function describeIssue<Spec extends { id: string }>(
  kind: DeclarationsKind<Spec>,
  issue: Issue,
  path: PathSegment[],
  item: unknown,
  prefixLength: number,
): { path: PathSegment[]; at: Anchor; message: string }[] {
  const local = path.slice(prefixLength);
  const value = valueAt(item, local);
  // Secret values must not end up in a terminal or a CI log.
  const secret = kind.isSecret?.(local) === true;
  const shown = (text: string) => (secret ? 'a secret value (not shown)' : text);
  switch (issue.code) {
    case 'unrecognized_keys':
      return (issue.keys ?? []).map((key) => ({
        path: [...path, key],
        at: 'key' as const,
        message: `unknown key; ${kind.knownKeys(local)}`,
      }));
    case 'invalid_type': {
      const last = local[local.length - 1];
      const parent = valueAt(item, local.slice(0, -1));
      if (
        value === undefined &&
        typeof last === 'string' &&
        isObject(parent) &&
        !Object.hasOwn(parent, last)
      ) {
        const hint = kind.requiredHints[last];
        return [
          {
            path: path.slice(0, -1),
            at: 'parent',
            message: `missing required key "${last}"${hint ? `: ${hint}` : ''}`,
          },
        ];
      }
      const wanted = TYPE_NAMES[issue.expected ?? ''] ?? issue.expected ?? 'another type';
      if (
        issue.expected === 'string' &&
        (typeof value === 'number' || typeof value === 'boolean') &&
        !secret
      ) {
        return [
          {
            path,
            at: 'value',
            message: `expected a string, got the ${typeof value} ${String(value)}; put it in quotes: "${String(value)}"`,
          },
        ];
      }
      return [{ path, at: 'value', message: `expected ${wanted}, got ${shown(describe(value))}` }];
    }
    case 'invalid_value': {
      const options = (issue.values ?? []).map((option) => JSON.stringify(option)).join(', ');
      return [{ path, at: 'value', message: `must be one of ${options}, got ${shown(describe(value))}` }];
    }
    default: {
      const got =
        typeof value === 'string' && value.length <= 60 && !secret ? ` (got ${JSON.stringify(value)})` : '';
      return [{ path, at: isObject(value) ? 'parent' : 'value', message: `${issue.message}${got}` }];
    }
  }
}
