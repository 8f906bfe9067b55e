import type { CliEnvironment } from './config.ts';

/** A successful answer of the server, as {@link recordAnswers} remembers it. */
interface ServerAnswer {
  server: string;
  method: string;
  path: string;
  status: number;
}

// The last successful answer each run's client received, by the run's environment.
const lastAnswers = new WeakMap<CliEnvironment, ServerAnswer>();

/**
 * `fetch` that remembers the last successful answer it received for this run (`environment`), so that an
 * answer the CLI cannot read can be named: see {@link unreadableAnswerError}. Answers pass through unchanged.
 */
export function recordAnswers(environment: CliEnvironment, fetch: typeof globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    if (response.ok) {
      const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
      lastAnswers.set(environment, {
        server: url.origin,
        method: init?.method ?? 'GET',
        path: url.pathname,
        status: response.status,
      });
    }
    return response;
  };
}

/**
 * A server answered 200 with JSON, but not JSON Pave sends: another JSON API behind a mistyped --server.
 * Said the way an answer that is not JSON at all is: which server, and to check --server or PAVE_SERVER.
 */
export class NotPaveAnswerError extends Error {
  override name = 'NotPaveAnswerError';
}

/**
 * The error to show instead of `error` when it is the CLI failing to read the server's answer: a TypeError
 * (`Cannot read properties of undefined`, `x.map is not a function`) or a SyntaxError (an event whose data is
 * not JSON) after a successful answer this run. Every field of every answer is Pave's to send, so the server
 * that sent an answer without them is not a Pave server (or not one of a version this CLI can read). Undefined
 * for any other error, or when no answer came: those are shown as they are.
 */
export function unreadableAnswerError(error: unknown, environment: CliEnvironment): Error | undefined {
  const name = (error as Error | undefined)?.name;
  if (name !== 'TypeError' && name !== 'SyntaxError') return undefined;
  const answer = lastAnswers.get(environment);
  return answer && notPaveAnswerError(environment, { cause: error });
}

/**
 * The error for an answer of this run's server that is not what Pave answers there (a command that checks a
 * field before it acts on it, e.g. `pave login` before it saves the token). Names the last answer received.
 */
export function notPaveAnswerError(environment: CliEnvironment, options?: ErrorOptions): NotPaveAnswerError {
  const answer = lastAnswers.get(environment);
  const what = answer
    ? `the server at ${answer.server} answered ${answer.status} to ${answer.method} ${answer.path}`
    : 'the server answered';
  return new NotPaveAnswerError(
    `${what} with something other than what Pave answers there; is it a Pave server? ` +
      'Check --server or PAVE_SERVER',
    options,
  );
}
