import {
  ConflictError,
  InputError,
  NotFoundError,
  type CreateEnvironmentBody,
  type Environment,
  type EnvironmentPage,
} from '@pave/core';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isUniqueViolation, lockRow, type Executor, type Store } from '../store/index.ts';
import { lockAdvisory } from '../store/locks.ts';
import { storeTime } from '../store/clock.ts';
import type { StoreEngine } from '../store/migrations/index.ts';
import type { Database } from '../store/schema.ts';
import type { Insertable, Selectable, Transaction } from 'kysely';
import type { EnvironmentsTable } from '../store/schema.ts';
import { appNotFound } from './apps.ts';
import { actorSeesApp } from './access.ts';
import { LOCAL_TARGET } from './targets.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { insertDeployment } from './deployments/service.ts';
import { DEFAULT_TIMEOUT_SECONDS } from './deployments/records.ts';
import { now, type RequestContext } from './context.ts';
import { deleteStates } from './resources/state.ts';
import { recordClonedValues, recordInheritedValues } from './values.ts';

function toEnvironment(row: Selectable<EnvironmentsTable>): Environment {
  return {
    appId: row.app_id,
    id: row.id,
    type: row.type,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? null,
  };
}

/**
 * Creates an environment of an app. With `from`, a clone: it starts with the source's own values and secrets
 * (see recordClonedValues) and a clone deployment of the source's current set is queued. NotFoundError if the
 * app does not exist, InputError if the type or the source does not (or the source holds more keys than an
 * environment may), ConflictError if the app already has an environment with this id, another app has one
 * whose runtime name would be the same (see refuseSharedRuntimeName), or the source has no successful
 * deployment.
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
    expires_at: body.ttlSeconds ? new Date(Date.now() + body.ttlSeconds * 1000).toISOString() : null,
  } satisfies Insertable<EnvironmentsTable>;
  if (body.withData && !body.from) {
    throw new InputError('withData copies data from another environment: say which with `from`', [
      { path: '/withData', message: 'set `from` (--from) too, or leave withData out' },
    ]);
  }
  try {
    await store.transaction(async (tx) => {
      // Locked, so that a deletion of the app at the same moment sees this environment or refuses it (lockRow).
      if (!(await lockRow(store.engine, tx, 'apps', { id: appId }, 'share'))) throw appNotFound(appId);
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
      await refuseSharedRuntimeName(store, tx, context, appId, row.id);
      await tx.insertInto('environments').values(row).execute();
      await recordAudit(tx, context, {
        action: 'environment.create',
        target: `apps/${appId}/envs/${row.id}`,
        appId,
        summary: {
          id: row.id,
          type: row.type,
          ...(body.from ? { from: body.from, withData: Boolean(body.withData) } : {}),
          ...(row.expires_at ? { expiresAt: row.expires_at } : {}),
        },
      });
      await recordEvent(tx, context, {
        type: 'environment.created',
        app: appId,
        env: row.id,
        data: { type: row.type, ttlSeconds: body.ttlSeconds ?? null },
      });
      // A clone starts with the source's own values too (as Heroku's fork copies config vars).
      if (body.from) await recordClonedValues(tx, context, appId, row.id, body.from);
      else await recordInheritedValues(tx, context, appId, row.id);
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
            ...(body.withData && body.from ? { cloneDataFrom: body.from } : {}),
          },
          `clone of ${body.from}${body.withData ? ' with data' : ''}`,
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
    expiresAt: row.expires_at,
  };
}

/**
 * Refuses (ConflictError at `/id`) environment `envId` of app `appId` when an environment of another app has
 * the same runtime name: runtimes name what they make for an environment after its app and id joined by a dash
 * (the docker runtime's network `pave-<app>-<env>`, the kubernetes runtime's default namespace
 * `pave-{app}-{env}`), names that are persisted and cannot change, so `prod-eu` of app `shop` and `eu` of app
 * `shop-prod` would share a namespace, and the owner of one could overwrite or delete the other's workloads.
 * The candidates are the splits of the joined name at each of its dashes, looked up by primary key. Concurrent
 * creations of two such environments take turns on the joined name: on PostgreSQL a transaction-scoped
 * advisory lock; SQLite runs one transaction at a time. The other app is named only to a caller who may see it.
 */
