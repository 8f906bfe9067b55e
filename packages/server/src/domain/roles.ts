import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ROLE_GRANT_PAGE_DEFAULT,
  decide,
  roleScopeKind,
  type AccessDecision,
  type AccessTarget,
  type Permission,
  type RoleGrant,
  type RoleGrantBody,
  type RoleGrantPage,
} from '@pave/core';
import { isUniqueViolation, lockRow, type Executor, type Store } from '../store/index.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { now, type Actor, type RequestContext } from './context.ts';
import {
  actorSeesApp,
  appWideChecks,
  environmentReach,
  authorize,
  decideFor,
  environmentAccess,
  loadGrants,
  type AccessCheck,
} from './access.ts';
import { keepingAnOrgAdmin } from './users.ts';
import { appNotFound } from './apps.ts';
import { environmentNotFound } from './environments.ts';

interface ResolvedGrant {
  role: string;
  subjectKind: 'user' | 'team';
  subjectId: string;
  subjectName: string;
  scopeKind: 'org' | 'app' | 'env-type';
  scopeId: string;
}

/** A grant request whose shape is checked, before anything it names is looked up. */
type GrantRequest = Omit<ResolvedGrant, 'subjectId'>;

/** Checks a grant request's shape, without looking anything up; InputError otherwise. */
function checkShape(body: RoleGrantBody): GrantRequest {
  const problems: Array<{ path: string; message: string }> = [];
  if (Boolean(body.user) === Boolean(body.team)) {
    problems.push({ path: '/user', message: 'name exactly one of user (--user) or team (--team)' });
  }
  const kind = roleScopeKind(body.role);
  if (kind === 'org' && (body.app || body.envType)) {
    problems.push({ path: '/role', message: `${body.role} is an org role: leave out app and envType` });
  }
  if (kind === 'app' && (!body.app || body.envType)) {
    problems.push({ path: '/app', message: `${body.role} is an app role: name the app (--app), no envType` });
  }
  if (kind === 'env-type' && (!body.envType || body.app)) {
    problems.push({
      path: '/envType',
      message: `${body.role} is an environment-type role: name the type (--env-type), no app`,
    });
  }
  if (problems.length) throw new InputError('the role grant is invalid', problems);
  return {
    role: body.role,
    subjectKind: body.user ? 'user' : 'team',
    subjectName: body.user ?? body.team!,
    scopeKind: kind,
    scopeId: kind === 'app' ? body.app! : kind === 'env-type' ? body.envType! : '',
  };
}

/** The error for a user named at `path` (a body's `/user`, a query's `as`) that does not exist. */
function userNotFound(username: string, path: string): NotFoundError {
  return new NotFoundError(`user "${username}" not found`, [
    { path, message: '`pave users list` shows the users' },
  ]);
}

/** The error for a grant request's user or team that does not exist. */
function subjectNotFound(request: GrantRequest): NotFoundError {
  return request.subjectKind === 'user'
    ? userNotFound(request.subjectName, '/user')
    : new NotFoundError(`team "${request.subjectName}" not found`, [
        { path: '/team', message: '`pave teams list` shows the teams' },
      ]);
}

/**
 * Checks that what a grant request names exists; NotFoundError otherwise. Called only once the caller is
 * known to be allowed to make the grant, so that those who are not cannot learn which users and teams exist.
 */
async function resolve(db: Executor, request: GrantRequest): Promise<ResolvedGrant> {
  let subjectId: string;
  if (request.subjectKind === 'user') {
    const user = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', request.subjectName)
      .executeTakeFirst();
    if (!user) throw subjectNotFound(request);
    subjectId = user.id;
  } else {
    const team = await db
      .selectFrom('teams')
      .select('id')
      .where('id', '=', request.subjectName)
      .executeTakeFirst();
    if (!team) throw subjectNotFound(request);
    subjectId = team.id;
  }
  if (request.scopeKind === 'env-type') {
    const type = await db
      .selectFrom('env_types')
      .select('id')
      .where('id', '=', request.scopeId)
      .executeTakeFirst();
    if (!type) {
      throw new NotFoundError(`environment type "${request.scopeId}" not found`, [
        { path: '/envType', message: '`pave env-types list` shows the types' },
      ]);
    }
  }
  return { ...request, subjectId };
}

/** App roles are granted by the app's owners (and admins); org and environment-type roles by admins. */
function authorizeGrant(actor: Actor, grant: GrantRequest): void {
  if (grant.scopeKind === 'app') return authorize(actor, 'role.grant', { app: grant.scopeId });
  // An admin whose token's scope refuses it is told so (authorize gives the token's reason).
  if (decide(actor.grants, 'user.write').allowed) return authorize(actor, 'user.write');
  // The type is not named: the refusal reads the same whether or not it exists.
  const scope = grant.scopeKind === 'org' ? 'the organisation' : 'an environment type';
  throw new NotAllowedError(
    `you may not do this: granting ${grant.role} on ${scope} needs admin on the organisation (app owners ` +
      'grant app roles, with an app)',
    [{ path: 'permission', message: 'user.write: org and environment-type roles are granted by admins' }],
  );
}

