import { Health } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';

/** `GET /healthz` (the process is alive) and `GET /readyz` (the store answers); neither needs a token. */
export function healthRoutes(api: ApiServer, store: Store): void {
  api.get(
    '/healthz',
    { schema: { tags: ['health'], security: [], response: { 200: Health } } },
    async () => ({ status: 'ok' as const }),
  );
  api.get(
    '/readyz',
    { schema: { tags: ['health'], security: [], response: { 200: Health, 503: Health } } },
    async (request, reply) => {
      try {
        await store.ping();
        return { status: 'ok' as const };
      } catch (error) {
        // Anyone may ask, so the answer names nothing of the store (its host, user, database): the log does.
        request.log.warn({ err: error }, 'readiness check: the store does not answer');
        return reply.code(503).send({
          status: 'unavailable' as const,
          detail: 'the store does not answer; the server log says why',
        });
      }
    },
  );
}
