import {
  App,
  AppDetail,
  AppListQuery,
  AppPage,
  AppParams,
  CreateAppBody,
  DeleteAppQuery,
  ServiceUnavailableError,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import { appWideChecks, appsActorSees } from '../../domain/access.ts';
import type { Store } from '../../store/index.ts';
import { createApp, deleteApp, getApp, listApps } from '../../domain/apps.ts';
import { deleteEnvironment, listEnvironments, type EnvironmentTeardown } from '../../domain/environments.ts';
import { isStoppingError } from '../../domain/deployments/orchestrator.ts';

/** Applications: list, create, get (with environments), delete (`?force=true` with environments). */
export function appRoutes(api: ApiServer, store: Store, teardown?: EnvironmentTeardown): void {
  api.get(
    '/apps',
    {
      config: { permission: 'app.list' },
      schema: {
        tags: ['apps'],
        summary: 'List the applications the caller may see, ordered by id, a page at a time',
        querystring: AppListQuery,
        response: { 200: AppPage },
      },
    },
    async (request) => listApps(store.db, appsActorSees(request.pave.actor), request.query),
  );
  api.post(
    '/apps',
    {
      config: { permission: 'app.create' },
      schema: {
        tags: ['apps'],
        summary: 'Create an application',
        body: CreateAppBody,
        response: { 201: App },
      },
    },
    async (request, reply) => reply.code(201).send(await createApp(store, request.pave, request.body)),
  );
  api.get(
    '/apps/:app',
    {
      config: { permission: 'app.read' },
      schema: {
        tags: ['apps'],
        summary: 'Get an application',
        params: AppParams,
        response: { 200: AppDetail },
      },
    },
    async (request) => getApp(store.db, request.params.app),
  );
  api.delete(
    '/apps/:app',
    {
      config: {
        permission: 'app.delete',
        // Deleting an app deletes its environments, restricted ones included.
        access: async (request) =>
          appWideChecks(store.db, (request.params as { app: string }).app, 'app.delete'),
      },
      schema: {
        tags: ['apps'],
        summary: 'Delete an application',
        params: AppParams,
        querystring: DeleteAppQuery,
        response: { 204: noContent('The app is deleted') },
      },
    },
    async (request, reply) => {
      const force = request.query.force === 'true';
      if (force) {
        // Each environment's workloads and resources go first; a resource that cannot be deleted stops here.
        for (const env of await listEnvironments(store.db, request.params.app)) {
          await deleteEnvironment(store, request.pave, request.params.app, env.id, teardown).catch(
            (error: unknown) => {
              if (!isStoppingError(error)) throw error;
              const app = request.params.app;
              throw new ServiceUnavailableError(`${(error as Error).message}; app ${app} is kept`, [
                {
                  path: 'path.app',
                  message: `delete it again once Pave runs (pave apps delete ${app} --force)`,
                },
              ]);
            },
          );
        }
      }
      await deleteApp(store, request.pave, request.params.app, { force, deletedEnvironments: force });
      return reply.code(204).send(null);
    },
  );
}
