import { CreateEnvTypeBody, EnvType, listOf } from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { createEnvType, listEnvTypes } from '../../domain/env-types.ts';

/** Environment types: list and create. */
export function envTypeRoutes(api: ApiServer, store: Store): void {
  api.get(
    '/env-types',
    {
      config: { permission: 'env-type.read' },
      schema: { tags: ['env-types'], summary: 'List environment types', response: { 200: listOf(EnvType) } },
    },
    async () => ({ items: await listEnvTypes(store.db) }),
  );
  api.post(
    '/env-types',
    {
      config: { permission: 'env-type.write' },
      schema: {
        tags: ['env-types'],
        summary: 'Create an environment type',
        body: CreateEnvTypeBody,
        response: { 201: EnvType },
      },
    },
    async (request, reply) => reply.code(201).send(await createEnvType(store, request.pave, request.body)),
  );
}
