import {
  NotAllowedError,
  canSeeApp,
  decideForToken,
  type AccessDecision,
  type AccessGrant,
  type AccessTarget,
  type Permission,
  type Role,
} from '@pave/core';
import type { Kysely } from 'kysely';
import type { Database, Executor } from '../store/index.ts';
import { preparedQuery } from '../store/prepared.ts';
import type { Actor } from './context.ts';
import { appNotFound } from './apps.ts';

/** The roles a user holds: granted to them directly or to one of their teams. */
export async function loadGrants(db: Executor, userId: string): Promise<AccessGrant[]> {
  const rows = await db
    .selectFrom('role_grants')
    .select(['role', 'scope_kind', 'scope_id', 'subject_kind', 'subject_id'])
    .where((eb) =>
      eb.or([
        eb.and([eb('subject_kind', '=', 'user'), eb('subject_id', '=', userId)]),
        eb.and([
          eb('subject_kind', '=', 'team'),
          eb(
            'subject_id',
            'in',
            eb.selectFrom('team_members').select('team_id').where('user_id', '=', userId),
          ),
        ]),
      ]),
    )
    .execute();
  return rows.map((row) => ({
    role: row.role as Role,
    scope:
      row.scope_kind === 'org'
        ? { kind: 'org' }
        : { kind: row.scope_kind as 'app' | 'env-type', id: row.scope_id },
    via: row.subject_kind === 'user' ? 'user' : `team:${row.subject_id}`,
  }));
}

/**
 * Whether the actor may know that `app` exists: some role on it (or org admin), and a token scoped to
 * another app sees only that one. Callers answer 404 when this is false, never 403.
 */
export function actorSeesApp(actor: Actor, app: string): boolean {
  if (!canSeeApp(actor.grants, app)) return false;
  const scope = actor.tokenScope;
  if (!scope) return true;
  if (scope.scope.kind === 'app') return scope.scope.id === app;
  return scope.scope.kind === 'org' && scope.role === 'admin';
}

/**
 * The apps the actor may know exist, as `actorSeesApp` decides: `all` for an org admin (with a token that
 * is not narrowed to one app), otherwise the ids its grants and token name.
 */
export function appsActorSees(actor: Actor): 'all' | string[] {
  const scope = actor.tokenScope;
  if (scope?.scope.kind === 'app') return actorSeesApp(actor, scope.scope.id) ? [scope.scope.id] : [];
  if (scope && !(scope.scope.kind === 'org' && scope.role === 'admin')) return [];
  if (actor.grants.some((g) => g.scope.kind === 'org' && g.role === 'admin')) return 'all';
  const apps = actor.grants.flatMap((g) => (g.scope.kind === 'app' ? [g.scope.id] : []));
  return [...new Set(apps)];
}

/** Decides for the actor (its grants, narrowed by its token's scope). */
export function decideFor(actor: Actor, permission: Permission, target: AccessTarget = {}): AccessDecision {
  return decideForToken(actor.grants, actor.tokenScope, permission, target);
}

/**
 * Throws unless the actor may do `permission` on `target`: NotFoundError (as if the app did not exist) when
 * the actor has no role on the target app, NotAllowedError with the reason otherwise.
 */
export function authorize(actor: Actor, permission: Permission, target: AccessTarget = {}): void {
  if (target.app && !actorSeesApp(actor, target.app)) throw appNotFound(target.app);
  const decision = decideFor(actor, permission, target);
  if (!decision.allowed) {
    throw new NotAllowedError(`you may not do this: ${decision.reason}`, [
      { path: 'permission', message: `${permission}: ${decision.reason}` },
    ]);
  }
}

const selectEnvironmentAccess = preparedQuery(
  'environment_access',
  (db: Kysely<Database>, app: string, env: string) =>
    db
      .selectFrom('environments')
      .innerJoin('env_types', 'env_types.id', 'environments.type')
      .select(['env_types.id as type', 'env_types.restricted as restricted'])
      .where('environments.app_id', '=', app)
      .where('environments.id', '=', env),
);

