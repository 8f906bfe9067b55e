import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import replyFrom from '@fastify/reply-from';
import type { RouteTable } from '../domain/resources/routes.ts';
import { sendProblem } from './problems.ts';
import { markProxied } from './headers.ts';

/**
 * Pave's embedded reverse proxy, on the API's own port: a request whose Host is a route's host under
 * `.localhost` (e.g. `api.dev.shop.localhost`) goes to the workload behind the route, with its method,
 * path, headers and body. Other hosts reach the API as before. Any other `*.localhost` host (a mistyped route
 * host, say) gets a 404 problem naming the host, not the portal's page: the portal and the API answer at
 * `localhost` and `127.0.0.1`.
 */
export async function proxyRoutes(app: FastifyInstance, routes: RouteTable): Promise<void> {
  await app.register(replyFrom, { http: { requestOptions: { timeout: 60_000 } } });
  // A callback hook, as in app.ts: every request runs it, and most are for the API.
  app.addHook('onRequest', (request, reply, done) => {
    const host = request.hostname.toLowerCase();
    if (!host.endsWith('.localhost')) return done();
    forward(request, reply, host).then(() => done(), done);
  });

  /** Answers a request for a `*.localhost` host: through to its route's workload, or with a 404 problem. */
  async function forward(request: FastifyRequest, reply: FastifyReply, host: string) {
    // A full URL or `*` as the request target (absolute or asterisk form) cannot be appended to the workload's
    // address; only a path goes through.
    if (!request.url.startsWith('/')) {
      return sendProblem(request, reply, 400, `the request target must be a path, not "${request.url}"`, [
        { path: 'url', message: `send the path on http://${host} alone, e.g. GET /orders` },
      ]);
    }
    const path = request.url.split('?')[0] ?? '/';
    const route = await routes.lookup(host, path);
    if (!route) {
      return sendProblem(request, reply, 404, `no route serves http://${host}${path}`, [
        {
          path: 'header.host',
          message:
            'deploy a workload with a `route` resource for this host; `pave resources list` shows the routes',
        },
      ]);
    }
    markProxied(request);
    // Stream the body through: the hook runs before Fastify reads it (GET and HEAD carry none).
    if (request.method !== 'GET' && request.method !== 'HEAD')
      (request as { body: unknown }).body = request.raw;
    return reply.from(`http://127.0.0.1:${route.hostPort}${request.url}`, {
      onError: (_failed, { error }) => {
        request.log.warn({ err: error, route }, 'the workload behind a route did not answer');
        return sendProblem(
          request,
          reply,
          502,
          `the workload behind http://${host}${path} is not answering`,
          [
            {
              path: 'header.host',
              message: `${route.app}/${route.env} workload ${route.workload} on 127.0.0.1:${route.hostPort}; \`pave status --app ${route.app} --env ${route.env}\` shows it`,
            },
          ],
        );
      },
      rewriteRequestHeaders: (_original, headers) => ({
        ...headers,
        'x-forwarded-host': request.host,
        'x-forwarded-proto': 'http',
      }),
    });
  }
}
