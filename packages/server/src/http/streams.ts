import type { FastifyRequest } from 'fastify';
import type { ApiServer } from './app.ts';

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
