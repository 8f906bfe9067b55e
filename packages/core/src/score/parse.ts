import { LineCounter, YAMLParseError, isAlias, isMap, isScalar, isSeq, parseAllDocuments, visit } from 'yaml';
import type { Document, Node, ParsedNode } from 'yaml';
import type { z } from 'zod';
import { checkScorePlaceholders, type PlaceholderCheckOptions } from './placeholders.ts';
import { checkScoreResourceCycles } from './resource-order.ts';
import { checkScoreVolumeSources } from './volumes.ts';
import { ScoreWorkload } from './schema.ts';
import { MAX_NESTING_DEPTH, firstTooDeepValue, stringsWhere, tooDeepMessage } from '../nesting.ts';

/** One problem in a Score file: where it is and what to do about it. */
export interface ScoreProblem {
  /** The file name as given to {@link parseScore}. */
  file: string;
  /** 1-based line of the offending YAML node. */
  line: number;
  /** 1-based column of the offending YAML node. */
  column: number;
  /** JSON path of the offending value, e.g. `containers.web.variables.GREETING`; `(root)` for the document. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** What {@link parseScore} makes of a Score file. */
export interface ScoreParseResult {
  /** The workload, present exactly when `problems` is empty. */
  workload?: ScoreWorkload;
  /**
   * Every problem found, sorted by position: YAML syntax, schema, placeholder, resource params cycle and (with
   * `renderable`) volume source problems together.
   */
  problems: ScoreProblem[];
}

/** What else {@link parseScore} checks besides the Score specification. */
export interface ScoreCheckOptions extends PlaceholderCheckOptions {
  /**
   * Also refuse what is valid Score but no Pave deployment can render, on any runtime: a volume whose `source`
   * is not a resource placeholder (see checkScoreVolumeSources). What `pave validate` and `pave deploy` check.
   * A probe of a port that is not a service port is refused only where the runtime is known (process and
   * docker; see checkScoreProbePorts).
   */
  renderable?: boolean;
}

/** The path printed for problems with the document as a whole. */
export const ROOT_PATH = '(root)';

type PathSegment = string | number;

/**
 * Every YAML document of `text`, parsed as the yaml library's `parseAllDocuments` parses them (with
 * `prettyErrors: false`), except that a key repeated in a mapping is found in one pass over the document: the
 * parser's own check compares each key with every one before it, so a mapping of 20 000 keys took 5 s and one
 * of 40 000 keys 24 s. Each repeated key is a `DUPLICATE_KEY` error at the key, as the parser reports it, and
 * each document's errors stay in position order; as with the parser's check, the value of the last one wins
 * (YamlNodeLocator locates problems at that value). `merge` turns on YAML merge keys (`<<`), which may repeat.
 * Throws what the parser throws: a RangeError when the nesting overflows the stack.
 */
export function parseYamlDocuments(
  text: string,
  options: { merge?: boolean } = {},
): Document.Parsed<ParsedNode>[] {
  const documents = parseAllDocuments(text, { prettyErrors: false, ...options, uniqueKeys: false });
  for (const document of documents) {
    const repeated = duplicateKeyErrors(document);
    if (repeated.length === 0) continue;
    document.errors.push(...repeated);
    document.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  }
  return documents;
}

/**
 * A parse error for each key of a mapping that repeats an earlier key of it (scalar keys, compared by value as
 * the YAML parser does; merge keys `<<` are each a value of their own, so they may repeat).
 */
function duplicateKeyErrors(document: Document.Parsed): YAMLParseError[] {
  const errors: YAMLParseError[] = [];
  visit(document, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        if (seen.has(pair.key.value)) {
          const at = pair.key.range?.[0] ?? 0;
          errors.push(new YAMLParseError([at, at + 1], 'DUPLICATE_KEY', 'Map keys must be unique'));
        }
        seen.add(pair.key.value);
      }
    },
  });
  return errors;
}

/**
 * Parses and validates the text of a Score file (`apiVersion: score.dev/v1b1`). Every problem is reported at
 * once with the line and column of the node it concerns: YAML syntax errors, a second YAML document, schema
 * violations (for a missing key: the mapping that lacks it; for an unknown key: the key itself),
 * placeholders that name an undeclared resource, a missing metadata key or an unknown root, resource params
 * that form a cycle (`a -> b -> a`, at the placeholder where it starts: see checkScoreResourceCycles), and
 * with `options.renderable` volume sources that are not a resource placeholder, at the source. Schema checks are
 * skipped while the YAML structure is broken (anything worse than a duplicate key), since they would mostly
 * restate the syntax error. `file` only labels the problems. Never throws for bad input: the result's
 * `workload` is set only when there are no problems.
 */
