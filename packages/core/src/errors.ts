/** One problem with an input: where it is (a JSON pointer, flag or file:line:column) and what is wrong. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Base of Pave's domain errors. Code that maps errors to HTTP statuses or exit codes keys on `name`,
 * never on `instanceof`, because several copies of this package may be loaded at once.
 */
export class PaveError extends Error {
  readonly errors: FieldProblem[];
  constructor(message: string, errors: FieldProblem[] = []) {
    super(message);
    this.errors = errors;
  }
}

/** The caller sent something invalid; `errors` lists every problem found. */
export class InputError extends PaveError {
  override name = 'InputError';
}

/** The named object does not exist (or the caller may not know that it exists). */
export class NotFoundError extends PaveError {
  override name = 'NotFoundError';
}

/** The request conflicts with the current state, e.g. an id that is already taken. */
export class ConflictError extends PaveError {
  override name = 'ConflictError';
}

/** The caller is known but may not do this. */
export class NotAllowedError extends PaveError {
  override name = 'NotAllowedError';
}

/** The caller did not prove who they are: no token, an unknown one, a revoked or expired one. */
export class AuthenticationError extends PaveError {
  override name = 'AuthenticationError';
}

/** The request body is larger than the server accepts. */
export class PayloadTooLargeError extends PaveError {
  override name = 'PayloadTooLargeError';
}

/** The request body is not JSON. */
export class UnsupportedMediaTypeError extends PaveError {
  override name = 'UnsupportedMediaTypeError';
}

/**
 * The caller tried too often (e.g. failed logins); `retryAfterSeconds` says when trying again may succeed
 * (sent as the Retry-After header).
 */
export class TooManyRequestsError extends PaveError {
  override name = 'TooManyRequestsError';
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number, errors: FieldProblem[] = []) {
    super(message, errors);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A dependency Pave needs (the store, say) cannot be reached right now. */
export class ServiceUnavailableError extends PaveError {
  override name = 'ServiceUnavailableError';
}

/** The state store was written by a newer Pave than the one starting. */
export class StoreVersionError extends PaveError {
  override name = 'StoreVersionError';
}

/**
 * A policy refuses the request (e.g. a deployment): `errors` name each denying policy, its message and, for
 * container rules, the workload and container.
 */
export class PolicyDeniedError extends PaveError {
  override name = 'PolicyDeniedError';
}

/** Infrastructure Pave drives (a resource driver, a database server) failed; the message says how. */
export class UpstreamError extends PaveError {
  override name = 'UpstreamError';
}

const statusByName: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
  PayloadTooLargeError: 413,
  UnsupportedMediaTypeError: 415,
  PolicyDeniedError: 422,
  TooManyRequestsError: 429,
  UpstreamError: 502,
  ServiceUnavailableError: 503,
  StoreVersionError: 503,
};

/** The HTTP status for a domain error, by its name; anything unknown is a server fault (500). */
export function httpStatusForError(error: { name?: unknown }): number {
  return (typeof error.name === 'string' && statusByName[error.name]) || 500;
}

/** Whether a value is one of Pave's domain errors (by shape, so it works across package copies). */
export function isPaveError(error: unknown): error is PaveError {
  return (
    error instanceof Error &&
    typeof error.name === 'string' &&
    error.name in statusByName &&
    'errors' in error
  );
}
