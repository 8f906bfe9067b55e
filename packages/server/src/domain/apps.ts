import {
  ConflictError,
  NotFoundError,
  type App,
  type AppDetail,
  type AppPage,
  type CreateAppBody,
} from '@pave/core';
import type { Kysely } from 'kysely';
import { isUniqueViolation, lockRow, type Database, type Executor, type Store } from '../store/index.ts';
import { preparedQuery } from '../store/prepared.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { deleteArtifactsOfApp } from './artifacts.ts';
import { now, type RequestContext } from './context.ts';
import { retireAppWebhooks } from './webhooks/records.ts';
import type { AppsTable } from '../store/schema.ts';

function toApp(row: Omit<AppsTable, 'incarnation'>): App {
  return { id: row.id, name: row.name, createdBy: row.created_by, createdAt: row.created_at };
}

/** Creates an application; ConflictError if the id is taken. */
export async function createApp(store: Store, context: RequestContext, body: CreateAppBody): Promise<App> {
  const row: Omit<AppsTable, 'incarnation'> = {
    id: body.id,
    name: body.name ?? body.id,
    created_by: context.actor.username,
    created_at: now(),
  };
  try {
    await store.transaction(async (tx) => {
      await tx.insertInto('apps').values(row).execute();
      // Whoever creates an app owns it.
      await tx
        .insertInto('role_grants')
        .values({
          subject_kind: 'user',
          subject_id: context.actor.userId,
          role: 'owner',
          scope_kind: 'app',
          scope_id: row.id,
          created_by: context.actor.username,
          created_at: now(),
        })
        .execute();
      await recordAudit(tx, context, {
        action: 'app.create',
        target: `apps/${row.id}`,
        appId: row.id,
        summary: { id: row.id, name: row.name },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`app "${body.id}" already exists`, [
        { path: '/id', message: 'is taken; choose another id or use the existing app' },
      ]);
    }
    throw error;
  }
  return toApp(row);
}

/** How many apps a page holds when the caller does not say. */
const DEFAULT_APP_PAGE = 100;

/** One page of the applications in `visible` (the caller's: see appsActorSees), ordered by id. */
export async function listApps(
  db: Executor,
  visible: 'all' | readonly string[],
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<AppPage> {
  if (visible !== 'all' && visible.length === 0) return { items: [], nextCursor: null };
  const limit = page.limit ?? DEFAULT_APP_PAGE;
  // Keyset pagination on the primary key: a deep page costs what the first does.
  const rows = await db
    .selectFrom('apps')
    .selectAll()
    .$if(visible !== 'all', (qb) => qb.where('id', 'in', visible as readonly string[]))
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toApp);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

const selectAppDetail = preparedQuery('app_detail', (db: Kysely<Database>, appId: string) =>
  db
    .selectFrom('apps')
    .leftJoin('environments', 'environments.app_id', 'apps.id')
    .select([
      'apps.id as id',
      'apps.name as name',
      'apps.created_by as created_by',
      'apps.created_at as created_at',
      'environments.id as env_id',
      'environments.type as env_type',
    ])
    .where('apps.id', '=', appId)
    .orderBy('environments.id'),
);

/** One application with its environments; NotFoundError if it does not exist. */
export async function getApp(db: Kysely<Database>, appId: string): Promise<AppDetail> {
  // One round trip, compiled once: this is the API's hottest read.
  const rows = await selectAppDetail(db, appId);
  const first = rows[0];
  if (!first) throw appNotFound(appId);
  const environments = rows.flatMap((row) =>
    row.env_id && row.env_type ? [{ id: row.env_id, type: row.env_type }] : [],
  );
  return { ...toApp(first), environments };
}

/**
 * Deletes an application. If it still has environments, refuses with ConflictError unless `force`, in
 * which case the environments are deleted with it (and audited). `deletedEnvironments`: the caller deleted
 * every environment of the app first, with its workloads and resources (DELETE /apps/{app}?force=true); one
 * there now was created since, and nobody deleted its resources: ConflictError rather than deleting it without
 * them. Resolves with the deleted environments' ids.
 */
export async function deleteApp(
  store: Store,
  context: RequestContext,
  appId: string,
  options: { force: boolean; deletedEnvironments?: boolean },
): Promise<string[]> {
  return store.transaction(async (tx) => {
    // Locked first: what is being added to the app meanwhile (an environment, a grant, a webhook) is then
    // either seen here or refused; a concurrent deletion waits and finds none (see lockRow).
    if (!(await lockRow(store.engine, tx, 'apps', { id: appId }, 'update'))) throw appNotFound(appId);
    const environments = await tx
      .selectFrom('environments')
      .select(['id', 'type'])
      .where('app_id', '=', appId)
      .orderBy('id')
      .execute();
    if (options.deletedEnvironments && environments.length > 0) {
      const ids = environments.map((env) => env.id).join(', ');
      throw new ConflictError(`app "${appId}" got environments while it was being deleted: ${ids}`, [
        {
          path: 'query.force',
          message:
            'delete the app again: its environments are deleted first, with their workloads and resources',
        },
      ]);
    }
    if (environments.length > 0 && !options.force) {
      const ids = environments.map((env) => env.id).join(', ');
      throw new ConflictError(`app "${appId}" still has environments: ${ids}`, [
        {
          path: 'force',
          message:
            'delete the environments first, or pass --force (API: ?force=true) to delete them with the app',
        },
      ]);
    }
    await tx.deleteFrom('deployments').where('app_id', '=', appId).execute();
    await deleteArtifactsOfApp(tx, appId);
    await tx.deleteFrom('port_allocations').where('app_id', '=', appId).execute();
    await tx.deleteFrom('environments').where('app_id', '=', appId).execute();
    await tx.deleteFrom('resource_states').where('app_id', '=', appId).execute();
    await tx
      .deleteFrom('role_grants')
      .where('scope_kind', '=', 'app')
      .where('scope_id', '=', appId)
      .execute();
    await tx.deleteFrom('apps').where('id', '=', appId).execute();
    await recordAudit(tx, context, {
      action: 'app.delete',
      target: `apps/${appId}`,
      appId,
      summary: { id: appId, force: options.force, environmentsDeleted: environments.map((env) => env.id) },
    });
    for (const env of environments) {
      await recordEvent(tx, context, {
        type: 'environment.deleted',
        app: appId,
        env: env.id,
        data: { type: env.type },
      });
    }
    // After the deletion's events: the app's webhooks deliver them, then retire.
    await retireAppWebhooks(tx, appId);
    return environments.map((env) => env.id);
  });
}

/** The error for an app that does not exist. */
export function appNotFound(appId: string): NotFoundError {
  return new NotFoundError(`app "${appId}" not found`, [
    { path: 'app', message: 'no such app; `pave apps list` shows the apps you can see' },
  ]);
}