export function parseScore(text: string, file: string, options: ScoreCheckOptions = {}): ScoreParseResult {
  const lineCounter = lineCounterOf(text);
  let documents: Document.Parsed<ParsedNode>[];
  try {
    documents = parseYamlDocuments(text, { merge: true });
  } catch (error) {
    // The YAML parser recurses once per level of block nesting and overflows the stack on deep files.
    if (error instanceof RangeError) return { problems: [yamlTooDeepProblem(text, file)] };
    throw error;
  }
  const problems: ScoreProblem[] = [];
  const add = (position: YamlPosition, path: readonly PathSegment[], message: string) =>
    problems.push({ file, ...position, path: formatScorePath(path), message });

  const document = documents[0];
  if (document === undefined) {
    add(
      { line: 1, column: 1 },
      [],
      'the file is empty; a Score workload needs apiVersion, metadata and containers',
    );
    return { problems };
  }
  const locator = new YamlNodeLocator(text, lineCounter, document);

  const syntaxErrorAt = new Set<string>();
  let stackOverflowReported = false;
  let overflowProblem: ScoreProblem | undefined;
  for (const error of document.errors) {
    // The parser often reports one mistake twice at the same place; the first message is the clearer one.
    const key = String(error.pos[0]);
    if (syntaxErrorAt.has(key)) continue;
    syntaxErrorAt.add(key);
    // A stack overflow may be reported at several places, as many as the stack left room for: one is enough.
    const stackOverflow = /call stack/i.test(error.message);
    if (stackOverflow && stackOverflowReported) continue;
    stackOverflowReported ||= stackOverflow;
    const path = locator.pathAt(error.pos[0]);
    // An unclosed quote or bracket is noticed at the end of the file; point at where it was opened instead.
    const atEnd = error.code === 'MISSING_CHAR' || error.pos[0] >= text.length;
    const position =
      atEnd && path.length > 0 ? locator.locate(path, 'value') : locator.position(error.pos[0]);
    // The YAML parser gives up on very deep flow collections with the engine's stack overflow message.
    const message = stackOverflow
      ? `the YAML ${tooDeepMessage(MAX_NESTING_DEPTH)}`
      : `YAML syntax error: ${error.message}`;
    add(position, path, message);
    if (stackOverflow) overflowProblem = problems.at(-1);
  }
  // The checks below that find the value too deep say where more exactly: they replace the parser's overflow.
  const withoutOverflow = () => problems.filter((problem) => problem !== overflowProblem);
  const extra = documents[1];
  if (extra !== undefined) {
    add(
      locator.position(extra.range[0]),
      [],
      `a Score file holds one workload, but this is a second YAML document (after "---"); ` +
        'move it to a file of its own',
    );
  }

  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof RangeError)
      return { problems: sortProblems([...withoutOverflow(), yamlTooDeepProblem(text, file)]) };
    // An alias to an undefined anchor, or an alias bomb: nothing more can be checked.
    const alias = unresolvedAlias(document);
    const offset = alias?.range?.[0] ?? document.range[0];
    add(locator.position(offset), locator.pathAt(offset), `YAML error: ${(error as Error).message}`);
    return { problems: sortProblems(problems) };
  }

  // Nothing recursive (schema, placeholders) may see a value deep enough to exhaust the stack.
  const tooDeep = firstTooDeepValue(data);
  if (tooDeep) {
    add(locator.locate(tooDeep, 'value'), tooDeep, tooDeepMessage());
    return { problems: sortProblems(withoutOverflow()) };
  }

  // When the YAML structure itself is broken, the recovered tree is partly guesswork and schema problems would
  // mostly restate the syntax error; a duplicate key leaves the structure intact.
  const structureIntact = document.errors.every((error) => error.code === 'DUPLICATE_KEY');
  const parsed = ScoreWorkload.safeParse(data);
  if (!parsed.success && structureIntact) {
    for (const issue of parsed.error.issues) {
      for (const problem of problemsFromIssue(issue, [], data)) {
        add(locator.locate(problem.path, problem.at), problem.path, problem.message);
      }
    }
  }
  for (const problem of checkScorePlaceholders(data, options)) {
    const position = locator.locateInString(problem.path, problem.offset, problem.length);
    add(position, problem.path, problem.message);
  }
  // No platform can provision these: each resource's params wait for another's outputs.
  for (const problem of checkScoreResourceCycles(data)) {
    const position = locator.locateInString(problem.path, problem.offset, problem.length);
    add(position, problem.path, problem.message);
  }
  for (const { path, inKey } of stringsWhere(data, (text) => (text.includes('\0') ? true : undefined))) {
    add(
      locator.locate(path, inKey ? 'key' : 'value'),
      path,
      `${inKey ? 'the key contains' : 'contains'} a NUL character (U+0000); remove it: no name or value in Pave may hold one`,
    );
  }
  // Pave's own rule, on a valid spec: at the value, which is where the fix goes.
  if (parsed.success && options.renderable) {
    for (const problem of checkScoreVolumeSources(parsed.data)) {
      add(locator.locate(problem.path, 'value'), problem.path, problem.message);
    }
  }

  const sorted = sortProblems(problems);
  return parsed.success && sorted.length === 0
    ? { workload: parsed.data, problems: [] }
    : { problems: sorted };
}

