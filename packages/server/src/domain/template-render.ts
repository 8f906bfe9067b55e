import { createHash } from 'node:crypto';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import nunjucks from 'nunjucks';
import {
  isDnsLabel,
  jsonPointer,
  DNS_LABEL_RULE,
  type FieldProblem,
  type RenderedFile,
  type RenderedSetup,
  type Template,
  type TemplateAnswers,
  type TemplateParameters,
} from '@pave/core';

/*
 * The pure half of templates: checking a template's parameters (a JSON Schema, compiled with Ajv), checking
 * answers against them, and rendering its files and setup with Nunjucks. Nothing here touches the store.
 */

/*
 * Nunjucks has no sandbox: a member lookup reaches any JavaScript property, so `{{ range.constructor("return
 * process")() }}` would run code in the server, with its keys and its database. Rendering looks every name and
 * member up through two functions of the runtime the compiled templates share; they are replaced here, once,
 * by ones that keep a template to its data: names are the answers, `{% set %}` variables and Nunjucks'
 * globals (never what objects inherit, such as `constructor`), and no member leads to a prototype, a
 * constructor or into a function. Strings' and lists' own methods (`name.toUpperCase()`) stay usable.
 */
const HIDDEN_MEMBERS: ReadonlySet<string> = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/**
 * A template reached for something outside its data (see HIDDEN_MEMBERS). Nunjucks keeps only the text of
 * what a lookup throws, so the member is named in it, in backticks, for nunjucksProblem to find.
 */
class TemplateSandboxError extends Error {
  override name = 'TemplateSandboxError';
  constructor(member: string, ofFunction = false) {
    super(
      `\`${member}\`${ofFunction ? ' of a function' : ''} is not available: templates see only their answers ` +
        "and Nunjucks' own globals",
    );
  }
}

interface NunjucksScope {
  lookup(name: string): unknown;
}

const runtime = nunjucks.runtime as unknown as {
  memberLookup(object: unknown, member: unknown): unknown;
  contextOrFrameLookup(
    context: NunjucksScope & { ctx: object; env: { globals: object } },
    frame: NunjucksScope,
    name: string,
  ): unknown;
};
const memberLookup = runtime.memberLookup;
runtime.memberLookup = (object, member) => {
  const name = String(member);
  if (typeof object === 'function') throw new TemplateSandboxError(name, true);
  if (HIDDEN_MEMBERS.has(name)) throw new TemplateSandboxError(name);
  return memberLookup(object, member);
};
runtime.contextOrFrameLookup = (context, frame, name) => {
  const value = frame.lookup(name);
  if (value !== undefined) return value;
  if (Object.hasOwn(context.ctx, name)) return (context.ctx as Record<string, unknown>)[name];
  if (Object.hasOwn(context.env.globals, name)) return (context.env.globals as Record<string, unknown>)[name];
  if (HIDDEN_MEMBERS.has(name) || name in context.ctx) throw new TemplateSandboxError(name);
  return undefined;
};

/** The most items one `range()` may make: a bigger one is refused rather than allocated. */
export const RANGE_ITEMS_LIMIT = 100_000;
/** The most bytes one rendering of a template may produce: its paths, files and setup together. */
export const OUTPUT_BYTES_LIMIT = 10 * 1024 * 1024;

/**
 * A step of checking or rendering a template that runs its author's loops or patterns, told before it is
 * taken (see template-jobs.ts: a job stopped at its time limit says where it was).
 */
export interface TemplateStep {
  stage: 'parameters' | 'samples' | 'answers' | 'render';
  /** A JSON pointer into the template (`/files/3/content`) or the answers (`/answers/name`). */
  path: string;
  /** What the step works on, as a reader knows it: a file's path, `setup.app`, a parameter's name. */
  subject: string;
}

/** Told each step before it is taken. */
export type StepObserver = (step: TemplateStep) => void;

const unobserved: StepObserver = () => undefined;

