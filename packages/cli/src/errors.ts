import type { ApiError } from '@pave/core';
import { escapeControlCharacters } from './output/terminal-text.ts';

/** A mistake in how the command was called; printed as one line, exit code 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
}

/**
 * Exit code for a failed command: 1 when the API refused or could not be reached, 2 for usage errors, 3 for a
 * check that found something wrong, 4 when `--wait-timeout` ran out.
 */
export const EXIT_FAILURE = 1;
/** Exit code for a command called the wrong way (bad flag, missing argument, unparseable value). */
export const EXIT_USAGE = 2;
/** Exit code for a check that ran and found something wrong (`pave resources check`: a resource not ok). */
export const EXIT_CHECK_FAILED = 3;

/** Exit code for `--wait-timeout` running out while the deployment is still pending (e.g. awaiting approval). */
export const EXIT_WAIT_TIMEOUT = 4;

/**
 * `--wait --wait-timeout` ran out before the deployment finished; it is left as it is (still awaiting approval,
 * queued or running). Exit code 4.
 */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/**
 * `pave auth can-i` answered no. The answer is printed already (on stdout), so runCli prints nothing more
 * for it and only exits 1, the way `test` and `kubectl auth can-i` do.
 */
export class CanIDeniedError extends Error {
  override name = 'CanIDeniedError';
}

/** Whether `error` is a {@link CanIDeniedError} (recognised by name, as every CLI error is). */
export function isCanIDenied(error: unknown): boolean {
  return error instanceof Error && error.name === 'CanIDeniedError';
}

/** A check ran and found something wrong; what it found is printed already. Exit code 3. */
export class CheckFailedError extends Error {
  override name = 'CheckFailedError';
}

/** Options for {@link formatError}. */
export interface ErrorFormatOptions {
  /** Wraps the `pave: error:` prefix, e.g. in red; identity when colour is off. */
  highlight?: (text: string) => string;
  /** Append the stack of an unexpected error (PAVE_DEBUG=1). */
  debug?: boolean;
}

/**
 * The exit code for an error thrown by a command. Errors are recognised by `name`, never `instanceof`,
 * because the bundle and the tests may load separate copies of @pave/core.
 */
export function exitCodeFor(error: unknown): number {
  const name = errorName(error);
  if (name === 'CheckFailedError') return EXIT_CHECK_FAILED;
  if (name === 'WaitTimeoutError') return EXIT_WAIT_TIMEOUT;
  return name === 'CliUsageError' ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * Renders an error for stderr: one `pave: error: <detail>` line, then for an API problem each field error as
 * `  - <path>: <message>` and the request id as `  (request id <id>)`. Control characters in messages are
 * shown escaped, never obeyed (see escapeControlCharacters). Expected errors (ApiError, ConnectionError,
 * CliUsageError) never show a stack; an unexpected one shows it, and its cause's, only with `debug`.
 * The result ends with a newline.
 */
export function formatError(error: unknown, options: ErrorFormatOptions = {}): string {
  const prefix = (options.highlight ?? ((text: string) => text))('pave: error:');
  const name = errorName(error);
  if (name === 'ApiError') {
    const { problem } = error as ApiError;
    // What the server says is shown, never obeyed: its control characters are escaped.
    const safe = (text: string) => escapeControlCharacters(text, { keepLineBreaks: true });
    const lines = [`${prefix} ${safe(problem.detail || problem.title || (error as Error).message)}`];
    const detail = problem.detail ?? '';
    for (const field of problem.errors ?? []) {
      // A refusal's `permission` field is `<permission>: <reason>`, the reason the detail already gives.
      const reason = field.message.slice(field.message.indexOf(': ') + 2);
      if (field.path === 'permission' && reason !== '' && detail.endsWith(reason)) continue;
      lines.push(`  - ${safe(field.path)}: ${safe(field.message)}`);
    }
    if (problem.requestId) lines.push(`  (request id ${problem.requestId})`);
    return `${lines.join('\n')}\n`;
  }
  // Messages carry what the server said too (a stream's error, a deployment's reason): escaped likewise.
  const message = escapeControlCharacters(error instanceof Error ? error.message : String(error), {
    keepLineBreaks: true,
  });
  const expected = [
    'ConnectionError',
    'CliUsageError',
    'CheckFailedError',
    'DeploymentFailedError',
    'WaitGaveUpError',
    'WaitTimeoutError',
    'ScoreFilesError',
    'DefinitionsFileError',
    'ProfilesFileError',
    'NotConfirmedError',
    'AuditLogBrokenError',
    'NotHealthyError',
  ].includes(name ?? '');
  const stack = !expected && options.debug ? stackOf(error) : '';
  return `${prefix} ${message}${stack}\n`;
}

// The stack of an unexpected error, then of what caused it (PAVE_DEBUG=1), each on lines of its own.
function stackOf(error: unknown): string {
  if (!(error instanceof Error) || !error.stack) return '';
  const cause = error.cause instanceof Error && error.cause.stack ? `\nCaused by: ${error.cause.stack}` : '';
  return `\n${error.stack}${cause}`;
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && typeof (error as Error).name === 'string'
    ? (error as Error).name
    : undefined;
}