/**
 * The problem to report for a YAML file nested too deep to parse (the parser overflowed the stack): at the
 * first line indented more than {@link MAX_NESTING_DEPTH} levels, or line 1 when the depth is in flow
 * collections.
 */
export function yamlTooDeepProblem(text: string, file: string): ScoreProblem {
  const indents: number[] = [];
  const lines = text.split('\n');
  let line = 1;
  for (let i = 0; i < lines.length; i++) {
    const content = lines[i]!;
    const indent = content.length - content.trimStart().length;
    if (content.trim() === '' || content.trimStart().startsWith('#')) continue;
    while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
    indents.push(indent);
    if (indents.length > MAX_NESTING_DEPTH) {
      line = i + 1;
      break;
    }
  }
  return { file, line, column: 1, path: ROOT_PATH, message: `the YAML ${tooDeepMessage()}` };
}

/** Renders a problem as one line: `file:line:column: json.path: message`. */
export function formatScoreProblem(problem: ScoreProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.path}: ${problem.message}`;
}

/**
 * Renders a path in a spec as a JSON path: names as `.name`, list items as `[0]`, and keys with other
 * characters quoted, e.g. `containers.web.files["/etc/app.conf"].content`. The empty path is `(root)`.
 */
export function formatScorePath(path: readonly PathSegment[]): string {
  if (path.length === 0) return ROOT_PATH;
  let result = '';
  for (const segment of path) {
    if (typeof segment === 'number') result += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/u.test(segment)) result += result === '' ? segment : `.${segment}`;
    else result += `[${JSON.stringify(segment)}]`;
  }
  return result;
}

function sortProblems(problems: ScoreProblem[]): ScoreProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((problem) => {
      const key = formatScoreProblem(problem);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.line - b.line || a.column - b.column);
}

// Zod issues into problems ----------------------------------------------------------------------------------

/**
 * Where a problem points: at the key of its path (unknown or badly named keys), at the value (wrong type or
 * format), or at the mapping the path ends in (a missing key, an object-level rule).
 */
export type YamlAnchor = 'key' | 'value' | 'parent';
type Anchor = YamlAnchor;

interface PathProblem {
  path: PathSegment[];
  at: Anchor;
  message: string;
}

const REQUIRED_HINTS: Record<string, string> = {
  apiVersion: 'add apiVersion: score.dev/v1b1',
  metadata: 'add metadata: with the workload name',
  containers: 'add containers: with at least one container and its image',
  image: 'the container image to run, e.g. nginx:1.27',
  type: 'the resource type, e.g. postgres',
  port: 'a port number from 1 to 65535',
  path: 'the HTTP path to probe, e.g. /healthz',
  command: 'the command to run, as a list of strings',
  source: 'the volume to mount, e.g. ${resources.data}',
  ready: 'one of started, healthy, complete',
  value: 'the header value',
};

function problemsFromIssue(issue: z.core.$ZodIssue, prefix: PathSegment[], data: unknown): PathProblem[] {
  const path = [...prefix, ...(issue.path as PathSegment[])];
  const value = valueAt(data, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: [...path, key],
        at: 'key' as const,
        message: `unknown key; ${issue.message}`,
      }));
    case 'invalid_union': {
      // files and volumes are a map or (deprecated) a list; report the branch that matches the value's type.
      const branch = issue.errors.find(
        (errors) => !errors.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
      );
      if (branch) return branch.flatMap((inner) => problemsFromIssue(inner, path, data));
      return [
        { path, at: 'value', message: `expected a map (or, deprecated, a list), got ${describe(value)}` },
      ];
    }
    case 'invalid_type': {
      const last = path[path.length - 1];
      const parent = valueAt(data, path.slice(0, -1));
      if (
        value === undefined &&
        typeof last === 'string' &&
        isObject(parent) &&
        !Object.hasOwn(parent, last)
      ) {
        const hint =
          last === 'name'
            ? path[0] === 'metadata'
              ? 'the workload name, an RFC 1123 label such as my-service'
              : 'the header name, e.g. X-Request-Id'
            : REQUIRED_HINTS[last];
        const message = `missing required key "${last}"${hint ? `: ${hint}` : ''}`;
        return [{ path: path.slice(0, -1), at: 'parent', message }];
      }
      return [{ path, at: 'value', message: typeMessage(issue.expected, value) }];
    }
    case 'invalid_value': {
      const options = issue.values.map((option) => JSON.stringify(option)).join(', ');
      const caseHint =
        typeof value === 'string' &&
        issue.values.some((option) => String(option).toLowerCase() === value.toLowerCase())
          ? ' (values are case-sensitive)'
          : '';
      return [{ path, at: 'value', message: `must be one of ${options}, got ${describe(value)}${caseHint}` }];
    }
    case 'custom': {
      const badKey = (issue.params as { scoreKey?: boolean } | undefined)?.scoreKey === true;
      return [{ path, at: badKey ? 'key' : isObject(value) ? 'parent' : 'value', message: issue.message }];
    }
    default:
      return [{ path, at: 'value', message: `${issue.message}${gotSuffix(value)}` }];
  }
}

/** What a value of each zod type is called in problems: `expected a map, got a list`. */
export const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map',
  record: 'a map',
  array: 'a list',
};

function typeMessage(expected: string, value: unknown): string {
  const wanted = TYPE_NAMES[expected] ?? expected;
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    return `expected a string, got the ${typeof value} ${String(value)}; put it in quotes: "${String(value)}"`;
  }
  if (value === null) return `expected ${wanted}, got an empty value`;
  return `expected ${wanted}, got ${describe(value)}`;
}

/** A YAML value as problems name it: `a list`, `"latest"`, `the number 3`, `an empty value`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return value.length > 60 ? 'a long string' : JSON.stringify(value);
  if (typeof value === 'number' && !Number.isInteger(value)) return `the number ${value}`;
  return `${typeof value === 'number' ? 'the number' : `the ${typeof value}`} ${String(value)}`;
}

function gotSuffix(value: unknown): string {
  return typeof value === 'string' && value.length <= 60 ? ` (got ${JSON.stringify(value)})` : '';
}

/** Whether a value is a YAML map (not a list, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path` in `data`, own properties only; undefined where the path leads nowhere. */
export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else if (isObject(value) && Object.hasOwn(value, segment)) value = value[String(segment)];
    else return undefined;
  }
  return value;
}

