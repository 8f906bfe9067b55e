/*
 * Score placeholders: `${metadata.name}` and `${resources.db.host}` inside strings, with the rules of score-go
 * (framework/substitution.go): `$${…}` is the literal text `${…}`, copied as it is up to the first `}`; any
 * other `$$` is a literal `$`; a `$` followed by anything else stays as it is; and the reference between the
 * braces is split on dots, where `\.` is a dot inside a key (`${metadata.annotations.example\.com/team}`).
 * Pave is stricter than score-go in one place: a `${` without a closing `}` is an error, where score-go would
 * leave the text as it is.
 */

/** One `${…}` placeholder found in a string. */
export interface Placeholder {
  /** Offset of its `$` in the string. */
  start: number;
  /** Offset just past its `}`. */
  end: number;
  /** The text between the braces, as written (an escaped dot keeps its backslash). */
  ref: string;
  /** `ref` split on unescaped dots, each `\.` turned into `.`: `resources.db.host` gives resources, db, host. */
  parts: string[];
}

/** What {@link findPlaceholders} found in a string. */
export interface PlaceholderScan {
  /** The placeholders, in order. */
  placeholders: Placeholder[];
  /** Offset of a `${` that has no closing `}`; scanning stops there. Absent when every `${` is closed. */
  unterminated?: number;
}

/** A string that cannot be substituted because a `${` in it is never closed; `offset` is where it starts. */
export class PlaceholderSyntaxError extends Error {
  override name = 'PlaceholderSyntaxError';
  constructor(readonly offset: number) {
    super(`"\${" at offset ${offset} has no closing "}"; write $\${ for a literal \${`);
  }
}

/** Splits a placeholder reference on unescaped dots: `a.b\.c.d` gives a, b.c, d. */
export function splitPlaceholderRef(ref: string): string[] {
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < ref.length; i++) {
    const char = ref[i];
    if (char === '\\' && ref[i + 1] === '.') {
      part += '.';
      i++;
    } else if (char === '.') {
      parts.push(part);
      part = '';
    } else {
      part += char;
    }
  }
  parts.push(part);
  return parts;
}

/** Finds the placeholders of `text` with their offsets; escaped ones (`$${…}`, `$$`) are skipped. */
export function findPlaceholders(text: string): PlaceholderScan {
  const placeholders: Placeholder[] = [];
  let unterminated: number | undefined;
  scan(
    text,
    () => undefined,
    (placeholder) => void placeholders.push(placeholder),
    (offset) => void (unterminated = offset),
  );
  return unterminated === undefined ? { placeholders } : { placeholders, unterminated };
}

/**
 * Replaces each placeholder of `text` with what `resolve` returns for it, and undoes the escapes (`$${…}` gives
 * `${…}`, `$$` gives `$`). Errors thrown by `resolve` propagate; a `${` without a closing `}` throws
 * {@link PlaceholderSyntaxError}.
 */
export function substitutePlaceholders(
  text: string,
  resolve: (parts: string[], placeholder: Placeholder) => string,
): string {
  let result = '';
  scan(
    text,
    (literal) => void (result += literal),
    (placeholder) => void (result += resolve(placeholder.parts, placeholder)),
    (offset) => {
      throw new PlaceholderSyntaxError(offset);
    },
  );
  return result;
}

// The one tokenizer behind find and substitute, matching score-go's `\$((?:\$?{([^}]*)})|\$)`: literal text
// (escapes already undone), placeholders, and the offset of an unterminated `${`, after which nothing more is
// reported.
function scan(
  text: string,
  onText: (literal: string) => void,
  onPlaceholder: (placeholder: Placeholder) => void,
  onUnterminated: (offset: number) => void,
): void {
  let position = 0;
  for (;;) {
    const dollar = text.indexOf('$', position);
    if (dollar < 0) {
      onText(text.slice(position));
      return;
    }
    onText(text.slice(position, dollar));
    const next = text[dollar + 1];
    if (next === '{') {
      const close = text.indexOf('}', dollar + 2);
      if (close < 0) {
        onUnterminated(dollar);
        return;
      }
      const ref = text.slice(dollar + 2, close);
      onPlaceholder({ start: dollar, end: close + 1, ref, parts: splitPlaceholderRef(ref) });
      position = close + 1;
    } else if (next === '$') {
      const close = text[dollar + 2] === '{' ? text.indexOf('}', dollar + 3) : -1;
      if (close >= 0) {
        onText(text.slice(dollar + 1, close + 1));
        position = close + 1;
      } else {
        onText('$');
        position = dollar + 2;
      }
    } else {
      onText('$');
      position = dollar + 1;
    }
  }
}

