import type { FastifyRequest } from 'fastify';
import type { ApiServer } from './app.ts';
import { bearerToken } from './bearer.ts';
import type { AccessTarget } from '@pave/core';
import { authorize, environmentAccess } from '../domain/access.ts';
import type { Actor } from '../domain/context.ts';
import { authenticate } from '../domain/tokens.ts';
import type { Store } from '../store/index.ts';

/**
 * For routes that answer with a long-lived stream (Server-Sent Events): makes the function that gives each
 * such request a signal, aborted when its client goes away or when the server begins to close. Fastify's
 * close waits for open connections, so a stream left open would keep `pave up` from stopping.
 */
export function streamSignals(api: ApiServer): (request: FastifyRequest) => AbortSignal {
  const open = new Set<AbortController>();
  api.addHook('preClose', async () => {
    for (const stream of open) stream.abort();
  });
  return (request) => {
    const stream = new AbortController();
    open.add(stream);
    stream.signal.addEventListener('abort', () => open.delete(stream), { once: true });
    request.raw.on('close', () => stream.abort());
    return stream.signal;
  };
}

/** How long a stream trusts the type it last read of the environment it reaches (see callerCheck). */
const TARGET_CHECK_MS = 1_000;

/**
 * For a stream that outlives the check its request passed: asks again whether the caller may still do what the
 * route needs on what the request named (the token's user from the token cache, so a query a second at most).
 * A token revoked or expired meanwhile, its user deleted, or the role that allowed it revoked, ends the stream as
 * it would refuse a new request. An environment in the path is looked up again too, at most once a second: it
 * may have been deleted and made again under the same name, of another type (a restricted one). Resolves with
 * the caller and the target as they are now, or with the refusal's message.
 */
export function callerCheck(
  store: Store,
  request: FastifyRequest,
): () => Promise<{ actor: Actor; target: AccessTarget } | { refusal: string }> {
  const token = bearerToken(request, 'send "Authorization: Bearer pave_…"');
  const permission = request.routeOptions.config.permission!;
  const { env } = (request.params ?? {}) as { env?: string };
  let target = request.accessTarget;
  let checkedAt = Date.now();
  const targetNow = async (): Promise<AccessTarget> => {
    const { app } = target;
    if (!app || !env || Date.now() - checkedAt < TARGET_CHECK_MS) return target;
    const access = await environmentAccess(store.db, app, env);
    target = access ? { app, envType: access.envType, restricted: access.restricted } : { app };
    checkedAt = Date.now();
    return target;
  };
  return async () => {
    try {
      const actor = await authenticate(store.db, token);
      const now = await targetNow();
      authorize(actor, permission, now);
      return { actor, target: now };
    } catch (error) {
      const known = ['AuthenticationError', 'NotAllowedError', 'NotFoundError'];
      if (!known.includes((error as Error).name)) throw error;
      return { refusal: (error as Error).message };
    }
  };
}