/** Grants a role; ConflictError if the subject holds it already. Audited. */
export async function grantRole(
  store: Store,
  context: RequestContext,
  body: RoleGrantBody,
): Promise<RoleGrant> {
  const request = checkShape(body);
  authorizeGrant(context.actor, request);
  const createdAt = now();
  // Only unique keys of the grant itself can be broken here: the same grant made at the same moment.
  const grant = await store
    .transaction(async (tx) => {
      // What the grant names is locked, so that a deletion of it at the same moment deletes the grant too or
      // finds it refused: a grant left behind would belong to the next app or team of that name (lockRow).
      const resolved = await resolve(tx, request);
      const subject = resolved.subjectKind === 'user' ? 'users' : 'teams';
      if (!(await lockRow(store.engine, tx, subject, { id: resolved.subjectId }, 'share'))) {
        throw subjectNotFound(request);
      }
      const scopeFound =
        resolved.scopeKind !== 'app' ||
        (await lockRow(store.engine, tx, 'apps', { id: resolved.scopeId }, 'share'));
      if (!scopeFound) {
        throw new NotFoundError(`app "${resolved.scopeId}" not found`, [
          { path: '/app', message: 'no such app' },
        ]);
      }
      await tx
        .insertInto('role_grants')
        .values({
          subject_kind: resolved.subjectKind,
          subject_id: resolved.subjectId,
          role: resolved.role,
          scope_kind: resolved.scopeKind,
          scope_id: resolved.scopeId,
          created_by: context.actor.username,
          created_at: createdAt,
        })
        .execute();
      await recordAudit(tx, context, {
        action: 'role.grant',
        target: `roles/${resolved.role}`,
        appId: resolved.scopeKind === 'app' ? resolved.scopeId : null,
        summary: describe(resolved),
      });
      await recordEvent(tx, context, roleEvent('role.granted', resolved));
      return resolved;
    })
    .catch((error: unknown) => {
      if (!isUniqueViolation(error)) throw error;
      throw new ConflictError(`${request.subjectKind} ${request.subjectName} already holds this role`, [
        { path: '/role', message: '`pave roles list` shows the grants' },
      ]);
    });
  return toView(grant, context.actor.username, createdAt);
}

/** Revokes a role; NotFoundError if it is not held; ConflictError for the last org admin. Audited. */
export async function revokeRole(store: Store, context: RequestContext, body: RoleGrantBody): Promise<void> {
  const request = checkShape(body);
  authorizeGrant(context.actor, request);
  const grant = await resolve(store.db, request);
  await store.transaction(async (tx) => {
    const remove = () =>
      tx
        .deleteFrom('role_grants')
        .where('subject_kind', '=', grant.subjectKind)
        .where('subject_id', '=', grant.subjectId)
        .where('role', '=', grant.role)
        .where('scope_kind', '=', grant.scopeKind)
        .where('scope_id', '=', grant.scopeId)
        .executeTakeFirst();
    // Counted in users, and in turn with concurrent changes, so that two admins cannot demote each other.
    const result =
      grant.role === 'admin'
        ? await keepingAnOrgAdmin(
            store,
            tx,
            remove,
            () =>
              new ConflictError('this is the last org admin grant', [
                { path: '/role', message: 'grant admin to someone else first' },
              ]),
          )
        : await remove();
    if (Number(result.numDeletedRows) === 0) {
      throw new NotFoundError(`${grant.subjectKind} ${grant.subjectName} does not hold this role`, [
        { path: '/role', message: '`pave roles list` shows the grants' },
      ]);
    }
    await recordAudit(tx, context, {
      action: 'role.revoke',
      target: `roles/${grant.role}`,
      appId: grant.scopeKind === 'app' ? grant.scopeId : null,
      summary: describe(grant),
    });
    await recordEvent(tx, context, roleEvent('role.revoked', grant));
  });
}

/** The event of a grant or revocation: about its app for app roles, org-wide otherwise. */
function roleEvent(type: 'role.granted' | 'role.revoked', grant: ResolvedGrant) {
  return {
    type,
    app: grant.scopeKind === 'app' ? grant.scopeId : null,
    data: {
      role: grant.role,
      subject: `${grant.subjectKind}:${grant.subjectName}`,
      scope: grant.scopeKind === 'org' ? 'org' : `${grant.scopeKind}:${grant.scopeId}`,
    },
  };
}

function describe(grant: ResolvedGrant) {
  return {
    role: grant.role,
    [grant.subjectKind]: grant.subjectName,
    ...(grant.scopeKind === 'app' ? { app: grant.scopeId } : {}),
    ...(grant.scopeKind === 'env-type' ? { envType: grant.scopeId } : {}),
  };
}

function toView(grant: ResolvedGrant, createdBy: string, createdAt: string): RoleGrant {
  return {
    role: grant.role,
    scope: grant.scopeKind === 'org' ? { kind: 'org' } : { kind: grant.scopeKind, id: grant.scopeId },
    subject: { kind: grant.subjectKind, name: grant.subjectName },
    createdBy,
    createdAt,
  };
}

