import {
  ApplyDefinitionsBody,
  DefinitionListQuery,
  DefinitionPage,
  DefinitionParams,
  DeleteDefinitionQuery,
  DefinitionsPlan,
  EnvParams,
  MatchExplanationSchema,
  MatchQueryString,
  MoveResourceBody,
  Resource,
  ResourceCheck,
  ResourceDefinition,
  ResourceGraph,
  ResourceListQuery,
  ResourcePage,
  ResourceParams,
  DEFAULT_RESOURCE_CLASS,
  listOf,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { environmentRow } from '../../domain/environments.ts';
import {
  applyDefinitions,
  deleteDefinition,
  explainDefinitionMatch,
  getDefinition,
  listDefinitionPage,
} from '../../domain/resources/definitions.ts';
import { driverContext } from '../../domain/deployments/orchestrator.ts';
import {
  checkResources,
  environmentGraph,
  getResource,
  listResources,
  moveResource,
} from '../../domain/resources/inventory.ts';
import type { ResourceDriverRegistry } from '../../domain/resources/provision.ts';

/** What the resource routes need. */
export interface ResourceRouteDeps {
  store: Store;
  box: SecretBox;
  drivers: ResourceDriverRegistry;
}

/**
 * How long `pave resources check` may wait for the drivers of an environment's resources to answer, all of
 * them together, whatever their definitions' own timeouts (docs/architecture.md lists Pave's fixed budgets).
 */
const CHECK_TIMEOUT_MS = 60_000;

/** Resource definitions (platform config) and the resources provisioned for each environment. */
export function resourceRoutes(api: ApiServer, deps: ResourceRouteDeps): void {
  const { store, box, drivers } = deps;
  const tags = ['resources'];
  api.get(
    '/resource-definitions',
    {
      config: { permission: 'definition.read' },
      schema: {
        tags,
        summary:
          'List resource definitions, the built-in defaults included, ordered by id, a page at a time ' +
          '(100 unless `limit` says)',
        querystring: DefinitionListQuery,
        response: { 200: DefinitionPage },
      },
    },
    async (request) => listDefinitionPage(store.db, request.query),
  );
  api.post(
    '/resource-definitions/apply',
    {
      config: { permission: 'definition.write' },
      schema: {
        tags,
        summary: 'Apply resource definitions declaratively (create or update; dryRun only plans)',
        body: ApplyDefinitionsBody,
        response: { 200: DefinitionsPlan },
      },
    },
    async (request) => applyDefinitions(store, box, request.pave, request.body, drivers.names()),
  );
  api.get(
    '/resource-definitions/match',
    {
      config: { permission: 'definition.read' },
      schema: {
        tags,
        summary: 'Explain which definition provisions a resource, and why the others do not',
        querystring: MatchQueryString,
        response: { 200: MatchExplanationSchema },
      },
    },
    async (request) => {
      const { app, env, type, id } = request.query;
      const environment = await environmentRow(store.db, app, env);
      return explainDefinitionMatch(store.db, {
        type,
        envType: environment.type,
        envId: env,
        appId: app,
        resId: id ?? '',
        class: request.query.class ?? DEFAULT_RESOURCE_CLASS,
      });
    },
  );
  api.get(
    '/resource-definitions/:id',
    {
      config: { permission: 'definition.read' },
      schema: {
        tags,
        summary: 'Get a resource definition (secret inputs by name only)',
        params: DefinitionParams,
        response: { 200: ResourceDefinition },
      },
    },
    async (request) => getDefinition(store.db, request.params.id),
  );
  api.delete(
    '/resource-definitions/:id',
    {
      config: { permission: 'definition.write' },
      schema: {
        tags,
        summary: 'Delete a resource definition; refused while resources use it unless force=true',
        params: DefinitionParams,
        querystring: DeleteDefinitionQuery,
        response: { 204: noContent('The resource definition is deleted') },
      },
    },
    async (request, reply) => {
      await deleteDefinition(store, request.pave, request.params.id, {
        force: request.query.force === 'true',
      });
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/apps/:app/envs/:env/resources',
    {
      config: { permission: 'resource.read' },
      schema: {
        tags,
        summary:
          "List an environment's provisioned resources (secret outputs by name only), by address, a page at a time",
        description: 'A page holds 100 resources unless `limit` says otherwise (at most 500).',
        params: EnvParams,
        querystring: ResourceListQuery,
        response: { 200: ResourcePage },
      },
    },
    async (request) => listResources(store.db, request.params.app, request.params.env, request.query),
  );
  api.get(
    '/apps/:app/envs/:env/resources/check',
    {
      config: { permission: 'resource.read' },
      schema: {
        tags,
        summary:
          "Ask each resource's driver whether it still exists as recorded: ok, missing, drifted or error (changes nothing)",
        params: EnvParams,
        response: { 200: listOf(ResourceCheck) },
      },
    },
    async (request) => {
      const ctx = driverContext(request.log, AbortSignal.timeout(CHECK_TIMEOUT_MS));
      try {
        return {
          items: await checkResources(deps, request.params.app, request.params.env, ctx),
        };
      } finally {
        ctx.dispose();
      }
    },
  );
  api.get(
    '/apps/:app/envs/:env/resources/:address',
    {
      config: { permission: 'resource.read' },
      schema: {
        tags,
        summary: 'Get one resource by address (`<workload>.<name>` or `shared.<id>`)',
        params: ResourceParams,
        response: { 200: Resource },
      },
    },
    async (request) => getResource(store.db, request.params.app, request.params.env, request.params.address),
  );
  api.post(
    '/apps/:app/envs/:env/resources/move',
    {
      config: { permission: 'resource.write' },
      schema: {
        tags,
        summary: 'Re-point a resource at a new address (a renamed Score resource); its data is untouched',
        params: EnvParams,
        body: MoveResourceBody,
        response: { 200: Resource },
      },
    },
    async (request) =>
      moveResource(
        store,
        request.pave,
        request.params.app,
        request.params.env,
        request.body.from,
        request.body.to,
      ),
  );
  api.get(
    '/apps/:app/envs/:env/resource-graph',
    {
      config: { permission: 'resource.read' },
      schema: {
        tags,
        summary: "The resource graph of an environment's current set (JSON and text)",
        params: EnvParams,
        response: { 200: ResourceGraph },
      },
    },
    async (request) => environmentGraph(store.db, request.params.app, request.params.env),
  );
}
