import {
  AppParams,
  EnvParams,
  ImportValuesBody,
  PatchValuesBody,
  RotationResult,
  ValueList,
  ValuesChanged,
  ValuesDiff,
  ValuesDiffQuery,
  ValuesQuery,
  ValuesHistoryQuery,
  ValuesRollbackBody,
  ValuesVersionPage,
} from '@pave/core';
import type { ApiServer } from '../app.ts';
import type { Store } from '../../store/index.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import {
  importValues,
  listValues,
  patchValues,
  rollbackValues,
  valuesDiff,
  valuesHistory,
} from '../../domain/values.ts';
import { recordAudit } from '../../domain/audit.ts';
import { appWideChecks, type AccessCheck } from '../../domain/access.ts';
import type { FastifyRequest } from 'fastify';

/** What the values routes need. */
export interface ValuesRouteDeps {
  store: Store;
  box: SecretBox;
}

/** Configuration values and secrets at app and environment level, their versions, and key rotation. */
export function valuesRoutes(api: ApiServer, deps: ValuesRouteDeps): void {
  const { store, box } = deps;
  const tags = ['values'];
  for (const scope of ['app', 'env'] as const) {
    const base = scope === 'app' ? '/apps/:app/values' : '/apps/:app/envs/:env/values';
    const params = scope === 'app' ? AppParams : EnvParams;
    const envOf = (p: { app: string; env?: string }) => (scope === 'env' ? p.env : undefined);
    // App-level values are the defaults of every environment: changing them reaches restricted ones too.
    const appLevelWrite =
      scope === 'app'
        ? async (request: FastifyRequest) =>
            appWideChecks(store.db, (request.params as { app: string }).app, 'values.write')
        : undefined;
    api.get(
      base,
      {
        config: {
          permission: 'values.read',
          // Revealing app-level secrets reveals the defaults of every environment, restricted ones included.
          access: async (request) => {
            if ((request.query as { reveal?: unknown }).reveal !== 'true') return [];
            const { app } = request.params as { app: string };
            const own: AccessCheck = { permission: 'values.reveal', target: request.accessTarget };
            return scope === 'env' ? [own] : [own, ...(await appWideChecks(store.db, app, 'values.reveal'))];
          },
        },
        schema: {
          tags,
          summary:
            scope === 'app'
              ? 'List app-level values (defaults for every environment)'
              : "List an environment's effective values and where each comes from",
          params,
          querystring: ValuesQuery,
          response: { 200: ValueList },
        },
      },
      async (request) => {
        const p = request.params as { app: string; env?: string };
        return listValues(store, box, request.pave, p.app, envOf(p), request.query.reveal === 'true');
      },
    );
    api.patch(
      base,
      {
        config: { permission: 'values.write', access: appLevelWrite },
        schema: {
          tags,
          summary: 'Set and unset values; each change makes a new version',
          params,
          body: PatchValuesBody,
          response: { 200: ValuesChanged },
        },
      },
      async (request) => {
        const p = request.params as { app: string; env?: string };
        return patchValues(store, box, request.pave, p.app, envOf(p), request.body);
      },
    );
    api.post(
      `${base}/import`,
      {
        config: { permission: 'values.write', access: appLevelWrite },
        schema: {
          tags,
          summary: 'Import a dotenv file (refused whole, naming its bad lines, if malformed)',
          params,
          body: ImportValuesBody,
          response: { 200: ValuesChanged },
        },
      },
      async (request) => {
        const p = request.params as { app: string; env?: string };
        return importValues(store, box, request.pave, p.app, envOf(p), request.body);
      },
    );
  }
  api.get(
    '/apps/:app/envs/:env/values/versions',
    {
      config: { permission: 'values.read' },
      schema: {
        tags,
        summary: "Versions of an environment's values, newest first, a page at a time",
        params: EnvParams,
        querystring: ValuesHistoryQuery,
        response: { 200: ValuesVersionPage },
      },
    },
    async (request) => valuesHistory(store.db, request.params.app, request.params.env, request.query),
  );
  api.get(
    '/apps/:app/envs/:env/values/diff',
    {
      config: { permission: 'values.read' },
      schema: {
        tags,
        summary:
          "Compare two versions of an environment's values (by default the newest with the one before); secrets show only whether they changed",
        params: EnvParams,
        querystring: ValuesDiffQuery,
        response: { 200: ValuesDiff },
      },
    },
    async (request) => valuesDiff(store.db, request.params.app, request.params.env, request.query),
  );
  api.post(
    '/apps/:app/envs/:env/values/rollback',
    {
      config: { permission: 'values.write' },
      schema: {
        tags,
        summary:
          'Restore an earlier version of the values (as a new version); takes effect on the next deployment',
        params: EnvParams,
        body: ValuesRollbackBody,
        response: { 200: ValuesChanged },
      },
    },
    async (request) =>
      rollbackValues(store, request.pave, request.params.app, request.params.env, request.body.version),
  );
  api.post(
    '/admin/rotate-master-key',
    {
      config: { permission: 'key.rotate' },
      schema: {
        tags: ['admin'],
        summary: 'Create a new master key and re-wrap every data key with it',
        response: { 200: RotationResult },
      },
    },
    async (request) => {
      // One rotation at a time on every replica; only unreferenced master keys are retired (see SecretBox).
      const { masterKeyVersion, rewrappedDataKeys } = await box.rotateMasterKey();
      await recordAudit(store.db, request.pave, {
        action: 'admin.rotate-master-key',
        target: 'master-key',
        summary: { masterKeyVersion, rewrappedDataKeys },
      });
      return { masterKeyVersion, rewrappedDataKeys };
    },
  );
}
