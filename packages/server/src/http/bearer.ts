import type { FastifyRequest } from 'fastify';
import { AuthenticationError } from '@pave/core';

/**
 * The bearer token of a request; AuthenticationError (401) when there is none, with `hint` saying how to send
 * one.
 */
export function bearerToken(request: FastifyRequest, hint: string): string {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match?.[1]) {
    throw new AuthenticationError('this request needs a token', [
      { path: 'header.authorization', message: hint },
    ]);
  }
  return match[1];
}
