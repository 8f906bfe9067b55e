import { AppParams, Insights, InsightsQuery, insightsWindowSeconds } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { authorize, decideFor, environmentAccess } from '../../domain/access.ts';
import { getEnvironment, listEnvironments } from '../../domain/environments.ts';
import { computeInsights } from '../../domain/insights.ts';

/** The window insights look back over when the caller names none. */
const DEFAULT_WINDOW = '30d';

/**
 * `GET /apps/{app}/insights`: the DORA measures of an app's deployments. Reading them is reading deployments:
 * an environment counts when the caller may read its deployments (`deployment.read`, checked against its
 * type as the per-environment routes are); naming one the caller may not read is refused.
 */
export function insightsRoutes(api: ApiServer, deps: { store: Store }): void {
  const { store } = deps;
  api.get(
    '/apps/:app/insights',
    {
      config: { permission: 'deployment.read' },
      schema: {
        tags: ['deployments'],
        summary: 'DORA insights: deployment frequency, lead time, change failure rate, time to restore',
        params: AppParams,
        querystring: InsightsQuery,
        response: { 200: Insights },
      },
    },
    async (request) => {
      const { app } = request.params;
      const { env } = request.query;
      const envs: string[] = [];
      if (env) {
        await getEnvironment(store.db, app, env);
        const access = await environmentAccess(store.db, app, env);
        authorize(request.pave.actor, 'deployment.read', { app, ...access });
        envs.push(env);
      } else {
        for (const environment of await listEnvironments(store.db, app)) {
          const access = await environmentAccess(store.db, app, environment.id);
          if (!access) continue;
          if (!decideFor(request.pave.actor, 'deployment.read', { app, ...access }).allowed) continue;
          envs.push(environment.id);
        }
      }
      const until = new Date();
      const seconds = insightsWindowSeconds(request.query.since ?? DEFAULT_WINDOW)!;
      const since = new Date(until.getTime() - seconds * 1000);
      return computeInsights(store, {
        app,
        envs: envs.sort(),
        since: since.toISOString(),
        until: until.toISOString(),
      });
    },
  );
}
