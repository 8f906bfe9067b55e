import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * The portal's Content Security Policy: scripts, styles and connections only from Pave's own origin (no
 * inline script, no eval), no plugins, and no page may frame it.
 */
export const PORTAL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The policy of API answers: JSON is never a document that loads or frames anything. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Headers on every API answer, also for routes that write their response themselves (the log stream):
 * nothing is cached (values may be revealed secrets), sniffed into another type or framed.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': API_CSP,
};

const proxied = new WeakSet<FastifyRequest>();

/** Marks a request the embedded reverse proxy answers: the workload's headers reach the caller untouched. */
export function markProxied(request: FastifyRequest): void {
  proxied.add(request);
}

/**
 * Adds security headers to every answer Pave itself gives: {@link API_SECURITY_HEADERS} on the API, health
 * checks and errors; on the portal the same with its own CSP, its files keeping their own caching. Answers of
 * workloads behind the reverse proxy are left alone.
 */
export function securityHeaders(app: FastifyInstance): void {
  const headers = Object.entries(API_SECURITY_HEADERS);
  // A callback hook: every answer runs it (see app.ts).
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!proxied.has(request)) {
      const cached = reply.hasHeader('cache-control') || reply.raw.hasHeader('cache-control');
      for (const [name, value] of headers) {
        if (name === 'cache-control' && cached) continue;
        reply.header(name, value);
      }
      if (!request.url.startsWith('/api/')) reply.header('content-security-policy', PORTAL_CSP);
    }
    done(null, payload);
  });
}
