import {
  AppParams,
  CreateEnvironmentBody,
  EnvParams,
  Environment,
  EnvironmentDetail,
  EnvironmentListQuery,
  EnvironmentPage,
  ExtendEnvironmentBody,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { environmentAccess, environmentCreationChecks, type AccessCheck } from '../../domain/access.ts';
import {
  createEnvironment,
  deleteEnvironment,
  environmentPage,
  extendEnvironment,
  getEnvironment,
  type EnvironmentTeardown,
} from '../../domain/environments.ts';
import { matchTarget } from '../../domain/targets.ts';

/** Environments of an application: list, create, get, extend, delete. */
export function environmentRoutes(
  api: ApiServer,
  store: Store,
  teardown?: EnvironmentTeardown,
  onQueued: () => void = () => undefined,
): void {
  api.get(
    '/apps/:app/envs',
    {
      config: { permission: 'env.read' },
      schema: {
        tags: ['environments'],
        summary: "List an application's environments, ordered by id, a page at a time",
        description: 'A page holds 100 environments unless `limit` says otherwise (at most 500).',
        params: AppParams,
        querystring: EnvironmentListQuery,
        response: { 200: EnvironmentPage },
      },
    },
    async (request) => environmentPage(store.db, request.params.app, request.query),
  );
  api.post(
    '/apps/:app/envs',
    {
      config: {
        permission: 'env.create',
        // A restricted type, or a clone of a restricted environment, needs deployer on that type too. A clone
        // copies the source's secrets, so it needs what revealing them needs (asked first, so a refusal says so).
        access: async (request) => {
          const { app } = request.params as { app: string };
          return [
            ...(await cloneRevealCheck(store, app, request.body)),
            ...(await environmentCreationChecks(store.db, app, request.body)),
          ];
        },
      },
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
      config: { permission: 'env.read' },
      schema: {
        tags: ['environments'],
        summary: 'Get an environment, and the runtime target a deployment of it would use now',
        params: EnvParams,
        response: { 200: EnvironmentDetail },
      },
    },
    async (request) => {
      const environment = await getEnvironment(store.db, request.params.app, request.params.env);
      const target = await matchTarget(store.db, environment.appId, environment.id, environment.type);
      return { ...environment, runtimeTarget: { id: target.id, type: target.type } };
    },
  );
  api.post(
    '/apps/:app/envs/:env/extend',
    {
      config: { permission: 'env.update' },
      schema: {
        tags: ['environments'],
        summary: 'Set when an ephemeral environment expires: ttlSeconds from now',
        params: EnvParams,
        body: ExtendEnvironmentBody,
        response: { 200: Environment },
      },
    },
    async (request) =>
      extendEnvironment(store, request.pave, request.params.app, request.params.env, request.body.ttlSeconds),
  );
  api.delete(
    '/apps/:app/envs/:env',
    {
      config: { permission: 'env.delete' },
      schema: {
        tags: ['environments'],
        summary: 'Delete an environment: stop its workloads and delete its resources (databases included)',
        params: EnvParams,
        response: { 204: noContent('The environment, its workloads and its resources are deleted') },
      },
    },
    async (request, reply) => {
      await deleteEnvironment(store, request.pave, request.params.app, request.params.env, teardown);
      return reply.code(204).send(null);
    },
  );
}

/**
 * `values.reveal` on the environment a clone copies (`from` in the body): its secrets become the new
 * environment's, readable by whoever may read that one. None when there is no source, or no such environment
 * (the route refuses that next); the body is read defensively, as it is not validated yet.
 */
async function cloneRevealCheck(store: Store, app: string, body: unknown): Promise<AccessCheck[]> {
  const from = typeof body === 'object' && body !== null ? (body as { from?: unknown }).from : undefined;
  if (typeof from !== 'string') return [];
  const source = await environmentAccess(store.db, app, from);
  return source ? [{ permission: 'values.reveal', target: { app, ...source } }] : [];
}