async function refuseSharedRuntimeName(
  store: Store,
  tx: Transaction<Database>,
  context: RequestContext,
  appId: string,
  envId: string,
): Promise<void> {
  const joined = `${appId}-${envId}`;
  await lockAdvisory(store.engine, tx, `pave.runtime-name:${joined}`, 'exclusive');
  const candidates: Array<{ app: string; env: string }> = [];
  for (let at = joined.indexOf('-'); at !== -1; at = joined.indexOf('-', at + 1)) {
    const app = joined.slice(0, at);
    if (app !== appId) candidates.push({ app, env: joined.slice(at + 1) });
  }
  if (candidates.length === 0) return;
  const other = await tx
    .selectFrom('environments')
    .select(['app_id', 'id'])
    .where((eb) =>
      eb.or(candidates.map(({ app, env }) => eb.and([eb('app_id', '=', app), eb('id', '=', env)]))),
    )
    .orderBy('app_id')
    .executeTakeFirst();
  if (!other) return;
  const whose = actorSeesApp(context.actor, other.app_id)
    ? `environment "${other.id}" of app "${other.app_id}"`
    : 'an environment of another app';
  throw new ConflictError(
    `environment "${envId}" of app "${appId}" would share the runtime name "${joined}" with ${whose} ` +
      '(runtimes name namespaces, networks and containers after it)',
    [
      {
        path: '/id',
        message: `is taken as "${joined}" by another app's environment; choose another id`,
      },
    ],
  );
}

/** How many environments a page holds when the caller does not say. */
const DEFAULT_ENVIRONMENT_PAGE = 100;

/**
 * One page of the environments of an app, ordered by id (`limit`, default 100): with `cursor` (a previous
 * page's nextCursor, the id of its last environment), those whose id sorts after it. NotFoundError if the app
 * does not exist. For the list route; code that needs every environment calls listEnvironments.
 */
