import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { bearerToken } from './bearer.ts';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Store } from '../store/index.ts';
import { authenticate } from '../domain/tokens.ts';
import { authorize } from '../domain/access.ts';
import type { PaveMetrics } from '../observability/metrics.ts';
import { paveTracer, tracingRunning } from '../observability/tracing.ts';

/** Where the public login routes live: a 401 or 429 from one of them is a failed login. */
const LOGIN_ROUTES = /^\/api\/v1\/auth\/(?!can-i$)/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's span (a no-op span when no trace exporter runs). */
    paveSpan?: Span;
  }
}

/**
 * Measures and traces every request: `pave_http_request_duration_seconds` by method, route pattern and
 * status, `pave_login_failures_total` for refused logins, and, while traces are exported (startTracing), one
 * span per request named after its route pattern (never its URL, whose query may hold credentials).
 */
export function requestTelemetry(app: FastifyInstance, metrics: PaveMetrics | undefined): void {
  // Callback hooks, as in app.ts: every request runs them.
  app.addHook('onRequest', (request, _reply, done) => {
    if (tracingRunning()) {
      const route = request.routeOptions.url;
      request.paveSpan = paveTracer().startSpan(`${request.method} ${route ?? '(unmatched)'}`, {
        attributes: { 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}) },
      });
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const status = reply.statusCode;
    metrics?.observeRequest(request.method, route, status, reply.elapsedTime / 1000);
    if (route && LOGIN_ROUTES.test(route) && (status === 401 || status === 429)) {
      metrics?.loginFailures.inc({ reason: status === 401 ? 'rejected' : 'rate_limited' });
    }
    const span = request.paveSpan;
    if (span) {
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}

/**
 * `GET /metrics` on the API port: the Prometheus text of `metrics`, for a caller whose token holds
 * `metrics.read` (401 without a token, 403 without the permission). Hidden from the OpenAPI document: it is
 * not part of the versioned API.
 */
export function metricsRoute(app: FastifyInstance, store: Store, metrics: PaveMetrics): void {
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      config: { permission: 'metrics.read' },
      onRequest: async (request) => {
        const actor = await authenticate(
          store.db,
          bearerToken(request, 'send "Authorization: Bearer pave_…" of a token that holds metrics.read'),
        );
        request.pave = { actor, requestId: String(request.id) };
        authorize(actor, 'metrics.read');
      },
    },
    async (_request, reply) => {
      const text = await metrics.render();
      return reply.type(metrics.contentType).header('cache-control', 'no-store').send(text);
    },
  );
}

/** A metrics listener of its own (`pave up --metrics-port`): `close` stops it. */
export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` without authentication on host:port (`pave up --metrics-port`, loopback by
 * default): for a Prometheus on the same host or network, when a token in its config is not wanted.
 * Anything else answers 404. Rejects when it cannot listen.
 */
export async function listenForMetrics(
  metrics: PaveMetrics,
  host: string,
  port: number,
): Promise<MetricsListener> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape GET /metrics\n');
      return;
    }
    metrics
      .render()
      .then((text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text))
      .catch(() => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'));
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => resolveListen());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    server,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
