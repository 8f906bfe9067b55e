import { AppParams, CreateEnvironmentBody, EnvParams, Environment, listOf } from '@pave/core';
import type { RuntimeDriver } from '@pave/plugin-api';
import type { ApiServer } from '../app.ts';
import { destroyWorkloads } from '../../domain/deployments/orchestrator.ts';
import type { Store } from '../../store/index.ts';
import {
  createEnvironment,
  deleteEnvironment,
  getEnvironment,
  listEnvironments,
} from '../../domain/environments.ts';

/** Environments of an application: list, create, get, delete. */
export function environmentRoutes(
  api: ApiServer,
  store: Store,
  runtime?: RuntimeDriver,
  onQueued: () => void = () => undefined,
): void {
  api.get(
    '/apps/:app/envs',
    {
      schema: {
        tags: ['environments'],
        summary: "List an application's environments",
        params: AppParams,
        response: { 200: listOf(Environment) },
      },
    },
    async (request) => ({ items: await listEnvironments(store.db, request.params.app) }),
  );
  api.post(
    '/apps/:app/envs',
    {
      schema: {
        tags: ['environments'],
        summary: 'Create an environment',
        params: AppParams,
        body: CreateEnvironmentBody,
        response: { 201: Environment },
      },
    },
    async (request, reply) => {
      const created = await createEnvironment(store, request.pave, request.params.app, request.body);
      if (request.body.from) onQueued();
      return reply.code(201).send(created);
    },
  );
  api.get(
    '/apps/:app/envs/:env',
    {
      schema: {
        tags: ['environments'],
        summary: 'Get an environment',
        params: EnvParams,
        response: { 200: Environment },
      },
    },
    async (request) => getEnvironment(store.db, request.params.app, request.params.env),
  );
  api.delete(
    '/apps/:app/envs/:env',
    { schema: { tags: ['environments'], summary: 'Delete an environment', params: EnvParams } },
    async (request, reply) => {
      await deleteEnvironment(store, request.pave, request.params.app, request.params.env);
      await destroyWorkloads(runtime, request.log, [{ app: request.params.app, env: request.params.env }]);
      return reply.code(204).send();
    },
  );
}
