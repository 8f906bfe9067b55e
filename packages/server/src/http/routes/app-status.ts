import { AppParams, AppStatus } from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { FastifyInstance } from 'fastify';
import type { ApiServer } from '../app.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { Store } from '../../store/index.ts';
import { decideFor, environmentAccess } from '../../domain/access.ts';
import { listEnvironments } from '../../domain/environments.ts';
import { worstOf } from '../../domain/deployments/health.ts';
import { environmentStatus } from '../../domain/deployments/status.ts';

/**
 * The port the server listens on, which is also the reverse proxy's (it serves routes on the API's own
 * port); undefined while it is not listening (tests that inject requests).
 */
export function listeningPort(server: FastifyInstance): number | undefined {
  const address = server.server.address();
  return typeof address === 'object' && address ? address.port : undefined;
}

/**
 * `GET /apps/{app}/status`: the live status and health of every environment of an app, in one request. An
 * environment is included when the caller may read its status on its own (`deployment.read` on the app,
 * checked against the environment's type as the per-environment status route is); the others are left out.
 */
export function appStatusRoutes(
  api: ApiServer,
  deps: { store: Store; runtime: RuntimeDriver; box?: SecretBox | undefined },
): void {
  const { store, runtime, box } = deps;
  api.get(
    '/apps/:app/status',
    {
      config: { permission: 'deployment.read' },
      schema: {
        tags: ['deployments'],
        summary: 'Live status and health of every environment of an application',
        params: AppParams,
        response: { 200: AppStatus },
      },
    },
    async (request) => {
      const { app } = request.params;
      const proxyPort = listeningPort(request.server);
      const readable: Array<{ id: string; type: string; restricted: boolean }> = [];
      for (const environment of await listEnvironments(store.db, app)) {
        const access = await environmentAccess(store.db, app, environment.id);
        if (!access) continue;
        const target = { app, envType: access.envType, restricted: access.restricted };
        if (!decideFor(request.pave.actor, 'deployment.read', target).allowed) continue;
        readable.push({ id: environment.id, type: access.envType, restricted: access.restricted });
      }
      // Runtimes are asked in parallel: each may take up to its timeout when its target is unreachable.
      const statuses = await Promise.all(
        readable.map(async (environment) => {
          try {
            const status = await environmentStatus(
              store,
              runtime,
              { app, env: environment.id },
              request.log,
              { proxyPort, box },
            );
            return { ...status, type: environment.type, restricted: environment.restricted };
          } catch (error) {
            // Deleted since it was listed: it is no longer the app's.
            if ((error as Error).name === 'NotFoundError') return undefined;
            throw error;
          }
        }),
      );
      const environments = statuses.filter((status) => status !== undefined);
      return {
        appId: app,
        // With no environment, nothing is deployed anywhere: unknown, as an environment with nothing deployed.
        health:
          environments.length === 0
            ? 'unknown'
            : worstOf(
                environments.map((status) => ({
                  health: status.health ?? 'unknown',
                  ...(status.healthDetail ? { detail: `${status.envId}: ${status.healthDetail}` } : {}),
                })),
              ).health,
        environments,
      };
    },
  );
}