// Positions ------------------------------------------------------------------------------------------------

/** A 1-based line and column in a YAML text. */
export interface YamlPosition {
  line: number;
  column: number;
}

/** One step of a path resolved in the YAML tree: the key node (for map entries) and the value node. */
interface Step {
  key?: Node;
  value?: Node;
}

/**
 * Where the lines of `text` start, for turning a YAML parser's offsets into lines and columns. The parser's own
 * count (its `lineCounter` option) misses the line breaks inside a flow collection it cannot make sense of,
 * which would put every problem after one on the wrong line.
 */
export function lineCounterOf(text: string): LineCounter {
  const lineCounter = new LineCounter();
  lineCounter.addNewLine(0);
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) lineCounter.addNewLine(at + 1);
  return lineCounter;
}

/**
 * Finds the YAML nodes behind paths in one parsed document (aliases and `<<` merge keys included) and their
 * line and column: how Score files and resource definition files report problems as `file:line:column`.
 */
export class YamlNodeLocator {
  constructor(
    private readonly text: string,
    private readonly lineCounter: LineCounter,
    private readonly document: Document.Parsed,
  ) {}

  position(offset: number): YamlPosition {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /** The position a problem at `path` should point at; the nearest existing ancestor when `path` is absent. */
  locate(path: readonly PathSegment[], at: Anchor): YamlPosition {
    const steps = this.resolve(path);
    const complete = steps.length === path.length + 1;
    if (complete && at !== 'parent') {
      const step = steps[steps.length - 1] as Step;
      const node =
        at === 'key' ? (step.key ?? step.value) : isEmptyYamlNode(step.value) ? step.key : step.value;
      if (node) return this.nodeStart(node);
    }
    // A missing key or an object-level rule points at the mapping concerned (through the key that names it,
    // where there is one); so does a problem whose node the YAML tree lacks, e.g. one behind an alias.
    const owner = steps[steps.length - 1];
    const node = owner?.key ?? owner?.value;
    return node ? this.nodeStart(node) : this.documentStart();
  }

  /**
   * The position of a placeholder at `offset` (of `length` characters) inside the string at `path`: exact when
   * the placeholder appears verbatim in the YAML source (plain, literal and simple quoted scalars), otherwise
   * the start of the string.
   */
  locateInString(path: readonly PathSegment[], offset: number, length: number): YamlPosition {
    const steps = this.resolve(path);
    const step = steps[steps.length - 1];
    const node = steps.length === path.length + 1 ? step?.value : undefined;
    if (!node || !isScalar(node) || typeof node.value !== 'string' || !node.range)
      return this.locate(path, 'value');
    const value = node.value;
    const needle = value.slice(offset, offset + length);
    let occurrence = 0;
    for (
      let index = value.indexOf(needle);
      index >= 0 && index < offset;
      index = value.indexOf(needle, index + 1)
    ) {
      occurrence++;
    }
    const [start, end] = node.range;
    const source = this.text.slice(start, end);
    let found = -1;
    for (let seen = 0; seen <= occurrence; seen++) {
      found = source.indexOf(needle, found + 1);
      if (found < 0) break;
    }
    return found >= 0 ? this.position(start + found) : this.nodeStart(node);
  }

  /** The path of the innermost node at `offset`, for YAML syntax errors. */
  pathAt(offset: number): PathSegment[] {
    const path: PathSegment[] = [];
    let node: unknown = this.document.contents;
    // The last entry that holds `offset`: an entry's range ends where the next line, and so the next entry of a
    // mapping at column 1, starts.
    for (;;) {
      if (isMap(node)) {
        const pair = node.items.findLast((item) => {
          const end = (item.value as Node | null)?.range?.[2] ?? (item.key as Node | null)?.range?.[2];
          const start = (item.key as Node | null)?.range?.[0];
          return start !== undefined && end !== undefined && start <= offset && offset <= end;
        });
        if (!pair) return path;
        path.push(keyText(pair.key));
        node = pair.value;
      } else if (isSeq(node)) {
        const index = node.items.findLastIndex((item) => {
          const range = (item as Node | null)?.range;
          return range !== undefined && range !== null && range[0] <= offset && offset <= range[2];
        });
        if (index < 0) return path;
        path.push(index);
        node = node.items[index];
      } else {
        return path;
      }
    }
  }

  // Steps for each prefix of `path` (the first step is the document itself) as far as the YAML tree has them.
  private resolve(path: readonly PathSegment[]): Step[] {
    const root = this.document.contents ?? undefined;
    const steps: Step[] = [{ value: root }];
    let node: unknown = root;
    for (const segment of path) {
      node = this.deref(node);
      let step: Step | undefined;
      if (isMap(node)) step = this.findPair(node, String(segment), 0);
      else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (item) step = { value: item };
      }
      if (!step) break;
      steps.push(step);
      node = step.value;
    }
    return steps;
  }

