import type { ApiError } from '@pave/core';

/**
 * What the user typed that a field of a request body was made from: the argument (`<env>`) or flag (`--type`),
 * and the value as typed when it may be shown (never a secret; left out for a flag without a value).
 */
export interface FieldOrigin {
  /** The argument or flag as `--help` shows it, e.g. `<env>` or `--type`. */
  name: string;
  /** The value as the user typed it (e.g. `48h` for `--ttl`, not the seconds sent); absent for a secret. */
  value?: string;
}

/** The origins of a request body's fields, keyed by the field's JSON pointer, e.g. `{ '/id': { name: '<env>' } }`. */
export type FieldOrigins = Record<string, FieldOrigin>;

/**
 * Runs `request`, a call that sends a body made from the command's arguments and flags. When the server refuses
 * fields of that body (an ApiError whose `errors` name JSON pointers), the error is thrown again with each
 * pointer that `origins` knows (or one inside it) replaced by the argument or flag the user typed and its value,
 * e.g. `/id` by `<env> "E_1"`, so the message talks about the command line rather than the API. Other errors,
 * and field errors of fields not in `origins`, are thrown as they are.
 */
export async function withFieldOrigins<T>(origins: FieldOrigins, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw namingOrigins(error, origins);
  }
}

// `error` with the paths of its field errors renamed per `origins`; `error` itself when it is not an API error
// or names no known field.
function namingOrigins(error: unknown, origins: FieldOrigins): unknown {
  // By name, not instanceof: the bundle may hold a copy of @pave/core of its own.
  if (!(error instanceof Error) || error.name !== 'ApiError') return error;
  const apiError = error as ApiError;
  const fields = apiError.problem.errors ?? [];
  const renamed = fields.map((field) => ({ ...field, path: originOf(field.path, origins) ?? field.path }));
  if (renamed.every((field, index) => field.path === fields[index]?.path)) return error;
  // A new error of the same class rather than a change: `problem` is read-only.
  const ApiErrorClass = apiError.constructor as typeof ApiError;
  return new ApiErrorClass(apiError.status, { ...apiError.problem, errors: renamed });
}

// `<env> "E_1"` for `/id`; a pointer inside a known field keeps the rest: `--scope "x" at /role`.
function originOf(path: string, origins: FieldOrigins): string | undefined {
  for (const [pointer, origin] of Object.entries(origins)) {
    if (path !== pointer && !path.startsWith(`${pointer}/`)) continue;
    const shown = origin.value === undefined ? origin.name : `${origin.name} ${JSON.stringify(origin.value)}`;
    const rest = path.slice(pointer.length);
    return rest ? `${shown} at ${rest}` : shown;
  }
  return undefined;
}

/** The shape of a commander command that {@link namingCommandLine} reads (commander's own Command has it). */
export interface RanCommand {
  readonly options: ReadonlyArray<{
    long?: string | undefined;
    negate?: boolean;
    /** The flag takes a value (`--target <id>`, `--x [y]`): commander's `required` and `optional`. */
    required?: boolean;
    optional?: boolean;
    attributeName(): string;
  }>;
  readonly registeredArguments: ReadonlyArray<{ name(): string }>;
  readonly processedArgs: readonly unknown[];
  getOptionValue(name: string): unknown;
  getOptionValueSource?(name: string): string | undefined;
}

/**
 * The API's names of fields a command's flags and arguments become, where they are not named alike, each with
 * the flag or argument as `--help` shows it: `{ 'path.type': '<id>', 'query.toEnv': '--to-env', '/fromEnv':
 * '--from' }`. A name without a `path.`, `query.` or `/` prefix is one the server could not place (it answers
 * a bare `env` for an environment that no parameter of the request is named after).
 */
export type ApiFieldAliases = Readonly<Record<string, `--${string}` | `<${string}>`>>;

// The aliases each command declared, read when one of its requests is refused.
const declaredAliases = new WeakMap<object, ApiFieldAliases>();

/**
 * Declares, once per command, which flag or argument each differently named API field of its requests comes
 * from, so that {@link namingCommandLine} names the flag (`--from "dev"`) where the server names its field
 * (`/fromEnv`). Fields named like a flag's attribute or an argument need no alias. Returns `command`.
 */
export function aliasApiFields<C extends object>(command: C, aliases: ApiFieldAliases): C {
  declaredAliases.set(command, { ...declaredAliases.get(command), ...aliases });
  return command;
}