export async function environmentPage(
  db: Executor,
  appId: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<EnvironmentPage> {
  const app = await db.selectFrom('apps').select('id').where('id', '=', appId).executeTakeFirst();
  if (!app) throw appNotFound(appId);
  const limit = page.limit ?? DEFAULT_ENVIRONMENT_PAGE;
  // Keyset pagination on the primary key (app_id, id): a deep page costs what the first does.
  const rows = await db
    .selectFrom('environments')
    .selectAll()
    .where('app_id', '=', appId)
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toEnvironment);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/**
 * Every environment of an app, ordered by id; NotFoundError if the app does not exist. For the server's own
 * work on the whole app (deleting it, its status, insights); the API lists them a page at a time.
 */
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

/**
 * An environment's stored row, deployment state included; NotFoundError if it does not exist, the app's own
 * (appNotFound, as for a caller without a role on it) when its app does not exist either.
 */
export async function environmentRow(db: Executor, appId: string, envId: string) {
  const row = await db
    .selectFrom('environments')
    .selectAll()
    .where('app_id', '=', appId)
    .where('id', '=', envId)
    .executeTakeFirst();
  if (!row) throw await missingEnvironment(db, appId, envId);
  return row;
}

/** One environment; NotFoundError if it (or its app) does not exist. */
export async function getEnvironment(db: Executor, appId: string, envId: string): Promise<Environment> {
  return toEnvironment(await environmentRow(db, appId, envId));
}

/** What deleting an environment tears down besides its rows. */
export interface EnvironmentTeardown {
  /**
   * Stops and removes the environment's workloads on `runtimeTarget`, the target it runs on; rejects with the
   * runtime's failure.
   */
  workloads(target: { app: string; env: string; runtimeTarget: string }): Promise<void>;
  /** Deletes the environment's resources; rejects with the drivers' failures. */
  resources(target: { app: string; env: string; envType: string; actor: string }): Promise<void>;
}

/**
 * How long a deletion's hold on an environment (a request's or the janitor's; its deployment lease) lasts
 * without renewal, by the store's clock (see storeTime): no replica starts or resumes a deployment of it, or
 * deletes it too, meanwhile. The deletion renews it every DELETION_RENEW_MS while it runs, however long its
 * teardown takes (that has its own budget), as a deployment worker renews its lease (LEASE_MS, the same
 * length); so the hold of a deletion whose replica stopped runs out within this, and deleting the environment
 * again, or a deployment of it, takes it over. A deletion that succeeds removes the row with it; one that fails
 * releases it at once.
 */
export const DELETION_LEASE_MS = 6_000;
/** How often a running deletion renews its hold on the environment. */
const DELETION_RENEW_MS = 2_000;

/**
 * Deletes an environment: stops its workloads, deprovisions its resources (databases are dropped), then
 * removes its rows. NotFoundError if it does not exist. ConflictError while another deletion of it runs (a
 * request's or the janitor's), and while a deployment of it runs (its resources would be created as they are
 * deleted, and be left behind): the deletion takes the environment's deployment lease first, so none starts
 * meanwhile, and queued ones are deleted with it. If its runtime cannot remove its workloads, or a resource
 * cannot be deleted, the environment is kept (with its workloads and the resources that remain) and the
 * driver's failure is returned, so nothing is orphaned or forgotten while it still runs. The lease is renewed
 * while the deletion runs (see DELETION_LEASE_MS); one that stalled past it while a deployment or another
 * deletion took the environment over deletes none of its rows (ConflictError). `cause`: a request
 * (the event environment.deleted) or the end of its time to live (environment.expired); `leaseOwner`: the
 * caller took the lease already, as this owner (released here on failure, as one taken here is).
 */
export async function deleteEnvironment(
  store: Store,
  context: RequestContext,
  appId: string,
  envId: string,
  teardown?: EnvironmentTeardown,
  options: { cause?: 'request' | 'expiry'; leaseOwner?: string } = {},
): Promise<void> {
  const cause = options.cause ?? 'request';
  const existing = await environmentRow(store.db, appId, envId);
  const owner =
    options.leaseOwner ??
    (await takeLeaseForDeletion(store.db, store.engine, appId, envId, existing.created_at));
  const hold = holdForDeletion(store, appId, envId, owner);
  try {
    if (teardown) {
      await teardown.workloads({
        app: appId,
        env: envId,
        runtimeTarget: existing.runtime_target ?? LOCAL_TARGET.id,
      });
      // Taken over while its workloads were removed (this replica stalled past the hold): its resources are left
      // to whoever holds it now.
      if (hold.lost) throw deletionTakenOver(appId, envId);
      await teardown.resources({
        app: appId,
        env: envId,
        envType: existing.type,
        actor: context.actor.username,
      });
    }
    await store.transaction(async (tx) => {
      // Locked first, so that a rule or anything else added to it meanwhile is deleted with it (see lockRow).
      await lockRow(store.engine, tx, 'environments', { app_id: appId, id: envId }, 'update');
      const row = await environmentRow(tx, appId, envId);
      // Fenced: a deletion that stalled past its hold, while a deployment or another deletion took the
      // environment over, deletes nothing of it (a deployment would be recreating what it tore down).
      if (row.lease_owner !== owner) throw deletionTakenOver(appId, envId);
      await tx.deleteFrom('deployments').where('app_id', '=', appId).where('env_id', '=', envId).execute();
      await tx
        .deleteFrom('port_allocations')
        .where('app_id', '=', appId)
        .where('env_id', '=', envId)
        .execute();
      await tx.deleteFrom('routes').where('app_id', '=', appId).where('env_id', '=', envId).execute();
      await tx.deleteFrom('route_hosts').where('app_id', '=', appId).where('env_id', '=', envId).execute();
      await tx.deleteFrom('resources').where('app_id', '=', appId).where('env_id', '=', envId).execute();
      await tx
        .deleteFrom('retired_resource_secrets')
        .where('app_id', '=', appId)
        .where('env_id', '=', envId)
        .execute();
      await deleteStates(tx, appId, envId);
      await tx.deleteFrom('rules').where('app_id', '=', appId).where('env_id', '=', envId).execute();
      await tx.deleteFrom('environments').where('app_id', '=', appId).where('id', '=', envId).execute();
      await recordAudit(tx, context, {
        action: 'environment.delete',
        target: `apps/${appId}/envs/${envId}`,
        appId,
        summary: { id: envId, type: row.type, ...(row.expires_at ? { expiredAt: row.expires_at } : {}) },
      });
      if (cause === 'expiry' && row.expires_at) {
        await recordEvent(tx, context, {
          type: 'environment.expired',
          app: appId,
          env: envId,
          data: { type: row.type, expiresAt: row.expires_at },
        });
      } else {
        await recordEvent(tx, context, {
          type: 'environment.deleted',
          app: appId,
          env: envId,
          data: { type: row.type },
        });
      }
    });
  } catch (error) {
    // Kept (in whole or in part): deployments of it may run again.
    await releaseEnvironmentLease(store.db, appId, envId, owner);
    throw error;
  } finally {
    hold.stop();
  }
}

/**
 * Renews `owner`'s hold on an environment (its deployment lease) every DELETION_RENEW_MS until stop(); `lost`
 * once a renewal found it held by another (taken over after it ran out) or gone. A renewal that fails (the
 * store does not answer) changes nothing: the deletion's last transaction checks the hold anyway.
 */
function holdForDeletion(
  store: Store,
  appId: string,
  envId: string,
  owner: string,
): { readonly lost: boolean; stop(): void } {
  let lost = false;
  const timer = setInterval(() => {
    store.db
      .updateTable('environments')
      .set({ lease_until: storeTime(store.engine, DELETION_LEASE_MS) })
      .where('app_id', '=', appId)
      .where('id', '=', envId)
      .where('lease_owner', '=', owner)
      .executeTakeFirst()
      .then((result) => {
        if (Number(result.numUpdatedRows) !== 1) lost = true;
      })
      .catch(() => undefined);
  }, DELETION_RENEW_MS);
  return {
    get lost() {
      return lost;
    },
    stop: () => clearInterval(timer),
  };
}

/** The refusal of a deletion that stalled past its hold on the environment while another took it over. */
function deletionTakenOver(appId: string, envId: string): ConflictError {
  return new ConflictError(
    `environment "${envId}" of app "${appId}" was not deleted: this deletion stalled for longer than its ` +
      `hold on the environment lasts (${DELETION_LEASE_MS / 1000} s), and a deployment or another deletion took it over`,
    [
      {
        path: 'env',
        message:
          'its workloads may be removed already; delete it again once the deployment or deletion holding it has ' +
          `finished (\`pave deployments list --app ${appId} --env ${envId}\` shows its deployments)`,
      },
    ],
  );
}

/** Gives back the deployment lease of an environment that `owner` holds (nothing when another holds it). */
export async function releaseEnvironmentLease(
  db: Executor,
  appId: string,
  envId: string,
  owner: string,
): Promise<void> {
  await db
    .updateTable('environments')
    .set({ lease_owner: null, lease_until: null })
    .where('app_id', '=', appId)
    .where('id', '=', envId)
    .where('lease_owner', '=', owner)
    .execute();
}

/**
 * How long a deletion waits for a worker to give an environment's lease back while none of its deployments
 * runs: a worker keeps the lease for a moment after a deployment has finished (it looks for the next one first).
 */
const LEASE_RETURN_WAIT_MS = 3_000;
/** How often a waiting deletion tries the lease again. */
const LEASE_RETRY_MS = 25;

/** How the owners of deletions' leases begin: a request's (`deletion:`) or the janitor's (`janitor:`). */
const DELETION_OWNER_PREFIX = 'deletion:';
export const JANITOR_OWNER_PREFIX = 'janitor:';

/**
 * Takes the deployment lease of an environment (the one a replica's deployment worker holds while it runs the
 * environment's deployments) for its deletion; resolves with the owner written. Only the environment created
 * at `createdAt` is taken: one created again under its id while this waited is another environment.
 * NotFoundError when it is gone (another deletion finished first). ConflictError when a deployment of the
 * environment is running, or a worker keeps the lease for longer than LEASE_RETURN_WAIT_MS (a deployment of it
 * is about to run).
 */
async function takeLeaseForDeletion(
  db: Executor,
  engine: StoreEngine,
  appId: string,
  envId: string,
  createdAt: string,
): Promise<string> {
  const owner = `${DELETION_OWNER_PREFIX}${randomUUID()}`;
  const giveUpAt = Date.now() + LEASE_RETURN_WAIT_MS;
  let running: { id: number | string } | undefined;
  for (;;) {
    // Its expiry is the store's time, as every lease's (see storeTime); an expired hold is taken over.
    const taken = await db
      .updateTable('environments')
      .set({ lease_owner: owner, lease_until: storeTime(engine, DELETION_LEASE_MS) })
      .where('app_id', '=', appId)
      .where('id', '=', envId)
      .where('created_at', '=', createdAt)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_until', '<', storeTime(engine))]))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) === 1) return owner;
    const still = await db
      .selectFrom('environments')
      .select('lease_owner')
      .where('app_id', '=', appId)
      .where('id', '=', envId)
      .where('created_at', '=', createdAt)
      .executeTakeFirst();
    if (!still) throw await missingEnvironment(db, appId, envId);
    if (isDeletionOwner(still.lease_owner)) throw beingDeleted(appId, envId);
    running = await db
      .selectFrom('deployments')
      .select('id')
      .where('app_id', '=', appId)
      .where('env_id', '=', envId)
      .where('status', '=', 'running')
      .orderBy('id')
      .executeTakeFirst();
    if (running || Date.now() >= giveUpAt) break;
    await sleep(LEASE_RETRY_MS);
  }
  const what = running ? `deployment ${running.id} of it is running` : 'a deployment of it is starting';
  throw new ConflictError(`environment "${envId}" of app "${appId}" cannot be deleted now: ${what}`, [
    {
      path: 'env',
      message:
        'its resources would be created while they are deleted; delete it again once the deployment has ' +
        `finished (\`pave deployments list --app ${appId} --env ${envId}\` shows it)`,
    },
  ]);
}

/** Whether `owner` (an environment's lease owner) is a deletion's: a request's or the janitor's. */
export function isDeletionOwner(owner: string | null): boolean {
  return Boolean(owner?.startsWith(DELETION_OWNER_PREFIX) || owner?.startsWith(JANITOR_OWNER_PREFIX));
}

/**
 * The refusal of a change to an environment that a deletion (a request's or the janitor's) holds: it was
 * renewed within DELETION_LEASE_MS, so it goes on, unless its replica stopped since.
 */
function beingDeleted(appId: string, envId: string): ConflictError {
  return new ConflictError(`environment "${envId}" of app "${appId}" is being deleted`, [
    {
      path: 'env',
      message:
        `its deletion goes on, by another request or the janitor: create it again (\`pave envs create ${envId} ` +
        `--app ${appId}\`) once it is gone; if the replica deleting it stopped, try again in ` +
        `${DELETION_LEASE_MS / 1000} s, when its hold on the environment has run out`,
    },
  ]);
}

/**
 * Sets an environment to expire `ttlSeconds` from now (`pave envs extend`); audited. NotFoundError if it does
 * not exist; ConflictError while it is being deleted (by a request, or by the janitor once it expired): the
 * deletion goes on, so the new expiry would be a promise about an environment that is about to be gone.
 */
export async function extendEnvironment(
  store: Store,
  context: RequestContext,
  appId: string,
  envId: string,
  ttlSeconds: number,
): Promise<Environment> {
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  return store.transaction(async (tx) => {
    const row = await environmentRow(tx, appId, envId);
    const extended = await tx
      .updateTable('environments')
      .set({ expires_at: expiresAt })
      .where('app_id', '=', appId)
      .where('id', '=', envId)
      .where((eb) =>
        eb.or([
          eb('lease_owner', 'is', null),
          // A deletion's hold that ran out (its replica stopped): by the store's time (see storeTime).
          eb('lease_until', '<', storeTime(store.engine)),
          eb.and([
            eb('lease_owner', 'not like', `${DELETION_OWNER_PREFIX}%`),
            eb('lease_owner', 'not like', `${JANITOR_OWNER_PREFIX}%`),
          ]),
        ]),
      )
      .executeTakeFirst();
    if (Number(extended.numUpdatedRows) !== 1) throw beingDeleted(appId, envId);
    await recordAudit(tx, context, {
      action: 'environment.extend',
      target: `apps/${appId}/envs/${envId}`,
      appId,
      summary: { id: envId, from: row.expires_at ?? null, expiresAt },
    });
    return toEnvironment({ ...row, expires_at: expiresAt });
  });
}

/** Environments whose time to live has run out, oldest expiry first. */
export async function expiredEnvironments(
  db: Executor,
  at: string = now(),
): Promise<Array<{ app: string; env: string }>> {
  const rows = await db
    .selectFrom('environments')
    .select(['app_id', 'id'])
    .where('expires_at', 'is not', null)
    .where('expires_at', '<', at)
    .orderBy('expires_at')
    .execute();
  return rows.map((row) => ({ app: row.app_id, env: row.id }));
}

// Whichever is missing: the app (so that `pave envs list --app` is not suggested for an app that does not
// exist) or only the environment. Routes refuse an app the caller has no role on before they get here, with
// the same appNotFound, so this tells them nothing about apps they cannot see.
async function missingEnvironment(db: Executor, appId: string, envId: string): Promise<NotFoundError> {
  const app = await db.selectFrom('apps').select('id').where('id', '=', appId).executeTakeFirst();
  return app ? environmentNotFound(appId, envId) : appNotFound(appId);
}

/** The error for an environment of an existing app that does not exist. */
export function environmentNotFound(appId: string, envId: string): NotFoundError {
  return new NotFoundError(`environment "${envId}" of app "${appId}" not found`, [
    { path: 'env', message: `no such environment; \`pave envs list --app ${appId}\` shows them` },
  ]);
}