/** Nunjucks' `range()`, refusing to make more than RANGE_ITEMS_LIMIT items. */
function boundedRange(range: (start: number, stop?: number, step?: number) => number[]) {
  return (...args: unknown[]): number[] => {
    const [start = 0, stop, step] = args.map((arg) => (arg === undefined ? undefined : Number(arg)));
    const [from, to, by] = stop === undefined ? [0, start, 1] : [start, stop, step || 1];
    const items = Math.ceil((to - from) / by);
    if (items > RANGE_ITEMS_LIMIT) {
      throw new Error(
        `range(${args.join(', ')}) would make ${items} items; templates may make at most ` +
          `${RANGE_ITEMS_LIMIT} at once: loop over fewer`,
      );
    }
    return range(start, stop, step);
  };
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true });
  addFormats(ajv);
  return ajv;
}

/** How many templates' compiled parameters a worker keeps (compiling is most of the time of a render). */
const COMPILED_PARAMETERS_KEPT = 50;
/** Compiled parameters by a hash of their exact JSON text, the least recently used first. */
const compiled = new Map<string, ValidateFunction>();

/**
 * `parameters` compiled with Ajv, from the cache when the very same parameters (by their JSON text, not the
 * template's id: another version or tenant has other parameters) were compiled before. Each compiles with
 * an Ajv of its own, so that no schema (an `$id`, say) is shared between templates. A compiled function keeps
 * nothing between calls but `errors`, which each call replaces; defaults are filled in as fresh copies.
 * Throws what Ajv throws for parameters that do not compile (never cached).
 */
function compiledParameters(parameters: TemplateParameters): ValidateFunction {
  const key = createHash('sha256').update(JSON.stringify(parameters)).digest('hex');
  let validate = compiled.get(key);
  if (validate) {
    compiled.delete(key);
  } else {
    validate = newAjv().compile(parameters);
    if (compiled.size >= COMPILED_PARAMETERS_KEPT) compiled.delete(compiled.keys().next().value!);
  }
  compiled.set(key, validate);
  return validate;
}

/**
 * Every problem of a template's parameters as a JSON Schema, as JSON pointers into the template: keywords
 * with wrong values (a type that does not exist, a default of the wrong shape is not checked), patterns that
 * are not regular expressions, `required` naming no property.
 */
export function parameterProblems(parameters: TemplateParameters): FieldProblem[] {
  const ajv = newAjv();
  if (!ajv.validateSchema(parameters)) {
    return (ajv.errors ?? []).map((error) => ({
      path: `/parameters${error.instancePath}`,
      message: `${error.message ?? 'is invalid'} (${error.keyword}); see https://json-schema.org/understanding-json-schema`,
    }));
  }
  const problems: FieldProblem[] = [];
  try {
    ajv.compile(parameters);
  } catch (error) {
    problems.push({ path: '/parameters', message: `does not compile: ${(error as Error).message}` });
  }
  for (const [index, name] of (parameters.required ?? []).entries()) {
    if (!(name in parameters.properties)) {
      problems.push({
        path: `/parameters/required/${index}`,
        message: `"${name}" is not one of the properties; declare it under properties, or drop it here`,
      });
    }
  }
  return problems;
}

/**
 * Answers that exercise every parameter, to render a template with when it is applied: each parameter's
 * default, else its first enum value (or const), else a sample of its type that fits its pattern when one of
 * a few candidates does.
 */
function sampleAnswers(parameters: TemplateParameters, onStep: StepObserver = unobserved): TemplateAnswers {
  return Object.fromEntries(
    Object.entries(parameters.properties).map(([name, schema]) => {
      if (typeof schema.pattern === 'string') {
        onStep({ stage: 'samples', path: `/parameters/properties/${name}/pattern`, subject: name });
      }
      return [name, sampleOf(schema)];
    }),
  );
}

function sampleOf(schema: Record<string, unknown>): unknown {
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if ('const' in schema) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return sampleString(schema);
  }
}

