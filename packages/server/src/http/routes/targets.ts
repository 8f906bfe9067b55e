import {
  ApplyTargetsBody,
  DefinitionsPlan,
  MatchExplanationSchema,
  RuntimeTargetView,
  TargetMatchQuery,
  TargetParams,
  listOf,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import { environmentRow } from '../../domain/environments.ts';
import {
  applyTargets,
  deleteTarget,
  explainTargetMatch,
  getTarget,
  listTargets,
} from '../../domain/targets.ts';

/** Runtime targets: where each environment's workloads run (platform config). */
export function targetRoutes(api: ApiServer, store: Store): void {
  const tags = ['runtime targets'];
  api.get(
    '/runtime-targets',
    {
      config: { permission: 'target.read' },
      schema: {
        tags,
        summary: 'List runtime targets, the built-in local one included',
        response: { 200: listOf(RuntimeTargetView) },
      },
    },
    async () => ({ items: await listTargets(store.db) }),
  );
  api.post(
    '/runtime-targets/apply',
    {
      config: { permission: 'target.write' },
      schema: {
        tags,
        summary: 'Apply runtime targets declaratively (create or update; dryRun only plans)',
        body: ApplyTargetsBody,
        response: { 200: DefinitionsPlan },
      },
    },
    async (request) => applyTargets(store, request.pave, request.body),
  );
  api.get(
    '/runtime-targets/match',
    {
      config: { permission: 'target.read' },
      schema: {
        tags,
        summary: 'Explain which target an environment runs on, and why the others do not match',
        querystring: TargetMatchQuery,
        response: { 200: MatchExplanationSchema },
      },
    },
    async (request) => {
      const environment = await environmentRow(store.db, request.query.app, request.query.env);
      return explainTargetMatch(store.db, request.query.app, request.query.env, environment.type);
    },
  );
  api.get(
    '/runtime-targets/:id',
    {
      config: { permission: 'target.read' },
      schema: {
        tags,
        summary: 'Get a runtime target',
        params: TargetParams,
        response: { 200: RuntimeTargetView },
      },
    },
    async (request) => getTarget(store.db, request.params.id),
  );
  api.delete(
    '/runtime-targets/:id',
    {
      config: { permission: 'target.write' },
      schema: { tags, summary: 'Delete a runtime target no environment runs on', params: TargetParams },
    },
    async (request, reply) => {
      await deleteTarget(store, request.pave, request.params.id);
      return reply.code(204).send();
    },
  );
}
