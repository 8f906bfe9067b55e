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
  readonly options: ReadonlyArray<{ long?: string | undefined; attributeName(): string }>;
  readonly registeredArguments: ReadonlyArray<{ name(): string }>;
  readonly processedArgs: readonly unknown[];
  getOptionValue(name: string): unknown;
}

// Flags whose values are never repeated in a message.
const SECRET_FLAG = /token|password|secret/iu;

/**
 * `error` with the path and query parameters its field errors name (`path.env`, `query.cursor`) replaced by
 * the flag or argument of `command` they were made from and its value (`--env "nope"`), as
 * {@link withFieldOrigins} does for body fields: the API's route parameters are named after the CLI's flags
 * (`--app` is `path.app`, `--cursor` is `query.cursor`). Anything else is returned as it is.
 */
export function namingCommandLine(error: unknown, command: RanCommand): unknown {
  const origins: FieldOrigins = {};
  for (const option of command.options) {
    const value = command.getOptionValue(option.attributeName());
    if (!option.long || (typeof value !== 'string' && typeof value !== 'number')) continue;
    const origin = SECRET_FLAG.test(option.long)
      ? { name: option.long }
      : { name: option.long, value: String(value) };
    origins[`path.${option.attributeName()}`] = origin;
    origins[`query.${option.attributeName()}`] = origin;
  }
  command.registeredArguments.forEach((argument, index) => {
    const value = command.processedArgs[index];
    if (typeof value === 'string')
      origins[`path.${argument.name()}`] = { name: `<${argument.name()}>`, value };
  });
  return namingOrigins(error, origins);
}
