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

/**
 * For a stream that outlives the check its request passed: asks again whether the caller may still do what the
 * route needs on what the request named (the token's user from the token cache, so a query a second at most).
 * A token revoked or expired meanwhile, its user deleted, or the role that allowed it revoked, ends the stream as
 * it would refuse a new request. An environment in the path is looked up again on every call: it may have been
 * deleted and made again under the same name, of another type (a restricted one). Resolves with the caller and
 * the target as they are now, or with the refusal's message.
 */
export function callerCheck(
  store: Store,
  request: FastifyRequest,
): () => Promise<{ actor: Actor; target: AccessTarget } | { refusal: string }> {
  const token = bearerToken(request, 'send "Authorization: Bearer pave_…"');
  const permission = request.routeOptions.config.permission!;
  const { env } = (request.params ?? {}) as { env?: string };
  const { app } = request.accessTarget;
  const targetNow = async (): Promise<AccessTarget> => {
    if (!app || !env) return request.accessTarget;
    const access = await environmentAccess(store.db, app, env);
    return access ? { app, envType: access.envType, restricted: access.restricted } : { app };
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

/**
 * Reads `source` as fast as it gives (up to `limit` items waiting) and hands out, on each `take`, everything that
 * arrived since the last one, waiting for one item when none has; `undefined` once the source is done. A stream
 * that must check something after its items arrive and before it sends them (see the logs route) checks once
 * for each batch rather than for each item. `close` stops reading. An error of the source is thrown by the take
 * after the items that came before it.
 */
export function arrivals<T>(source: AsyncIterable<T>, limit = 1_000) {
  const iterator = source[Symbol.asyncIterator]();
  const waiting: T[] = [];
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  const signal = () => {
    wake?.();
    wake = undefined;
  };
  void (async () => {
    try {
      while (!finished) {
        const next = await iterator.next();
        if (next.done || finished) break;
        waiting.push(next.value);
        signal();
        if (waiting.length >= limit) await new Promise<void>((resolve) => (resume = resolve));
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      signal();
    }
  })();
  return {
    async take(): Promise<T[] | undefined> {
      while (waiting.length === 0 && !finished) await new Promise<void>((resolve) => (wake = resolve));
      if (waiting.length > 0) {
        const batch = waiting.splice(0);
        resume?.();
        resume = undefined;
        return batch;
      }
      if (failure) throw failure.error;
      return undefined;
    },
    close(): void {
      finished = true;
      resume?.();
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    },
  };
}
