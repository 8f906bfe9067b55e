// Loaded lazily by `pave defs apply`, so that other commands do not pay for the YAML parser and the schemas.
import { LineCounter, parseAllDocuments } from 'yaml';
import {
  YamlNodeLocator,
  formatScorePath,
  formatScoreProblem,
  isEmptyYamlNode,
  resourceDefinitionSchema,
} from '@pave/core';
import type { ResourceDefinitionSpec, YamlAnchor } from '@pave/core';

/** One problem in a definitions file, with where it is; the same shape as a Score file's problems. */
export interface DefinitionProblem {
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
  problems: DefinitionProblem[];
}

/** Renders a problem as one line: `file:line:column: json.path: message`. */
export function formatDefinitionProblem(problem: DefinitionProblem): string {
  return formatScoreProblem(problem);
}

type PathSegment = string | number;
type Anchor = YamlAnchor;

const REQUIRED_HINTS: Record<string, string> = {
  id: 'the definition id, a DNS label such as shop-postgres',
  type: 'the resource type it provisions, e.g. postgres',
  driver: 'the resource driver that provisions it, e.g. postgres',
};

/**
 * Parses and validates a file of resource definitions: either one YAML list of definitions, or one
 * definition per YAML document (separated by `---`; a document may also hold a list). Each definition is
 * checked against core's `resourceDefinitionSchema`, and ids must be unique in the file. Every problem is
 * reported at once with the line and column of the node it concerns (YAML syntax errors, schema violations:
 * an unknown key at the key, a missing key at the mapping that lacks it, a bad value at the value). The
 * values of secret inputs are never quoted in a message. `file` only labels the problems. Never throws for
 * bad input.
 */
export function parseDefinitionsFile(text: string, file: string): DefinitionsFile {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const problems: DefinitionProblem[] = [];
  const definitions: ResourceDefinitionSpec[] = [];
  const firstById = new Map<string, number>();
  let found = 0;

  for (const document of documents) {
    const locator = new YamlNodeLocator(text, lineCounter, document);
    const add = (path: readonly PathSegment[], at: Anchor, message: string) =>
      problems.push({ file, ...locator.locate(path, at), path: formatScorePath(path), message });

    const reported = new Set<number>();
    for (const error of document.errors) {
      // The parser often reports one mistake twice at the same place; the first message is the clearer one.
      if (reported.has(error.pos[0])) continue;
      reported.add(error.pos[0]);
      const path = locator.pathAt(error.pos[0]);
      // An unclosed quote or bracket is noticed at the end of the file; point at where it was opened instead.
      const atEnd = error.code === 'MISSING_CHAR' || error.pos[0] >= text.length;
      const position =
        atEnd && path.length > 0 ? locator.locate(path, 'value') : locator.position(error.pos[0]);
      problems.push({
        file,
        ...position,
        path: formatScorePath(path),
        message: `YAML syntax error: ${error.message}`,
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
    const items: { prefix: PathSegment[]; value: unknown }[] = Array.isArray(data)
      ? data.map((value, index) => ({ prefix: [index], value }))
      : [{ prefix: [], value: data }];
    for (const { prefix, value } of items) {
      found++;
      const parsed = resourceDefinitionSchema.safeParse(value);
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const path = [...prefix, ...(issue.path as PathSegment[])];
          for (const problem of describeIssue(issue, path, value, prefix.length)) {
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
      definitions.push(parsed.data);
    }
  }

  if (found === 0 && problems.length === 0) {
    problems.push({
      file,
      line: 1,
      column: 1,
      path: formatScorePath([]),
      message:
        'no definitions: write a YAML list of definitions, or one definition (id, type, driver, ' +
        'driverInputs, criteria) per YAML document',
    });
  }
  const sorted = problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return sorted.length === 0 ? { definitions, problems: [] } : { definitions: [], problems: sorted };
}

// Zod issues into problems ----------------------------------------------------------------------------------

interface Issue {
  code: string;
  message: string;
  keys?: string[];
  expected?: string;
  values?: unknown[];
}

function describeIssue(
  issue: Issue,
  path: PathSegment[],
  definition: unknown,
  prefixLength: number,
): { path: PathSegment[]; at: Anchor; message: string }[] {
  const local = path.slice(prefixLength);
  const value = valueAt(definition, local);
  // The values of secret inputs must not end up in a terminal or a CI log.
  const secret = local[0] === 'driverInputs' && local[1] === 'secrets';
  const shown = (text: string) => (secret ? 'a secret value (not shown)' : text);
  switch (issue.code) {
    case 'unrecognized_keys':
      return (issue.keys ?? []).map((key) => ({
        path: [...path, key],
        at: 'key' as const,
        message: `unknown key; ${knownKeys(local)}`,
      }));
    case 'invalid_type': {
      const last = local[local.length - 1];
      const parent = valueAt(definition, local.slice(0, -1));
      if (
        value === undefined &&
        typeof last === 'string' &&
        isObject(parent) &&
        !Object.hasOwn(parent, last)
      ) {
        const hint = REQUIRED_HINTS[last];
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

// Which keys are allowed where an unknown one was found, so the message says what to write instead.
function knownKeys(path: readonly PathSegment[]): string {
  if (path.length === 0) return 'a definition has id, type, driver, driverInputs and criteria';
  if (path.length === 1 && path[0] === 'driverInputs') {
    return 'driverInputs has values (shown as they are) and secrets (encrypted, never shown)';
  }
  if (path[0] === 'criteria') return 'a criterion may set envType, envId, appId, resId and class';
  return 'remove it';
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

// Positions ------------------------------------------------------------------------------------------------