/**
 * What a `${resources.…}` placeholder names, by score-go's rule: `${resources.NAME}` is every output of the
 * resource (as a JSON object, see {@link resourceOutputsJson}), `${resources.NAME.OUTPUT}` one output. Pave's
 * resource outputs are strings, so nothing may follow an output.
 */
export type ResourceReference = { resource: string; output?: string } | { problem: string };

/**
 * The resource (and output) that a placeholder of parts `resources`, NAME, … names, or the problem with it,
 * worded as the other placeholder problems (the placeholder, then what is wrong and how to fix it): what
 * `pave validate` (checkScorePlaceholders) and the server's render both apply.
 */
export function resourceReference(parts: readonly string[]): ResourceReference {
  const [, resource, output, extra] = parts;
  const text = `\${${parts.map(escapeRefPart).join('.')}}`;
  if (resource === undefined) {
    return {
      problem:
        `${text} needs a resource name: \${resources.NAME.OUTPUT} for one output (e.g. ` +
        '${resources.db.host}), or ${resources.NAME} for every output as JSON',
    };
  }
  if (output === undefined) return { resource };
  if (extra !== undefined) {
    const single = ['resources', resource, output].map(escapeRefPart).join('.');
    const whole = ['resources', resource].map(escapeRefPart).join('.');
    return {
      problem:
        `${text}: ${single} is an output, and outputs are strings, so it has no key "${extra}"; write ` +
        `\${${single}} for the output, or \${${whole}} for every output as JSON`,
    };
  }
  return { resource, output };
}

/** What `${resources.NAME}` expands to: the resource's outputs as a JSON object, keys sorted (as score-go's). */
export function resourceOutputsJson(outputs: Readonly<Record<string, string>>): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(outputs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  );
}

// A part of a reference as it is written: a dot inside it escaped.
function escapeRefPart(part: string): string {
  return part.replaceAll('.', '\\.');
}

/** What else to check placeholders against. */
export interface PlaceholderCheckOptions {
  /**
   * The keys of the values of the environment being deployed to: a `${resources.R.KEY}` where R is an
   * `environment` resource must name one of them.
   */
  environmentKeys?: ReadonlySet<string>;
}

/** A placeholder problem in a Score spec: the path of the string that holds it and what is wrong. */
export interface PlaceholderProblem {
  /** Path of the string in the spec, e.g. containers, web, variables, DB_HOST. */
  path: (string | number)[];
  /** What is wrong and how to fix it. */
  message: string;
  /** Offset of the placeholder (or of the unclosed `${`) in the string. */
  offset: number;
  /** Length of the placeholder text in the string (2 for an unclosed `${`). */
  length: number;
}

type Json = Record<string, unknown>;

