import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/**
 * Serves the portal (the built Vite app, packages/cli/dist/portal) at `/`: its index.html and assets. The
 * portal talks to the API like any client; nothing here is authenticated (the files hold no data).
 * Does nothing when the directory is missing (a server started from sources without a build).
 */
export async function portalRoutes(app: FastifyInstance, dir: string | undefined): Promise<void> {
  if (!dir || !existsSync(join(dir, 'index.html'))) return;
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    index: ['index.html'],
    // Files are looked up per request, so a rebuild while the server runs is served at once.
    wildcard: true,
    cacheControl: false,
    setHeaders(response, path) {
      // Hashed assets never change; index.html must be fetched anew to pick up a new build.
      response.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      response.setHeader('x-content-type-options', 'nosniff');
    },
  });
}