/**
 * The type of an environment and whether it is restricted; undefined when the environment does not exist.
 * Every request to an environment's path asks, so it is a prepared query.
 */
export async function environmentAccess(
  db: Executor,
  app: string,
  env: string,
): Promise<{ envType: string; restricted: boolean } | undefined> {
  const [row] = await selectEnvironmentAccess(db, app, env);
  return row ? { envType: row.type, restricted: Number(row.restricted) === 1 } : undefined;
}

/** A permission to check against a target, besides the one a route declares for its path. */
export interface AccessCheck {
  permission: Permission;
  target: AccessTarget;
}

/** The restricted environment types among an app's environments: what an app-level change reaches. */
async function restrictedTypesOfApp(db: Executor, app: string): Promise<string[]> {
  const rows = await db
    .selectFrom('environments')
    .innerJoin('env_types', 'env_types.id', 'environments.type')
    .select('env_types.id as type')
    .distinct()
    .where('environments.app_id', '=', app)
    .where('env_types.restricted', '=', 1)
    .orderBy('env_types.id')
    .execute();
  return rows.map((row) => row.type);
}

/**
 * `permission` on every restricted environment type the app has: app-level values are the defaults of
 * every environment, and deleting an app deletes them all, so such changes reach production too.
 */
async function onEveryRestrictedType(
  db: Executor,
  app: string,
  permission: Permission,
): Promise<AccessCheck[]> {
  return (await restrictedTypesOfApp(db, app)).map((envType) => ({
    permission,
    target: { app, envType, restricted: true },
  }));
}

/**
 * The app-level actions that reach every environment of the app, and the permission each then needs on every
 * restricted type among them: app-level values are the defaults of every environment (changing or revealing
 * them), and deleting an app deletes its environments. The routes of these actions and `pave auth can-i` both
 * check them through appWideChecks.
 */
const APP_WIDE_REACH: Partial<Record<Permission, Permission>> = {
  'values.write': 'values.write',
  'values.reveal': 'values.reveal',
  'app.delete': 'env.delete',
};

/** What `permission` on the whole of `app` (no environment named) needs besides the app role; see APP_WIDE_REACH. */
export async function appWideChecks(
  db: Executor,
  app: string,
  permission: Permission,
): Promise<AccessCheck[]> {
  const reach = APP_WIDE_REACH[permission];
  return reach ? onEveryRestrictedType(db, app, reach) : [];
}

/**
 * What a permission on one environment reaches beyond it: a rule deploys into its environment, so writing one
 * needs deployment.create there too (on a restricted type, the deployer role).
 */
const ENVIRONMENT_REACH: Partial<Record<Permission, Permission>> = {
  'rule.write': 'deployment.create',
};

/** What `permission` on the environment `target` needs besides itself; see ENVIRONMENT_REACH. */
export function environmentReach(permission: Permission, target: AccessTarget): AccessCheck[] {
  const reach = ENVIRONMENT_REACH[permission];
  return reach ? [{ permission: reach, target }] : [];
}

/**
 * What creating an environment reaches besides the app: the new environment's type, and (for a clone) the
 * source environment, which is read and whose data may be copied. Body fields are read defensively: the
 * checks run before the body is validated, and a missing or malformed field adds no check (validation
 * refuses it next).
 */
export async function environmentCreationChecks(
  db: Executor,
  app: string,
  body: unknown,
): Promise<AccessCheck[]> {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const checks: AccessCheck[] = [];
  if (typeof fields.type === 'string') {
    const type = await db
      .selectFrom('env_types')
      .select(['id', 'restricted'])
      .where('id', '=', fields.type)
      .executeTakeFirst();
    if (type && Number(type.restricted) === 1) {
      checks.push({ permission: 'env.create', target: { app, envType: type.id, restricted: true } });
    }
  }
  if (typeof fields.from === 'string') {
    const source = await environmentAccess(db, app, fields.from);
    if (source?.restricted) {
      checks.push({ permission: 'env.create', target: { app, ...source } });
    }
  }
  return checks;
}