function sampleString(schema: Record<string, unknown>): string {
  if (schema.format === 'email') return 'someone@example.com';
  if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com/';
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const candidates = ['sample', 'example', 'a', 'sample-1', 'Sample', '1', 'x1'].map((text) =>
    text.padEnd(minLength, 'x'),
  );
  if (typeof schema.pattern !== 'string') return candidates[0]!;
  try {
    const pattern = new RegExp(schema.pattern, 'u');
    return candidates.find((text) => pattern.test(text)) ?? candidates[0]!;
  } catch {
    return candidates[0]!;
  }
}

/**
 * Checks answers against a template's parameters. Resolves to the answers with defaults filled in, or to
 * every problem, each at `/answers/<parameter>` and worded `<parameter>: <what is wrong> (<schema rule>)`,
 * e.g. `port: must be integer (type)`.
 */
export function checkAnswers(
  parameters: TemplateParameters,
  answers: TemplateAnswers,
  onStep: StepObserver = unobserved,
): { answers: TemplateAnswers; problems: FieldProblem[] } {
  let validate: ValidateFunction;
  onStep({ stage: 'parameters', path: '/parameters', subject: 'parameters' });
  try {
    validate = compiledParameters(parameters);
  } catch (error) {
    return {
      answers,
      problems: [{ path: '/parameters', message: `does not compile: ${(error as Error).message}` }],
    };
  }
  // Ajv matches every pattern in one call; matching each answer to its own pattern first lets a job stopped
  // in a pattern that backtracks say which one.
  for (const [name, schema] of Object.entries(parameters.properties)) {
    const answer = answers[name];
    if (typeof schema.pattern !== 'string' || typeof answer !== 'string') continue;
    onStep({ stage: 'answers', path: `/answers/${name}`, subject: name });
    try {
      new RegExp(schema.pattern, 'u').test(answer);
    } catch {
      // Ajv reports a pattern that does not compile.
    }
  }
  onStep({ stage: 'answers', path: '/answers', subject: 'answers' });
  const filled = structuredClone(answers);
  // An answer to no question is a typo (`titel`), as `pave templates … --set` says, unless the template
  // takes more answers than it names (its own `additionalProperties`).
  const names = Object.keys(parameters.properties);
  const unknown =
    parameters.additionalProperties === undefined
      ? Object.keys(answers).filter((name) => !Object.hasOwn(parameters.properties, name))
      : [];
  const problems = [
    ...unknown.map((name) => ({
      path: jsonPointer(['answers', name]),
      message: `${name}: is not a parameter of this template; its parameters: ${names.join(', ') || '(none)'}`,
    })),
    ...(validate(filled) ? [] : (validate.errors ?? []).map(answerProblem)),
  ];
  return { answers: filled, problems };
}

function answerProblem(error: ErrorObject): FieldProblem {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    const name = String(params.missingProperty);
    return {
      path: `/answers/${name}`,
      message: `${name}: is required (required); give it with --set ${name}=…`,
    };
  }
  if (error.keyword === 'additionalProperties') {
    const name = String(params.additionalProperty);
    return {
      path: `/answers/${name}`,
      message: `${name}: is not a parameter of this template (additionalProperties)`,
    };
  }
  const name = error.instancePath.split('/')[1] ?? '';
  const allowed = error.keyword === 'enum' ? `: ${(params.allowedValues as unknown[]).join(', ')}` : '';
  return {
    path: `/answers${error.instancePath}`,
    message: `${name || '(answers)'}: ${error.message ?? 'is invalid'}${allowed} (${error.keyword})`,
  };
}

/** The problems of a template's parameters; when there is none, those of rendering it with sample answers. */
export interface TemplateCheck {
  parameterProblems: FieldProblem[];
  renderProblems: FieldProblem[];
}

/**
 * The problems a template has when it is applied, as far as rendering finds them: its parameters as a JSON
 * Schema, else every path and file rendered with sample answers. `onStep` is told each step first.
 */