  // The entry for `key` in a mapping, looking through `<<` merge keys as the YAML loader does. Of a key written
  // twice (a duplicate key, reported as such) the last one, whose value the loader keeps.
  private findPair(map: unknown, key: string, depth: number): Step | undefined {
    if (!isMap(map) || depth > 10) return undefined;
    const pair = map.items.findLast((item) => keyText(item.key) === key);
    if (pair) return { key: pair.key as Node, value: (pair.value as Node | null) ?? undefined };
    for (const pair of map.items) {
      if (!isScalar(pair.key) || pair.key.source !== '<<') continue;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const found = this.findPair(this.deref(source), key, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }

  private deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.document) : node;
  }

  private nodeStart(node: Node): YamlPosition {
    return node.range ? this.position(node.range[0]) : this.documentStart();
  }

  private documentStart(): YamlPosition {
    const contents = this.document.contents as ParsedNode | null;
    return contents?.range ? this.position(contents.range[0]) : { line: 1, column: 1 };
  }
}

/** The first alias of `document` to an anchor it does not define, to locate the problem at; none: undefined. */
export function unresolvedAlias(document: Document.Parsed): Node | undefined {
  let found: Node | undefined;
  visit(document, {
    Alias(_key, alias) {
      if (alias.resolve(document) !== undefined) return undefined;
      found = alias;
      return visit.BREAK;
    },
  });
  return found;
}

/** Whether a YAML node is absent or an empty value (`key:` with nothing after it, an empty document). */
export function isEmptyYamlNode(node: Node | undefined): boolean {
  return (
    node === undefined ||
    (isScalar(node) && node.value === null && (node.range?.[0] ?? 0) === node.range?.[1])
  );
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}
