import {
  ApplyTargetsBody,
  InputError,
  NotFoundError,
  DefinitionsPlan,
  EnvParams,
  RenderQuery,
  RenderResult,
  MatchExplanationSchema,
  RuntimeTargetView,
  TargetListQuery,
  TargetMatchQuery,
  TargetPage,
  TargetParams,
  type RuntimeTargetView as RuntimeTargetViewType,
} from '@pave/core';
import type { SecretBox } from '../../secrets/secret-box.ts';
import type { ApiServer } from '../app.ts';
import { noContent } from '../responses.ts';
import type { Store } from '../../store/index.ts';
import { environmentRow } from '../../domain/environments.ts';
import { recordSecretsShown } from '../../domain/values.ts';
import {
  applyTargets,
  deleteTarget,
  explainTargetMatch,
  getTarget,
  listTargetPage,
  matchTarget,
} from '../../domain/targets.ts';

/** Renders an environment for a target, or as a Compose file (the runtime router, in a real server). */
export interface TargetRenderer {
  render(
    store: Store,
    box: SecretBox,
    target: { app: string; env: string },
    view: RuntimeTargetViewType,
  ): Promise<string>;
  renderCompose(store: Store, box: SecretBox, target: { app: string; env: string }): Promise<string>;
}

/** Runtime targets: where each environment's workloads run (platform config), and `pave render`. */
export function targetRoutes(
  api: ApiServer,
  store: Store,
  renderer?: { renderer: TargetRenderer; box: SecretBox },
): void {
  const tags = ['runtime targets'];
  api.get(
    '/runtime-targets',
    {
      config: { permission: 'target.read' },
      schema: {
        tags,
        summary:
          'List runtime targets, the built-in local one included, ordered by id, a page at a time ' +
          '(100 unless `limit` says)',
        querystring: TargetListQuery,
        response: { 200: TargetPage },
      },
    },
    async (request) => listTargetPage(store.db, request.query),
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
  if (renderer) {
    api.get(
      '/apps/:app/envs/:env/render',
      {
        // The manifests hold the environment's secret values (in Secret objects). A Compose file holds none
        // (references instead), but shows every other value as rendered: the same permission guards both.
        // Rendering for another target than the environment's own previews a move there; its settings show
        // in the manifests (the namespace), so naming one needs what reading it needs: target.read. Asked
        // whether it exists or not, so the answer does not tell which targets exist.
        config: {
          permission: 'values.reveal',
          access: async (request) => {
            const { app, env } = request.params as { app: string; env: string };
            const { target: named, format } = request.query as { target?: unknown; format?: unknown };
            // A Compose file takes no target: the route refuses one with a 400 that says so.
            if (typeof named !== 'string' || format === 'compose') return [];
            if (await isOwnTarget(store, app, env, named)) return [];
            return [{ permission: 'target.read', target: {} }];
          },
        },
        schema: {
          tags,
          summary:
            "Render an environment's current set as a kubernetes target would apply it, or as a Compose file " +
            '(YAML), applying nothing',
          params: EnvParams,
          querystring: RenderQuery,
          response: { 200: RenderResult },
        },
      },
      async (request) => {
        const { app, env } = request.params;
        const environment = await environmentRow(store.db, app, env);
        if (request.query.format === 'compose') {
          if (request.query.target) {
            throw new InputError('a Compose file does not depend on a runtime target', [
              { path: 'query.target', message: 'leave the target out with format=compose' },
            ]);
          }
          const manifests = await renderer.renderer.renderCompose(store, renderer.box, { app, env });
          return { format: 'compose' as const, manifests };
        }
        const view = request.query.target
          ? await getTarget(store.db, request.query.target).catch((error: Error) => {
              throw error.name === 'NotFoundError' ? unknownRenderTarget(request.query.target!) : error;
            })
          : await matchTarget(store.db, app, env, environment.type);
        const manifests = await renderer.renderer.render(store, renderer.box, { app, env }, view);
        // The manifests hold the environment's secrets in plaintext: audited as listing them revealed is.
        await recordSecretsShown(store.db, request.pave, app, env, `apps/${app}/envs/${env}/render`, {
          format: 'kubernetes',
          target: view.id,
        });
        return { format: 'kubernetes' as const, target: view.id, type: view.type, manifests };
      },
    );
  }
  api.delete(
    '/runtime-targets/:id',
    {
      config: { permission: 'target.write' },
      schema: {
        tags,
        summary: 'Delete a runtime target no environment runs on',
        params: TargetParams,
        response: { 204: noContent('The runtime target is deleted') },
      },
    },
    async (request, reply) => {
      await deleteTarget(store, request.pave, request.params.id);
      return reply.code(204).send(null);
    },
  );
}

/**
 * Whether `id` is the target an environment runs on (recorded by its last deployment) or would run on next
 * (the one it matches, what `pave render` renders for by default). True when the environment does not exist:
 * the route answers 404 for it.
 */
async function isOwnTarget(store: Store, app: string, env: string, id: string): Promise<boolean> {
  const row = await store.db
    .selectFrom('environments')
    .select(['type', 'runtime_target'])
    .where('app_id', '=', app)
    .where('id', '=', env)
    .executeTakeFirst();
  if (!row || row.runtime_target === id) return true;
  return (await matchTarget(store.db, app, env, row.type)).id === id;
}

/** The answer to `pave render --target` naming a target that does not exist. */
function unknownRenderTarget(id: string): NotFoundError {
  return new NotFoundError(`runtime target "${id}" not found`, [
    {
      path: 'query.target',
      message:
        'no such runtime target: `pave targets list` shows them; leave --target out to render for the one ' +
        'the environment runs on',
    },
  ]);
}