export function checkTemplateRendering(template: Template, onStep: StepObserver = unobserved): TemplateCheck {
  onStep({ stage: 'parameters', path: '/parameters', subject: 'parameters' });
  const problems = parameterProblems(template.parameters);
  if (problems.length) return { parameterProblems: problems, renderProblems: [] };
  const answers = sampleAnswers(template.parameters, onStep);
  return { parameterProblems: [], renderProblems: renderTemplateFiles(template, answers, onStep).problems };
}

/** What checking answers and rendering a template with them gives. */
export interface AnswersRendering {
  /** The answers with defaults filled in. */
  answers: TemplateAnswers;
  /** Why the answers do not fit the parameters; when there is any, nothing was rendered. */
  answerProblems: FieldProblem[];
  /** The rendering; its problems include an app id that is not a DNS label. */
  rendering?: Rendering;
}

/** Checks `given` answers against a template's parameters and renders it with them (see checkAnswers). */
export function renderWithAnswers(
  template: Template,
  given: TemplateAnswers,
  onStep: StepObserver = unobserved,
): AnswersRendering {
  const { answers, problems } = checkAnswers(template.parameters, given, onStep);
  if (problems.length) return { answers, answerProblems: problems };
  const rendering = renderTemplateFiles(template, answers, onStep);
  rendering.problems.push(...renderedSetupProblems(rendering));
  return { answers, answerProblems: [], rendering };
}

/** What rendering a template gives: the files and setup, or the problems that stopped it. */
export interface Rendering {
  files: RenderedFile[];
  setup: RenderedSetup;
  problems: FieldProblem[];
}

/**
 * The only loader templates get: every file lives in the template itself. (Without a loader Nunjucks reads
 * `views/` under the server's working directory, and `../` names reach beside it.)
 */
const noFiles = {
  getSource(name: string): never {
    throw new Error(
      `templates cannot include, import or extend other files ("${name}"): put the text in this file, ` +
        'or use a {% macro %} defined here',
    );
  },
};

const SCORE_FILE = /(^|\/)(score\.ya?ml|[^/]+\.score\.ya?ml)$/u;

/**
 * Renders every file path and text file of a template, and the expressions of its setup, with Nunjucks
 * (`throwOnUndefined`: a variable that is not an answer fails). Problems point into the template
 * (`/files/3/content`) and say which file, line and column: `src/server.js:12:5: {{ nme }} is undefined`.
 * Binary files are copied as they are. Nothing is thrown for a bad template. `range()` makes at most
 * RANGE_ITEMS_LIMIT items, and what is rendered after OUTPUT_BYTES_LIMIT bytes is a problem, not output;
 * `onStep` is told each path, file and expression before it is rendered.
 */