function isMap(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the placeholders of a Score spec where Score expands them: container variables, file content (unless
 * `noExpand`) and source, volume source, and resource params (every string inside them). Command, args and
 * image are not expanded, so they are not checked. A placeholder must be `${metadata.KEY…}` naming a key that
 * exists in metadata, or `${resources.NAME…}` naming a declared resource; the resource's outputs depend on its
 * provisioner and are not checked here. `spec` may be any parsed YAML: parts that do not have the shape of a
 * Score workload are skipped (the schema reports them). The result is empty when every placeholder is valid.
 */
export function checkScorePlaceholders(
  spec: unknown,
  options: PlaceholderCheckOptions = {},
): PlaceholderProblem[] {
  if (!isMap(spec)) return [];
  const metadata = isMap(spec.metadata) ? spec.metadata : {};
  const resources = isMap(spec.resources) ? Object.keys(spec.resources) : [];
  const environmentResources = new Set(
    Object.entries(isMap(spec.resources) ? spec.resources : {})
      .filter(([, resource]) => isMap(resource) && resource.type === 'environment')
      .map(([name]) => name),
  );
  const problems: PlaceholderProblem[] = [];
  const missingValue = (placeholder: Placeholder): string | undefined => {
    const [root, resource, key] = placeholder.parts;
    if (!options.environmentKeys || root !== 'resources' || key === undefined) return undefined;
    if (!resource || !environmentResources.has(resource) || options.environmentKeys.has(key))
      return undefined;
    return `the environment has no value ${key}; set it with \`pave values set ${key}=…\``;
  };

  const check = (value: unknown, path: (string | number)[]) => {
    if (typeof value !== 'string') return;
    const { placeholders, unterminated } = findPlaceholders(value);
    for (const placeholder of placeholders) {
      const message = placeholderError(placeholder, metadata, resources) ?? missingValue(placeholder);
      if (message) {
        problems.push({
          path,
          message,
          offset: placeholder.start,
          length: placeholder.end - placeholder.start,
        });
      }
    }
    if (unterminated !== undefined) {
      problems.push({
        path,
        message: '"${" has no closing "}"; close the placeholder, or write $${ for a literal ${',
        offset: unterminated,
        length: 2,
      });
    }
  };
  const checkDeep = (value: unknown, path: (string | number)[]) => {
    if (Array.isArray(value)) value.forEach((item, index) => checkDeep(item, [...path, index]));
    else if (isMap(value)) for (const [key, item] of Object.entries(value)) checkDeep(item, [...path, key]);
    else check(value, path);
  };
  const entries = (value: unknown): [string | number, unknown][] =>
    Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : isMap(value)
        ? Object.entries(value)
        : [];

  if (isMap(spec.containers)) {
    for (const [name, container] of Object.entries(spec.containers)) {
      if (!isMap(container)) continue;
      const at = ['containers', name];
      if (isMap(container.variables)) {
        for (const [key, value] of Object.entries(container.variables))
          check(value, [...at, 'variables', key]);
      }
      for (const [key, file] of entries(container.files)) {
        if (!isMap(file)) continue;
        if (file.noExpand !== true) check(file.content, [...at, 'files', key, 'content']);
        check(file.source, [...at, 'files', key, 'source']);
      }
      for (const [key, volume] of entries(container.volumes)) {
        if (isMap(volume)) check(volume.source, [...at, 'volumes', key, 'source']);
      }
    }
  }
  if (isMap(spec.resources)) {
    for (const [name, resource] of Object.entries(spec.resources)) {
      if (isMap(resource) && resource.params !== undefined) {
        checkDeep(resource.params, ['resources', name, 'params']);
      }
    }
  }
  return problems;
}

// Why `placeholder` cannot be resolved in this workload, or undefined when it can (as far as validation can
// tell: resource outputs are only known once the resource is provisioned).
function placeholderError(placeholder: Placeholder, metadata: Json, resources: string[]): string | undefined {
  const text = `\${${placeholder.ref}}`;
  const [root, ...keys] = placeholder.parts;
  if (root === 'metadata') {
    if (keys.length === 0) return `${text} needs a metadata key, e.g. \${metadata.name}`;
    let value: unknown = metadata;
    for (const [index, key] of keys.entries()) {
      const at = ['metadata', ...keys.slice(0, index)].join('.');
      if (!isMap(value)) return `${text}: ${at} is not a map, so it has no key "${key}"`;
      if (!Object.hasOwn(value, key)) {
        return `${text}: ${at} has no key "${key}"; its keys are ${listOf(Object.keys(value))}`;
      }
      value = value[key];
    }
    return undefined;
  }
  if (root === 'resources') {
    const name = keys[0];
    if (name !== undefined && !resources.includes(name)) {
      return (
        `${text} names resource "${name}", which is not declared; declared resources: ${listOf(resources)}. ` +
        `Declare it under resources: (e.g. ${name}: { type: postgres }) or fix the name`
      );
    }
    const reference = resourceReference(placeholder.parts);
    return 'problem' in reference ? reference.problem : undefined;
  }
  return `${text}: unknown placeholder "${root}"; placeholders start with metadata. or resources., and $$ is a literal $`;
}

function listOf(names: string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}
