// Loaded lazily by `pave defs apply` and `pave targets apply`, so that other commands do not pay for the YAML
// parser and the schemas.
import { LineCounter, parseAllDocuments, type ParsedNode } from 'yaml';
import {
  YamlNodeLocator,
  firstTooDeepValue,
  formatScorePath,
  formatScoreProblem,
  isEmptyYamlNode,
  resourceDefinitionSchema,
  tooDeepMessage,
  yamlTooDeepProblem,
  runtimeTargetSchema,
} from '@pave/core';
import type { ResourceDefinitionSpec, RuntimeTargetSpec, YamlAnchor } from '@pave/core';
import { CliUsageError } from './errors.ts';
import { readFileArgument } from './file-arguments.ts';
import { describeFileError } from './file-errors.ts';

/**
 * One problem in a declarations file (resource definitions, runtime targets), with where it is; the same
 * shape as a Score file's problems.
 */
export interface DeclarationProblem {
  /** The file name as given. */
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

/** Renders a problem as one line: `file:line:column: json.path: message`. */
export function formatDeclarationProblem(problem: DeclarationProblem): string {
  return formatScoreProblem(problem);
}

/** The name `pave defs apply` knows {@link formatDeclarationProblem} by. */
export const formatDefinitionProblem = formatDeclarationProblem;

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
  /** What one item is called, e.g. `definition`; its plural adds an `s`. */
  noun: string;
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

/**
 * Parses and validates a declarations file of `kind`: either one YAML list of items, or one item per YAML
 * document (separated by `---`; a document may also hold a list). Each item is checked against the kind's
 * schema, and ids must be unique in the file. Every problem is reported at once with the line and column of
 * the node it concerns (YAML syntax errors, schema violations: an unknown key at the key, a missing key at the
 * mapping that lacks it, a bad value at the value). Secret values are never quoted in a message. `file` only
 * labels the problems. Resolves to the items in file order with defaults applied and no problems, or to no
 * items and every problem sorted by position. Never throws for bad input.
 */
export function parseDeclarationsFile<Spec extends { id: string }>(
  text: string,
  file: string,
  kind: DeclarationsKind<Spec>,
): { items: Spec[]; problems: DeclarationProblem[] } {
  const lineCounter = new LineCounter();
  let documents: ReturnType<typeof parseAllDocuments<ParsedNode>>;
  try {
    documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
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
      const path = locator.pathAt(error.pos[0]);
      // An unclosed quote or bracket is noticed at the end of the file; point at where it was opened instead.
      const atEnd = error.code === 'MISSING_CHAR' || error.pos[0] >= text.length;
      const position =
        atEnd && path.length > 0 ? locator.locate(path, 'value') : locator.position(error.pos[0]);
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
      add([], 'value', `YAML error: ${(error as Error).message}`);
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
        for (const issue of parsed.error.issues) {
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
    problems.push({
      file,
      line: 1,
      column: 1,
      path: formatScorePath([]),
      message:
        `no ${kind.noun}s: write a YAML list of ${kind.noun}s, or one ${kind.noun} (${kind.keys}) ` +
        'per YAML document',
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

/**
 * Reads the declarations file given with `-f`; `-` reads it from stdin with `readStdin`. Throws CliUsageError
 * naming the kind of file (`noun`, e.g. `targets`), the file and why, when it cannot be read.
 */
export async function readDeclarationsFile(
  file: string,
  noun: string,
  readStdin: () => Promise<string>,
): Promise<string> {
  try {
    return await readFileArgument(file, readStdin);
  } catch (error) {
    const why = describeFileError(error, file, 'read', { directory: 'pass the YAML file inside it' });
    throw new CliUsageError(`cannot read the ${noun} file ${file}: ${why}`);
  }
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

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
};

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return value.length > 60 ? 'a long string' : JSON.stringify(value);
  return `the ${typeof value} ${String(value)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isObject(value) && Object.hasOwn(value, segment)) value = value[String(segment)];
    else return undefined;
  }
  return value;
}