export function renderTemplateFiles(
  template: Template,
  answers: TemplateAnswers,
  onStep: StepObserver = unobserved,
): Rendering {
  const env = new nunjucks.Environment([noFiles], { autoescape: false, throwOnUndefined: true });
  env.addGlobal('range', boundedRange(env.getGlobal('range') as Parameters<typeof boundedRange>[0]));
  const problems: FieldProblem[] = [];
  let output = 0;
  const render = (text: string, name: string, pointer: string): string => {
    if (output > OUTPUT_BYTES_LIMIT) return '';
    onStep({ stage: 'render', path: pointer, subject: name });
    let rendered: string;
    try {
      rendered = new nunjucks.Template(text, env, name, true).render(answers);
    } catch (error) {
      // A string longer than V8 allows: far more than the limit.
      if (!/Invalid string length/u.test(String(error))) {
        problems.push({ path: pointer, message: nunjucksProblem(error, text, name) });
        return '';
      }
      rendered = '';
      output = Infinity;
    }
    output += Buffer.byteLength(rendered);
    if (output <= OUTPUT_BYTES_LIMIT) return rendered;
    problems.push({
      path: pointer,
      message:
        `${name}: produced more than ${OUTPUT_BYTES_LIMIT} bytes (${OUTPUT_BYTES_LIMIT / 1024 / 1024} MiB), ` +
        'counting what was rendered before it; templates may produce at most that: look for a loop that ' +
        'repeats too much text',
    });
    return '';
  };
  const files: RenderedFile[] = [];
  const seen = new Map<string, number>();
  template.files.forEach((file, index) => {
    const path = withoutDotSegments(render(file.path, file.path, `/files/${index}/path`).trim());
    if (!path) return;
    const earlier = seen.get(path);
    if (earlier !== undefined) {
      problems.push({
        path: `/files/${index}/path`,
        message: `${path} is also generated by /files/${earlier}; each path may be generated once`,
      });
      return;
    }
    const problem = pathProblem(path);
    if (problem) {
      problems.push({ path: `/files/${index}/path`, message: `renders to "${path}", ${problem}` });
      return;
    }
    seen.set(path, index);
    const executable = file.executable ? { executable: true } : {};
    if (file.binaryContent !== undefined) {
      files.push({ path, binaryContent: file.binaryContent, ...executable });
    } else {
      files.push({
        path,
        content: render(file.content ?? '', file.path, `/files/${index}/content`),
        ...executable,
      });
    }
  });
  problems.push(...fileDirectoryClashes(files, seen));
  const { setup } = template;
  const app = render(setup.app, 'setup.app', '/setup/app').trim();
  const values = setup.values.map((value, index) => ({
    key: value.key,
    secret: value.secret === true,
    ...(value.value !== undefined
      ? { value: render(value.value, `setup.values[${index}]`, `/setup/values/${index}/value`) }
      : {}),
    ...(value.description !== undefined ? { description: value.description } : {}),
  }));
  const prepare = setup.prepare.map((command, index) =>
    render(command, `setup.prepare[${index}]`, `/setup/prepare/${index}`),
  );
  const score = setup.score ?? files.filter((file) => SCORE_FILE.test(file.path)).map((file) => file.path);
  // Named Score files are deployed from the project: each must be one the template makes.
  const made = new Set(files.map((file) => file.path));
  (setup.score ?? []).forEach((path, index) => {
    if (made.has(withoutDotSegments(path))) return;
    problems.push({
      path: `/setup/score/${index}`,
      message:
        `"${path}" is not a file the template makes, so nothing could deploy it; add it to the template's ` +
        `files (${[...made].filter((file) => SCORE_FILE.test(file)).join(', ') || 'it makes no Score file'}), or name one it makes`,
    });
  });
  return {
    files,
    setup: {
      app,
      environments: setup.environments,
      values,
      prepare,
      score,
      deploy: setup.deploy,
    },
    problems,
  };
}

/**
 * Why a rendered file path may not be written, or undefined when it may. `pave init` writes the files and then
 * runs git in the directory: a file under `.git` (a hook, `core.fsmonitor` in its config) would run commands
 * there, even with `--no-deploy`, so no segment may be `.git` (in any case, as case-insensitive file systems
 * see it).
 */
function pathProblem(path: string): string | undefined {
  const parts = path.split('/');
  if (path.startsWith('/') || parts.some((part) => part === '..' || part === '')) {
    return 'which is not a relative path inside the project (no leading "/", no ".." and no empty segment)';
  }
  if (parts.some((part) => part.toLowerCase() === '.git')) {
    return "which is inside .git: git's own files (hooks, config) may run commands, so a template may not write them";
  }
  return undefined;
}

/** `path` without its `.` segments (`./README.md` is `README.md`), so that one file has one path. */
function withoutDotSegments(path: string): string {
  if (path.startsWith('/')) return path;
  return path
    .split('/')
    .filter((part) => part !== '.')
    .join('/');
}

