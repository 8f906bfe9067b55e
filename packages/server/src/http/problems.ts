import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { httpStatusForError, isPaveError, type FieldProblem, type Problem } from '@pave/core';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** Sends an RFC 9457 problem document. */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
  errors: FieldProblem[] = [],
): FastifyReply {
  const body: Problem = {
    type: `urn:pave:problem:${status}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    instance: request.url,
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

/** Where a validation issue is, for people: a JSON pointer in the body, or `query.x` / `path.x`. */
function issuePath(
  context: string | undefined,
  instancePath: string,
  params: Record<string, unknown>,
): string[] {
  const keys = Array.isArray(params.keys) ? (params.keys as string[]) : [null];
  return keys.map((key) => {
    const pointer = key === null ? instancePath : `${instancePath.replace(/\/$/, '')}/${key}`;
    if (!context || context === 'body') return pointer || '/';
    return `${locations[context] ?? `${context}.`}${pointer.replace(/^\//, '').replaceAll('/', '.')}`;
  });
}

/**
 * Fastify's error handler: the one place where errors become HTTP statuses. Domain errors map by name;
 * client mistakes (bad JSON, unknown fields, too large) are 4xx with the field or limit named; anything
 * else is logged and answered with a 500 that carries only the request id.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.flatMap((issue) => {
      const unknownKey = issue.keyword === 'unrecognized_keys';
      return issuePath(error.validationContext, issue.instancePath, issue.params).map((path) => ({
        path,
        message: unknownKey
          ? 'is not a known field; remove it (see /api/v1/openapi.json)'
          : (issue.message ?? 'is invalid'),
      }));
    });
    return sendProblem(
      request,
      reply,
      400,
      `the request ${error.validationContext ?? 'input'} is invalid`,
      errors,
    );
  }
  if (isPaveError(error)) {
    const status = httpStatusForError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return sendProblem(request, reply, status, error.message, error.errors);
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
  request.log.error({ err: error }, 'request failed');
  return sendProblem(
    request,
    reply,
    500,
    `internal error; the server log has details under request id ${request.id}`,
  );
}
