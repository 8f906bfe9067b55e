import {
  ConflictError,
  InputError,
  NotFoundError,
  type CreateEnvironmentBody,
  type Environment,
} from '@pave/core';
import { isUniqueViolation, type Executor, type Store } from '../store/index.ts';
import type { Insertable, Selectable } from 'kysely';
import type { EnvironmentsTable } from '../store/schema.ts';
import { appNotFound } from './apps.ts';
import { recordAudit } from './audit.ts';
import { insertDeployment } from './deployments/service.ts';
import { DEFAULT_TIMEOUT_SECONDS } from './deployments/records.ts';
import { now, type RequestContext } from './context.ts';

function toEnvironment(row: Selectable<EnvironmentsTable>): Environment {
  return {
    appId: row.app_id,
    id: row.id,
    type: row.type,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/**
 * Creates an environment of an app. NotFoundError if the app does not exist, InputError if the type does
 * not, ConflictError if the app already has an environment with this id.
 */
export async function createEnvironment(
  store: Store,
  context: RequestContext,
  appId: string,
  body: CreateEnvironmentBody,
): Promise<Environment> {
  const row = {
    app_id: appId,
    id: body.id,
    type: body.type,
    created_by: context.actor.username,
    created_at: now(),
  } satisfies Insertable<EnvironmentsTable>;
  try {
    await store.transaction(async (tx) => {
      const app = await tx.selectFrom('apps').select('id').where('id', '=', appId).executeTakeFirst();
      if (!app) throw appNotFound(appId);
      const type = await tx
        .selectFrom('env_types')
        .select('id')
        .where('id', '=', body.type)
        .executeTakeFirst();
      if (!type) {
        const known = (await tx.selectFrom('env_types').select('id').orderBy('id').execute()).map(
          (t) => t.id,
        );
        throw new InputError(`environment type "${body.type}" does not exist`, [
          {
            path: '/type',
            message: `must be one of: ${known.join(', ')}; an admin can add types with \`pave env-types create\``,
          },
        ]);
      }
      let cloneSetId: string | null = null;
      if (body.from) {
        const source = await tx
          .selectFrom('environments')
          .select('current_set_id')
          .where('app_id', '=', appId)
          .where('id', '=', body.from)
          .executeTakeFirst();
        if (!source) {
          throw new InputError(`environment "${body.from}" of app "${appId}" does not exist`, [
            {
              path: '/from',
              message: `must be an environment of ${appId}; \`pave envs list --app ${appId}\` shows them`,
            },
          ]);
        }
        if (!source.current_set_id) {
          throw new ConflictError(`environment "${body.from}" has no successful deployment to clone`, [
            { path: '/from', message: 'deploy to it first, or create the environment without --from' },
          ]);
        }
        cloneSetId = source.current_set_id;
      }
      await tx.insertInto('environments').values(row).execute();
      await recordAudit(tx, context, {
        action: 'environment.create',
        target: `apps/${appId}/envs/${row.id}`,
        appId,
        summary: { id: row.id, type: row.type, ...(body.from ? { from: body.from } : {}) },
      });
      if (cloneSetId) {
        await insertDeployment(
          tx,
          context,
          { app: appId, env: row.id },
          'clone',
          {
            setId: cloneSetId,
            fromEnvId: body.from,
            timeoutSeconds: DEFAULT_TIMEOUT_SECONDS,
            autoRollback: true,
          },
          `clone of ${body.from}`,
        );
      }
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`app "${appId}" already has an environment "${body.id}"`, [
        { path: '/id', message: 'is taken in this app; choose another id' },
      ]);
    }
    throw error;
  }
  return {
    appId: row.app_id,
    id: row.id,
    type: row.type,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** The environments of an app, ordered by id; NotFoundError if the app does not exist. */
export async function listEnvironments(db: Executor, appId: string): Promise<Environment[]> {
  const app = await db.selectFrom('apps').select('id').where('id', '=', appId).executeTakeFirst();
  if (!app) throw appNotFound(appId);
  const rows = await db
    .selectFrom('environments')
    .selectAll()
    .where('app_id', '=', appId)
    .orderBy('id')
    .execute();
  return rows.map(toEnvironment);
}

/** An environment's stored row, deployment state included; NotFoundError if it (or its app) does not exist. */
export async function environmentRow(db: Executor, appId: string, envId: string) {
  const row = await db
    .selectFrom('environments')
    .selectAll()
    .where('app_id', '=', appId)
    .where('id', '=', envId)
    .executeTakeFirst();
  if (!row) throw environmentNotFound(appId, envId);
  return row;
}

/** One environment; NotFoundError if it (or its app) does not exist. */
export async function getEnvironment(db: Executor, appId: string, envId: string): Promise<Environment> {
  return toEnvironment(await environmentRow(db, appId, envId));
}

/** Deletes an environment; NotFoundError if it does not exist. */
export async function deleteEnvironment(
  store: Store,
  context: RequestContext,
  appId: string,
  envId: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    const row = await environmentRow(tx, appId, envId);
    await tx.deleteFrom('deployments').where('app_id', '=', appId).where('env_id', '=', envId).execute();
    await tx.deleteFrom('port_allocations').where('app_id', '=', appId).where('env_id', '=', envId).execute();
    await tx.deleteFrom('environments').where('app_id', '=', appId).where('id', '=', envId).execute();
    await recordAudit(tx, context, {
      action: 'environment.delete',
      target: `apps/${appId}/envs/${envId}`,
      appId,
      summary: { id: envId, type: row.type },
    });
  });
}

function environmentNotFound(appId: string, envId: string): NotFoundError {
  return new NotFoundError(`environment "${envId}" of app "${appId}" not found`, [
    { path: 'env', message: `no such environment; \`pave envs list --app ${appId}\` shows them` },
  ]);
}