/** A file whose path is also a directory of another file (`lib` and `lib/index.js`): both cannot be written. */
function fileDirectoryClashes(files: readonly RenderedFile[], indexes: Map<string, number>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const file of files) {
    const parts = file.path.split('/');
    for (let length = 1; length < parts.length; length++) {
      const directory = parts.slice(0, length).join('/');
      const clash = indexes.get(directory);
      if (clash === undefined) continue;
      problems.push({
        path: `/files/${indexes.get(file.path)!}/path`,
        message: `${file.path} needs the directory ${directory}, but /files/${clash} generates the file ${directory}; rename one`,
      });
      break;
    }
  }
  return problems;
}

/** Problems of a rendered setup that only answers can cause: an app id that is not a DNS label. */
function renderedSetupProblems(rendering: Rendering): FieldProblem[] {
  const { app } = rendering.setup;
  if (isDnsLabel(app)) return [];
  return [{ path: '/setup/app', message: `the app id renders to "${app}", which ${DNS_LABEL_RULE}` }];
}

/**
 * A Nunjucks error as `name:line:column: message`. Nunjucks puts the position in the message text
 * (`(name) [Line 2, Column 3]\n  message`); for an undefined value the expression at that position is named.
 */
export function nunjucksProblem(error: unknown, text: string, name: string): string {
  const raw = error instanceof Error ? error.message : String(error);
  const sandbox = /TemplateSandboxError: (`([^`]*)`.*)$/su.exec(raw);
  if (sandbox) {
    // Nunjucks gives no position for errors of lookups: the first place the text names the member is it.
    const [, message, member = ''] = sandbox;
    const literal = member.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
    const at = new RegExp(`(?<![\\w$])${literal}(?![\\w$])`, 'u').exec(text)?.index;
    if (at === undefined) return `${name}: ${message}`;
    return `${name}:${positionIn(text, at)}: ${message}`;
  }
  const filter = /filter not found: ([\w$]+)/u.exec(raw);
  if (filter) {
    // Nor for an unknown filter: the first use of it (`| name`) is it.
    const [message, filterName = ''] = filter;
    const advice =
      "use one of Nunjucks' built-in filters (https://mozilla.github.io/nunjucks/templating.html#builtin-filters)";
    const at = new RegExp(`\\|\\s*(?=${filterName.replaceAll('$', '\\$')}(?![\\w$]))`, 'u').exec(text);
    if (!at) return `${name}: ${message}; ${advice}`;
    return `${name}:${positionIn(text, at.index + at[0].length)}: ${message}; ${advice}`;
  }
  const position = /\[Line (\d+), Column (\d+)\]/u.exec(raw);
  const detail = (raw.split('\n').slice(1).join(' ').trim() || raw).replace(/^Error: /u, '');
  if (!position) {
    // A block left open is found at the end of the text.
    if (/end of file/u.test(detail)) return `${name}:${text.split('\n').length}:1: ${detail}`;
    return `${name}: ${detail}`;
  }
  // What a function or filter throws while rendering (`Error: …`, `RangeError: …`) is placed 0-based by
  // Nunjucks' runtime; its parser and its undefined-value check count from 1.
  const fromZero = /^\w*Error: /u.test(raw.split('\n').slice(1).join(' ').trim()) ? 1 : 0;
  const line = Number(position[1]) + fromZero;
  const column = Number(position[2]) + fromZero;
  if (/undefined value/u.test(detail)) {
    const source = text.split('\n')[line - 1] ?? '';
    const expression = /\{\{.*?\}\}/u.exec(source.slice(Math.max(0, column - 3)))?.[0];
    return (
      `${name}:${line}:${column}: ${expression ?? 'a value'} is undefined; ` +
      'use a parameter of the template (or give it a default, or guard it with {% if %})'
    );
  }
  if (/^RangeError: Maximum call stack size exceeded/u.test(detail)) {
    return (
      `${name}:${line}:${column}: calls itself without end (a macro that calls itself needs a condition ` +
      'that stops it, e.g. {% if n < 10 %})'
    );
  }
  return `${name}:${line}:${column}: ${detail}`;
}

/** The `line:column` (both from 1) of the character at `index` of `text`. */
function positionIn(text: string, index: number): string {
  const before = text.slice(0, index).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}