/** The aliases {@link aliasApiFields} declared for `command` (none: `{}`). */
export function apiFieldAliasesOf(command: object): ApiFieldAliases {
  return declaredAliases.get(command) ?? {};
}

// Flags whose values are never repeated in a message.
const SECRET_FLAG = /token|password|secret/iu;

// Flags of every client command that no request field is made from.
const CONNECTION_FLAGS = new Set(['--server', '--token', '--data-dir', '--output']);

/**
 * `error` with the fields its field errors name replaced by the flag or argument of `command` they were made
 * from and its value (`--env "nope"`, `<id> "x"`), as {@link withFieldOrigins} does for one request. A flag or
 * argument stands for the path parameter, query parameter and top-level body field of its name (`--app` is
 * `path.app`, `query.app` and `/app`; `<delivery-id>` is `path.deliveryId`), and for the fields the command
 * aliased to it with {@link aliasApiFields}. A flag that takes a value and was not given stands, by its name
 * alone, for the fields no given one stands for: the server refusing what it chose in its stead (the target
 * `pave render` renders for) is told to pass it (`--target`). Anything else is returned as it is.
 */
export function namingCommandLine(error: unknown, command: RanCommand): unknown {
  const byName = new Map<string, FieldOrigin>();
  const sameNamed: FieldOrigins = {};
  // Flags that take a value but were not given: named only where no given flag or argument is.
  const notGiven = new Map<string, FieldOrigin>();
  const sameNamedNotGiven: FieldOrigins = {};
  for (const option of command.options) {
    const value = command.getOptionValue(option.attributeName());
    if (!option.long) continue;
    if (!given(option, value, command)) {
      if ((option.required || option.optional) && !option.negate && !CONNECTION_FLAGS.has(option.long)) {
        const origin = { name: option.long };
        notGiven.set(option.long, origin);
        for (const field of fieldsNamed(option.attributeName())) sameNamedNotGiven[field] ??= origin;
      }
      continue;
    }
    const origin =
      SECRET_FLAG.test(option.long) || (typeof value !== 'string' && typeof value !== 'number')
        ? { name: option.long }
        : { name: option.long, value: String(value) };
    byName.set(option.long, origin);
    for (const field of fieldsNamed(option.attributeName())) sameNamed[field] ??= origin;
  }
  command.registeredArguments.forEach((argument, index) => {
    const value = command.processedArgs[index];
    if (value === undefined) return;
    const name = `<${argument.name()}>`;
    const origin = typeof value === 'string' ? { name, value } : { name };
    byName.set(name, origin);
    for (const field of fieldsNamed(camelCase(argument.name()))) sameNamed[field] ??= origin;
  });
  const aliased: FieldOrigins = {};
  const aliasedNotGiven: FieldOrigins = {};
  for (const [field, name] of Object.entries(apiFieldAliasesOf(command))) {
    const origin = byName.get(name);
    if (origin) aliased[field] = origin;
    const absent = notGiven.get(name);
    if (absent) aliasedNotGiven[field] = absent;
  }
  // An alias wins over a flag that merely shares the field's name; what was given over what was not.
  const typed = { ...aliased, ...withoutKeys(sameNamed, aliased) };
  const untyped = { ...aliasedNotGiven, ...withoutKeys(sameNamedNotGiven, aliasedNotGiven) };
  return namingOrigins(error, { ...typed, ...withoutKeys(untyped, typed) });
}

// Whether `option` made `value`: a flag with a value that is set; a switch (`--force`, `--no-browser`) only when
// it was typed (a switch's default, and `--x` of a value `--no-x` set, stand for nothing the user typed).
function given(option: RanCommand['options'][number], value: unknown, command: RanCommand): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') return true;
  if (command.getOptionValueSource?.(option.attributeName()) === 'default') return false;
  return value !== (option.negate === true);
}

// The fields of a request a flag or argument of this attribute name stands for.
function fieldsNamed(attribute: string): string[] {
  return [`path.${attribute}`, `query.${attribute}`, `/${attribute}`];
}

// `delivery-id` -> `deliveryId`, as commander names a flag's attribute.
function camelCase(name: string): string {
  return name.replace(/-([a-z])/gu, (_, letter: string) => letter.toUpperCase());
}

function withoutKeys(origins: FieldOrigins, drop: FieldOrigins): FieldOrigins {
  return Object.fromEntries(Object.entries(origins).filter(([field]) => !Object.hasOwn(drop, field)));
}
