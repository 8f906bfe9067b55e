import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
  validatorCompiler as zodValidatorCompiler,
} from 'fastify-type-provider-zod';
import { safeParse, type $ZodType } from 'zod/v4/core';
import {
  closestForm,
  httpStatusForError,
  isPaveError,
  jsonPointer,
  type FieldProblem,
  type Problem,
} from '@pave/core';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { isForeignKeyViolation, isStoreUnavailable } from '../store/index.ts';
import { redactUrl } from './redact.ts';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** URLs longer than this are not echoed in a problem's `instance`. */
const ECHOED_URL_MAX = 2048;

/**
 * Sends an RFC 9457 problem document. Its `instance` is the request URL with credentials in its query
 * redacted, left out when the URL is what is wrong (414, `echoUrl: false`) or too long to echo.
 */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
  errors: FieldProblem[] = [],
  options: { echoUrl?: boolean } = {},
): FastifyReply {
  const echo = options.echoUrl !== false && status !== 414 && request.url.length <= ECHOED_URL_MAX;
  const body: Problem = {
    type: `urn:pave:problem:${status}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    ...(echo ? { instance: redactUrl(request.url) } : {}),
    requestId: String(request.id),
    errors,
  };
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="pave"');
  return reply
    .code(status)
    .type('application/problem+json; charset=utf-8')
    .serializer(JSON.stringify)
    .send(body);
}

const locations: Record<string, string> = {
  body: '',
  querystring: 'query.',
  params: 'path.',
  headers: 'header.',
};

/** What part of a request Fastify's validation contexts are, in words (`the request query is invalid`). */
const CONTEXT_WORDS: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'headers',
};

/**
 * fastify-type-provider-zod's validator compiler, with each issue's `instancePath` a JSON pointer: the library
 * joins a path's keys with `/` as they are, so a key holding one (a container file's `/etc/app.conf`) read as
 * several levels. Only a refused value is parsed a second time, for its issues' paths.
 */
export const validatorCompiler: FastifySchemaCompiler<$ZodType> = (route) => {
  const validate = zodValidatorCompiler(route);
  return (data: unknown) => {
    const result = validate(data);
    if (typeof result !== 'object' || !('error' in result) || !Array.isArray(result.error)) return result;
    const issues = safeParse(route.schema, data).error?.issues ?? [];
    result.error.forEach((issue, index) => {
      const path = issues[index]?.path;
      if (path) issue.instancePath = jsonPointer(path.map(String));
    });
    return result;
  };
};

/** Where a validation issue is, for people: a JSON pointer in the body, or `query.x` / `path.x`. */
function issuePath(
  context: string | undefined,
  instancePath: string,
  params: Record<string, unknown>,
): string[] {
  const keys = Array.isArray(params.keys) ? (params.keys as string[]) : [null];
  return keys.map((key) => {
    const pointer = key === null ? instancePath : `${instancePath.replace(/\/$/u, '')}${jsonPointer([key])}`;
    if (!context || context === 'body') return pointer || '/';
    const names = pointer.replace(/^\//u, '').split('/').map(unescapePointerSegment);
    return `${locations[context] ?? `${context}.`}${names.join('.')}`;
  });
}

/** A JSON pointer's segment as the key it names (RFC 6901: `~1` is `/`, `~0` is `~`). */
function unescapePointerSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** One issue of a request's validation, as fastify-type-provider-zod passes zod's on. */
interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string | undefined;
}

/**
 * A union's issue (zod's `Invalid input`) as the issues of the form the value came closest to (core's
 * closestForm), each at its place inside the value; any other issue as it is.
 */
function closestFormIssues(issue: ValidationIssue): ValidationIssue[] {
  if (issue.keyword !== 'invalid_union') return [issue];
  const base = issue.instancePath.replace(/\/$/u, '');
  type Inner = { code: string; path: PropertyKey[]; message?: string } & Record<string, unknown>;
  const union: Inner = { ...issue.params, code: issue.keyword, path: [] };
  return closestForm(union).map(({ code, path, message, ...params }) => ({
    keyword: code,
    instancePath: `${base}${jsonPointer(path.map(String))}`.replace(/\/$/u, '') || '/',
    params,
    message,
  }));
}

/**
 * What is wrong with a record's key (zod's `invalid_key`, whose own message is only "Invalid key in record"):
 * the messages of the key's schema, which say what a key must be; undefined for other issues.
 */
function keyProblem(keyword: string, params: Record<string, unknown>): string | undefined {
  if (keyword !== 'invalid_key' || !Array.isArray(params.issues)) return undefined;
  const messages = (params.issues as Array<{ message?: unknown }>)
    .map((inner) => inner.message)
    .filter((message): message is string => typeof message === 'string');
  return messages.length > 0 ? messages.join('; ') : undefined;
}

/** What a value of each type zod expects is called in problems: `is required: a string`. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
};

/** The values each of Fastify's validation contexts checked, as the request holds them. */
function validatedValues(request: FastifyRequest, context: string | undefined): unknown {
  switch (context) {
    case 'querystring':
      return request.query;
    case 'params':
      return request.params;
    case 'headers':
      return request.headers;
    default:
      return request.body;
  }
}

/**
 * Whether the request lacks the value at `pointer` of `values`: a key its object does not have, or a body not
 * sent at all (which Fastify reads as null when the request has no Content-Type). False where a value is there,
 * null included, and where what holds it is itself missing or not an object (that is the problem reported).
 */
function isMissing(request: FastifyRequest, values: unknown, pointer: string): boolean {
  if (pointer === '/' || pointer === '') {
    return values === undefined || (values === null && request.headers['content-type'] === undefined);
  }
  const keys = pointer.replace(/^\//u, '').split('/').map(unescapePointerSegment);
  let parent = values;
  for (const key of keys.slice(0, -1)) {
    if (typeof parent !== 'object' || parent === null) return false;
    parent = (parent as Record<string, unknown>)[key];
  }
  return typeof parent === 'object' && parent !== null && !Object.hasOwn(parent, keys.at(-1)!);
}

/**
 * What a value the request lacks must be (zod's message is only "expected string, received undefined"):
 * `is required: a string`, `is required: one of "deny", "warn"`; undefined for a value that is there, and for
 * issues that do not say what the value must be.
 */
function requiredProblem(
  request: FastifyRequest,
  values: unknown,
  issue: ValidationIssue,
): string | undefined {
  if (!isMissing(request, values, issue.instancePath)) return undefined;
  const { expected, values: options } = issue.params;
  if (issue.keyword === 'invalid_type' && typeof expected === 'string') {
    return `is required: ${TYPE_NAMES[expected] ?? expected}`;
  }
  if (issue.keyword === 'invalid_value' && Array.isArray(options) && options.length > 0) {
    const shown = options.map((option) => JSON.stringify(option)).join(', ');
    return `is required: ${options.length === 1 ? shown : `one of ${shown}`}`;
  }
  return undefined;
}

/** A field problem's path that is a bare name (`app`, `env`, `id`): what the domain layer says, not knowing the route. */
const BARE_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** Bare names that say what was checked rather than where the request holds it. */
const NOT_LOCATED = new Set(['permission', 'url', 'method', 'body']);

/**
 * The problems of a domain error, each bare name (`env`) turned into where this request holds it, as every other
 * problem says (`path.env`, `query.env`, `/env`): the first of the route's path parameters, its query and its body
 * that has a value of that name which the error's message quotes. A name the request does not hold that way (the
 * environment of a deployment's `fromEnv`, say) stays as it is.
 */
function locatedErrors(request: FastifyRequest, message: string, errors: FieldProblem[]): FieldProblem[] {
  const sources: Array<[string, unknown]> = [
    ['path.', request.params],
    ['query.', request.query],
    ['/', request.body],
  ];
  return errors.map((problem) => {
    if (!BARE_NAME.test(problem.path) || NOT_LOCATED.has(problem.path)) return problem;
    for (const [prefix, values] of sources) {
      if (typeof values !== 'object' || values === null || !Object.hasOwn(values, problem.path)) continue;
      const value = (values as Record<string, unknown>)[problem.path];
      if ((typeof value === 'string' || typeof value === 'number') && message.includes(String(value))) {
        return { ...problem, path: `${prefix}${problem.path}` };
      }
    }
    return problem;
  });
}

/**
 * Fastify's error handler: the one place where errors become HTTP statuses. Domain errors map by name;
 * client mistakes (bad JSON, unknown fields, too large) are 4xx with the field or limit named; anything
 * else is logged and answered with a 500 that carries only the request id.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const values = validatedValues(request, error.validationContext);
    const errors = error.validation.flatMap(closestFormIssues).flatMap((issue) => {
      const message =
        issue.keyword === 'unrecognized_keys'
          ? 'is not a known field; remove it (see /api/v1/openapi.json)'
          : (requiredProblem(request, values, issue) ??
            keyProblem(issue.keyword, issue.params) ??
            issue.message ??
            'is invalid');
      return issuePath(error.validationContext, issue.instancePath, issue.params).map((path) => ({
        path,
        message,
      }));
    });
    return sendProblem(
      request,
      reply,
      400,
      `the request ${CONTEXT_WORDS[error.validationContext ?? ''] ?? 'input'} is invalid`,
      errors,
    );
  }
  if (isPaveError(error)) {
    const status = httpStatusForError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return sendProblem(
      request,
      reply,
      status,
      error.message,
      locatedErrors(request, error.message, error.errors),
    );
  }
  if (isForeignKeyViolation(error)) {
    // Not the client's mistake, nor Pave's: the app, environment or team it names was deleted meanwhile.
    request.log.warn({ err: error }, 'what the request refers to was deleted at the same moment');
    return sendProblem(request, reply, 409, 'what this request refers to was deleted at the same moment', [
      {
        path: '/',
        message: 'check that the app, environment or team it names still exists, and send it again',
      },
    ]);
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, 'response does not match its schema');
    return sendProblem(
      request,
      reply,
      500,
      `internal error; the server log has details under request id ${request.id}`,
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendProblem(request, reply, 413, 'the request body is too large', [
        { path: '/', message: `must be at most ${request.routeOptions.bodyLimit ?? 1_048_576} bytes` },
      ]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendProblem(request, reply, 415, 'the request body must be JSON', [
        { path: 'header.content-type', message: 'send Content-Type: application/json' },
      ]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendProblem(request, reply, 400, 'the request body is empty', [
        { path: '/', message: 'send a JSON object, or no Content-Type header for a request without a body' },
      ]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return sendProblem(request, reply, 400, 'the request body is not valid JSON', [
        { path: '/', message: error.message },
      ]);
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const detail = error instanceof SyntaxError ? 'the request body is not valid JSON' : error.message;
    return sendProblem(request, reply, status, detail, [{ path: '/', message: error.message }]);
  }
  if (isStoreUnavailable(error)) {
    // Not the client's mistake nor a bug: the database is down, restarting or out of connections.
    request.log.error({ err: error }, 'request failed: the store does not answer');
    reply.header('retry-after', String(STORE_RETRY_AFTER_SECONDS));
    return sendProblem(
      request,
      reply,
      503,
      'the store does not answer right now; try again in a few seconds (the server log has details under ' +
        `request id ${request.id})`,
    );
  }
  request.log.error({ err: error }, 'request failed');
  return sendProblem(
    request,
    reply,
    500,
    `internal error; the server log has details under request id ${request.id}`,
  );
}

/** The Retry-After of a 503 answered while the store does not answer. */
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Errors Fastify raises while routing, before a request reaches a route (its `frameworkErrors` option): a
 * path parameter longer than the router accepts is a 414, a URL with broken percent-encoding a 400. Neither
 * echoes the URL.
 */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return pathTooLong(request, reply);
    case 'FST_ERR_BAD_URL':
      return sendProblem(
        request,
        reply,
        400,
        'the URL is not valid',
        [{ path: 'url', message: 'percent-encode the path as UTF-8 (e.g. with encodeURIComponent)' }],
        { echoUrl: false },
      );
  }
  return handleError(error, request, reply);
}

/** The longest path parameter the router takes (Fastify's `maxParamLength`, 100 unless set). */
const MAX_PARAM_LENGTH = 100;

/** The 414 for a path with a part longer than MAX_PARAM_LENGTH; the URL is not echoed. */
function pathTooLong(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(
    request,
    reply,
    414,
    'a part of the URL path is too long',
    [
      {
        path: 'url',
        message: `path parameters are at most ${MAX_PARAM_LENGTH} characters; use the names Pave gave`,
      },
    ],
    { echoUrl: false },
  );
}

/**
 * Answers requests Node's HTTP parser refuses before Fastify sees them (Fastify's `clientErrorHandler`):
 * headers or a request line too large (431), a client too slow (408), anything malformed (400); a
 * problem+json body that echoes nothing the client sent, then the connection is closed.
 */
export function handleClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request line and headers are too large', 'send a shorter URL and fewer or smaller headers']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request took too long to arrive', 'send the whole request promptly']
        : [400, 'the request is not valid HTTP/1.1', 'send a well-formed HTTP request'];
  const body = JSON.stringify({
    type: `urn:pave:problem:${status}`,
    title: titles[status] ?? STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    requestId: randomUUID(),
    errors: [{ path: status === 431 ? 'header' : 'url', message }],
  } satisfies Problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** The methods each API route pattern answers, to tell a wrong method (405) from a wrong path (404). */
export class RouteMethods {
  private readonly patterns = new Map<string, { regex: RegExp; methods: Set<string> }>();

  /** Records a route as Fastify's `onRoute` hook sees it; only `/api/` routes count. */
  add(method: string | string[], url: string): void {
    if (!url.startsWith('/api/')) return;
    let entry = this.patterns.get(url);
    if (!entry) {
      const source = url
        .split('/')
        .map((part) =>
          part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        )
        .join('/');
      entry = { regex: new RegExp(`^${source}/?$`), methods: new Set() };
      this.patterns.set(url, entry);
    }
    for (const one of Array.isArray(method) ? method : [method]) entry.methods.add(one.toUpperCase());
  }

  /** The methods some route answers for `path`, sorted; empty when no route has this path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { regex, methods: those } of this.patterns.values()) {
      if (regex.test(path)) for (const method of those) methods.add(method);
    }
    return [...methods].sort();
  }
}

/**
 * Fastify's not-found handler: a path with a part longer than a path parameter may be is a 414 (the router
 * reports that itself only where no wildcard route, such as the portal's, takes the request instead); a path
 * some route serves with other methods is a 405 with `Allow`; anything else a 404 pointing at the OpenAPI
 * document. None echoes a long path.
 */
export function notFoundHandler(routes: RouteMethods) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const path = request.url.split('?')[0] ?? '/';
    if (path.split('/').some((part) => part.length > MAX_PARAM_LENGTH)) return pathTooLong(request, reply);
    const shown = path.length > 200 ? `${path.slice(0, 200)}…` : path;
    const allowed = routes.allowed(path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(request, reply, 405, `${request.method} is not allowed on ${shown}`, [
        { path: 'method', message: `use one of ${allowed.join(', ')}` },
      ]);
    }
    return sendProblem(request, reply, 404, `no route ${request.method} ${shown}`, [
      { path: 'url', message: 'see /api/v1/openapi.json for the routes Pave serves' },
    ]);
  };
}
