import {
  CreateEnvTypeBody,
  EnvType,
  EnvTypeListQuery,
  EnvTypePage,
  EnvTypeParams,
  UpdateEnvTypeBody,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { createEnvType, getEnvType, listEnvTypes, updateEnvType } from '../../domain/env-types.ts';

/** Environment types: list, get, create and change. */
export function envTypeRoutes(api: ApiServer, store: Store): void {
  const tags = ['env-types'];
  api.get(
    '/env-types',
    {
      config: { permission: 'env-type.read' },
      schema: {
        tags,
        summary: 'List environment types, ordered by id, a page at a time (100 unless `limit` says)',
        querystring: EnvTypeListQuery,
        response: { 200: EnvTypePage },
      },
    },
    async (request) => listEnvTypes(store.db, request.query),
  );
  api.post(
    '/env-types',
    {
      config: { permission: 'env-type.write' },
      schema: {
        tags,
        summary: 'Create an environment type',
        body: CreateEnvTypeBody,
        response: { 201: EnvType },
      },
    },
    async (request, reply) => reply.code(201).send(await createEnvType(store, request.pave, request.body)),
  );
  api.get(
    '/env-types/:type',
    {
      config: { permission: 'env-type.read' },
      schema: { tags, summary: 'Get an environment type', params: EnvTypeParams, response: { 200: EnvType } },
    },
    async (request) => getEnvType(store.db, request.params.type),
  );
  api.patch(
    '/env-types/:type',
    {
      config: { permission: 'env-type.write' },
      schema: {
        tags,
        summary:
          'Change an environment type (description, stability window, approval); fields not given stay',
        params: EnvTypeParams,
        body: UpdateEnvTypeBody,
        response: { 200: EnvType },
      },
    },
    async (request) => updateEnvType(store, request.pave, request.params.type, request.body),
  );
}