/**
 * One page of role grants (`limit`, default ROLE_GRANT_PAGE_DEFAULT), in the order they were granted: with
 * `app`, those on that app (needs role.read on it); with `user`, that user's direct grants; otherwise all of
 * them (needs user.read). With `cursor` (a previous page's nextCursor: its last grant's id), the grants after
 * that one; nextCursor is null on the last page.
 */
export async function listRoles(
  db: Executor,
  actor: Actor,
  query: {
    app?: string | undefined;
    user?: string | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  },
): Promise<RoleGrantPage> {
  if (query.app) authorize(actor, 'role.read', { app: query.app });
  else authorize(actor, 'user.read');
  // A filter naming an app or user that is not there (a typo) answers 404, as every route naming one does.
  if (
    query.app &&
    !(await db.selectFrom('apps').select('id').where('id', '=', query.app).executeTakeFirst())
  ) {
    throw appNotFound(query.app);
  }
  if (
    query.user &&
    !(await db.selectFrom('users').select('id').where('username', '=', query.user).executeTakeFirst())
  ) {
    throw userNotFound(query.user, 'user');
  }
  const limit = query.limit ?? ROLE_GRANT_PAGE_DEFAULT;
  // Keyset pagination on the primary key; the filters are in the query, so a page is never cut short.
  let select = db
    .selectFrom('role_grants')
    .leftJoin('users', (join) =>
      join.onRef('users.id', '=', 'role_grants.subject_id').on('role_grants.subject_kind', '=', 'user'),
    )
    .select([
      'role_grants.id as id',
      'role_grants.role as role',
      'role_grants.scope_kind as scope_kind',
      'role_grants.scope_id as scope_id',
      'role_grants.subject_kind as subject_kind',
      'role_grants.subject_id as subject_id',
      'users.username as username',
      'role_grants.created_by as created_by',
      'role_grants.created_at as created_at',
    ]);
  if (query.app)
    select = select.where('role_grants.scope_kind', '=', 'app').where('role_grants.scope_id', '=', query.app);
  if (query.user) select = select.where('users.username', '=', query.user);
  if (query.cursor !== undefined) select = select.where('role_grants.id', '>', Number(query.cursor));
  const rows = await select
    .orderBy('role_grants.id')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const items = page.map((row) =>
    toView(
      {
        role: row.role,
        subjectKind: row.subject_kind as 'user' | 'team',
        subjectId: row.subject_id,
        subjectName: row.subject_kind === 'user' ? (row.username ?? row.subject_id) : row.subject_id,
        scopeKind: row.scope_kind as ResolvedGrant['scopeKind'],
        scopeId: row.scope_id,
      },
      row.created_by,
      row.created_at,
    ),
  );
  const last = page.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}

/**
 * Answers `pave auth can-i`: whether the caller (or, for admins, another user with all their roles) may do
 * `permission` on the app and environment named, and why.
 */
export async function canI(
  db: Executor,
  actor: Actor,
  query: { action: Permission; app?: string | undefined; env?: string | undefined; as?: string | undefined },
): Promise<AccessDecision & { action: string; as: string }> {
  let subject = actor;
  if (query.as && query.as !== actor.username) {
    authorize(actor, 'user.read');
    const user = await db
      .selectFrom('users')
      .select(['id', 'username'])
      .where('username', '=', query.as)
      .executeTakeFirst();
    if (!user) throw userNotFound(query.as, 'as');
    subject = {
      ...actor,
      userId: user.id,
      username: user.username,
      grants: await loadGrants(db, user.id),
      tokenScope: null,
    };
  }
  const target: AccessTarget = {};
  // What the action's route checks besides its own permission: on a whole app, every restricted type it
  // reaches; on one environment, what the action does there (a rule deploys into it).
  let further: AccessCheck[] = [];
  if (query.app) {
    target.app = query.app;
    // A question about an app or environment that is not there (a typo) is answered as every route naming one
    // answers: 404, for an app the asker cannot see too, never a "yes" about nothing.
    const app = await db.selectFrom('apps').select('id').where('id', '=', query.app).executeTakeFirst();
    if (!app || !actorSeesApp(actor, query.app)) throw appNotFound(query.app);
    if (query.env) {
      const access = await environmentAccess(db, query.app, query.env);
      if (!access) throw environmentNotFound(query.app, query.env);
      Object.assign(target, access);
      further = environmentReach(query.action, target);
    } else {
      further = await appWideChecks(db, query.app, query.action);
    }
  }
  // For another user, their grants alone (no token of theirs narrows them), and reasons said of them.
  const decideSubject = (permission: Permission, on: AccessTarget) =>
    subject === actor
      ? decideFor(actor, permission, on)
      : decide(subject.grants, permission, on, subject.username);
  const decision = decideSubject(query.action, target);
  const refusal = decision.allowed
    ? further.map((check) => decideSubject(check.permission, check.target)).find((d) => !d.allowed)
    : undefined;
  return { ...(refusal ?? decision), action: query.action, as: subject.username };
}
