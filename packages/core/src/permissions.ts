/*
 * Who may do what, as data: permission names (`<resource>.<action>`, like Backstage's permissions), the roles
 * that hold them, and one pure function that decides. The server checks every route with it; the CLI and
 * the portal use the same names to explain and to hide what a user may not do.
 */

import { isDnsLabel } from './ids.ts';

/** Roles held across the whole organisation. */
export const ORG_ROLES = ['admin', 'platform', 'member'] as const;
/** Roles held on one app. */
export const APP_ROLES = ['owner', 'developer', 'viewer'] as const;
/** Roles held on one environment type. */
export const ENV_TYPE_ROLES = ['deployer', 'approver'] as const;

export type OrgRole = (typeof ORG_ROLES)[number];
export type AppRole = (typeof APP_ROLES)[number];
export type EnvTypeRole = (typeof ENV_TYPE_ROLES)[number];
export type Role = OrgRole | AppRole | EnvTypeRole;

/** Every permission, with what it allows. */
export const PERMISSIONS = {
  'app.list': 'list the apps the caller has a role on (admins: all)',
  'app.create': 'create an app, becoming its owner',
  'app.read': 'see an app and its environments',
  'app.delete': 'delete an app with its environments',
  'role.read': "list an app's role grants",
  'role.grant': 'grant and revoke roles (app roles: owners; org and environment-type roles: admins)',
  'env.read': 'see environments, their status and current deployment',
  'env.create': 'create environments (fresh, cloned or ephemeral)',
  'env.update': "change an environment's time to live (`pave envs extend`)",
  'env.delete': 'delete an environment with its workloads and resources',
  'deployment.read': 'see deployments, their journals and diffs',
  'deployment.create': 'deploy, promote into an environment, and queue clones',
  'deployment.rollback': 'roll an environment back',
  'deployment.approve':
    'approve or reject deployments awaiting approval (org admins, or approver on the environment type; never ' +
    'the requester)',
  'logs.read': "read workloads' logs",
  'values.read': 'list values (secrets masked)',
  'values.reveal': 'see secret values in plaintext',
  'values.write': 'set, unset, import and roll back values',
  'resource.read': "see an environment's resources (secret outputs by name only) and their graph",
  'resource.write': 'move resources (refactoring)',
  'audit.read': "read an app's audit trail",
  'audit.read-all': 'read the whole audit log and verify its hash chain',
  'event.read':
    'read the event stream: each event only when the caller may read its app (app.read) or, for org-wide ' +
    'events, the thing it is about (role.read, target.read, definition.read)',
  'catalog.read':
    'read the Backstage catalog (`pave catalog`): entities of the apps the caller may read, and users and ' +
    'teams when it holds user.read',
  'webhook.manage':
    "create, list, test, enable and delete an app's webhooks, read their deliveries and redeliver them",
  'webhook.manage-org': 'the same for org-wide webhooks (events of every app and org-wide events)',
  'artifact.read': "list an app's build artifacts and automation rules",
  'artifact.push': 'register a build artifact of an app (CI)',
  'rule.write':
    'create and delete automation rules (a rule into an environment also needs deployment.create there)',
  'policy.read': 'see policies, and evaluate them (`pave deploy --plan`, `pave policies test`)',
  'policy.write': 'apply and delete policies',
  'profile.read': 'see workload profiles and which ones apply to an environment',
  'profile.write': 'apply and delete workload profiles',
  'template.read': 'see templates (golden paths) and render them',
  'template.write': 'apply and delete templates',
  'definition.read': 'see resource definitions and the match explainer',
  'definition.write': 'apply and delete resource definitions',
  'target.read': 'see runtime targets and which one an environment matches',
  'target.write': 'apply and delete runtime targets',
  'env-type.read': 'list environment types',
  'env-type.write': 'create and change environment types',
  'user.read': 'list users, service accounts and teams',
  'user.write': 'create and delete users and service accounts, manage teams',
  'token.self': 'create, list and revoke the caller’s own tokens',
  'key.rotate': 'rotate the master key',
  'metrics.read': "scrape the control plane's Prometheus metrics (`GET /metrics`)",
} as const satisfies Record<string, string>;

export type Permission = keyof typeof PERMISSIONS;

/** The permissions of app roles, on their app. */
const APP_ROLE_PERMISSIONS: Record<AppRole, readonly Permission[]> = {
  owner: [
    'app.read',
    'app.delete',
    'role.read',
    'role.grant',
    'env.read',
    'env.create',
    'env.update',
    'env.delete',
    'deployment.read',
    'deployment.create',
    'deployment.rollback',
    'logs.read',
    'values.read',
    'values.reveal',
    'values.write',
    'resource.read',
    'resource.write',
    'audit.read',
    'webhook.manage',
    'artifact.read',
    'artifact.push',
    'rule.write',
  ],
  developer: [
    'app.read',
    'role.read',
    'env.read',
    'env.create',
    'env.update',
    'env.delete',
    'deployment.read',
    'deployment.create',
    'deployment.rollback',
    'logs.read',
    'values.read',
    'values.reveal',
    'values.write',
    'resource.read',
    'resource.write',
    'artifact.read',
    'artifact.push',
    'rule.write',
  ],
  viewer: [
    'app.read',
    'env.read',
    'deployment.read',
    'logs.read',
    'values.read',
    'resource.read',
    'artifact.read',
  ],
};

/** The permissions of org roles that are not about one app (admins hold every permission everywhere). */
const ORG_ROLE_PERMISSIONS: Record<Exclude<OrgRole, 'admin'>, readonly Permission[]> = {
  platform: [
    'app.list',
    'definition.read',
    'definition.write',
    'target.read',
    'target.write',
    'env-type.read',
    'env-type.write',
    'webhook.manage-org',
    'policy.write',
    'profile.write',
    'template.write',
    'token.self',
    'metrics.read',
  ],
  member: ['app.list', 'app.create', 'env-type.read', 'token.self'],
};

/** Permissions every signed-in caller holds, whatever their roles. */
const EVERYONE: readonly Permission[] = [
  'app.list',
  'env-type.read',
  'token.self',
  'event.read',
  'catalog.read',
  'policy.read',
  'profile.read',
  'template.read',
];

/**
 * App permissions that, on an environment of a restricted type (production by default), also need the
 * `deployer` role on that type: everything that creates, changes, reveals or reaches such an environment —
 * creating one (or cloning from one), deploying, promoting into, rolling back, changing its time to live, its
 * values or its resources, revealing its secrets, deleting it.
 */
export const RESTRICTED_PERMISSIONS: readonly Permission[] = [
  'env.create',
  'env.update',
  'env.delete',
  'deployment.create',
  'deployment.rollback',
  'values.write',
  'values.reveal',
  'resource.write',
];

/** Permissions that concern one app: checked against the caller's roles on that app. */
export const APP_PERMISSIONS: readonly Permission[] = [
  ...new Set(Object.values(APP_ROLE_PERMISSIONS).flat()),
] as Permission[];

/** Where a role is held. */
export type GrantScope = { kind: 'org' } | { kind: 'app'; id: string } | { kind: 'env-type'; id: string };

/** A role the caller holds, and through what (`user` directly, or `team:<id>`). */
export interface AccessGrant {
  role: Role;
  scope: GrantScope;
  via: string;
}

/** What a permission is checked against: the app, and the environment's type when there is one. */
export interface AccessTarget {
  app?: string | undefined;
  envType?: string | undefined;
  /** The environment type is restricted (see RESTRICTED_PERMISSIONS). */
  restricted?: boolean | undefined;
}

/** The outcome of {@link decide}: whether, and why, for people (`pave auth can-i`). */
export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

/** Which scope kind a role is held at. */
export function roleScopeKind(role: Role): GrantScope['kind'] {
  if ((ORG_ROLES as readonly string[]).includes(role)) return 'org';
  if ((APP_ROLES as readonly string[]).includes(role)) return 'app';
  return 'env-type';
}

/** Whether a string names a role. */
export function isRole(value: string): value is Role {
  return [...ORG_ROLES, ...APP_ROLES, ...ENV_TYPE_ROLES].includes(value as Role);
}

/** Whether a string names a permission. */
export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

/** A grant for people: `developer on app shop (via team:web)`. */
export function describeGrant(grant: AccessGrant): string {
  const where =
    grant.scope.kind === 'org'
      ? 'the organisation'
      : grant.scope.kind === 'app'
        ? `app ${grant.scope.id}`
        : `environment type ${grant.scope.id}`;
  return `${grant.role} on ${where}${grant.via === 'user' ? '' : ` (via ${grant.via})`}`;
}

/** The roles that hold `permission` (admin always does). */
export function rolesWith(permission: Permission): Role[] {
  const roles: Role[] = ['admin'];
  for (const [role, permissions] of Object.entries(ORG_ROLE_PERMISSIONS)) {
    if (permissions.includes(permission)) roles.push(role as Role);
  }
  for (const [role, permissions] of Object.entries(APP_ROLE_PERMISSIONS)) {
    if (permissions.includes(permission)) roles.push(role as Role);
  }
  return roles;
}

/** Whether the grants make the caller visible to an app at all: any role on it, or org admin. */
export function canSeeApp(grants: readonly AccessGrant[], app: string): boolean {
  return grants.some(
    (g) => (g.scope.kind === 'org' && g.role === 'admin') || (g.scope.kind === 'app' && g.scope.id === app),
  );
}

/**
 * Decides whether grants allow `permission` on `target`. Org admins may do everything. App permissions need
 * a role on the target app that holds the permission; on a restricted environment type, the permissions in
 * RESTRICTED_PERMISSIONS also need `deployer` on that type. deployment.approve needs `approver` on the
 * deployment's environment type. Other permissions need an org role that holds
 * them (or are held by everyone signed in). The reason names the grant that allows, or what is missing.
 */
export function decide(
  grants: readonly AccessGrant[],
  permission: Permission,
  target: AccessTarget = {},
  holder?: string,
): AccessDecision {
  // Whose grants they are, as a refusal says it: "you have", or for another user (can-i --as) "alice has".
  const has = holder === undefined ? 'you have' : `${holder} has`;
  const admin = grants.find((g) => g.scope.kind === 'org' && g.role === 'admin');
  if (admin) return { allowed: true, reason: `allowed by ${describeGrant(admin)}` };
  if (permission === 'deployment.approve') return decideApproval(grants, target);
  if (APP_PERMISSIONS.includes(permission)) {
    if (!target.app) {
      return { allowed: false, reason: `${permission} concerns one app: name it` };
    }
    const appGrant = grants.find(
      (g) =>
        g.scope.kind === 'app' &&
        g.scope.id === target.app &&
        (APP_ROLE_PERMISSIONS[g.role as AppRole] ?? []).includes(permission),
    );
    if (!appGrant) {
      const held = grants.filter((g) => g.scope.kind === 'app' && g.scope.id === target.app);
      const needed = rolesWith(permission)
        .filter((r) => r !== 'admin')
        .join(' or ');
      return {
        allowed: false,
        reason:
          `${permission} on app ${target.app} needs ${needed} on the app` +
          (held.length ? `; ${has} ${held.map(describeGrant).join(', ')}` : `; ${has} no role on it`),
      };
    }
    if (target.restricted && RESTRICTED_PERMISSIONS.includes(permission)) {
      const deployer = grants.find(
        (g) => g.scope.kind === 'env-type' && g.scope.id === target.envType && g.role === 'deployer',
      );
      if (!deployer) {
        return {
          allowed: false,
          reason:
            `${permission} on a ${target.envType} environment needs deployer on environment type ` +
            `${target.envType} besides ${describeGrant(appGrant)}`,
        };
      }
      return {
        allowed: true,
        reason: `allowed by ${describeGrant(appGrant)} and ${describeGrant(deployer)}`,
      };
    }
    return { allowed: true, reason: `allowed by ${describeGrant(appGrant)}` };
  }
  if (EVERYONE.includes(permission)) return { allowed: true, reason: 'allowed to everyone signed in' };
  const orgGrant = grants.find(
    (g) =>
      g.scope.kind === 'org' &&
      (ORG_ROLE_PERMISSIONS[g.role as Exclude<OrgRole, 'admin'>] ?? []).includes(permission),
  );
  if (orgGrant) return { allowed: true, reason: `allowed by ${describeGrant(orgGrant)}` };
  const needed = rolesWith(permission).join(' or ');
  return { allowed: false, reason: `${permission} needs ${needed} on the organisation` };
}

/**
 * deployment.approve: `approver` on the deployment's environment type (org admins are decided before). Without
 * a type (a route about a deployment not yet read), `approver` on any type; the deployment's type decides next.
 */
function decideApproval(grants: readonly AccessGrant[], target: AccessTarget): AccessDecision {
  if (!target.envType) {
    const any = grants.find((g) => g.scope.kind === 'env-type' && g.role === 'approver');
    return any
      ? {
          allowed: true,
          reason: `allowed by ${describeGrant(any)}; the deployment's environment type decides`,
        }
      : { allowed: false, reason: 'deployment.approve needs approver on an environment type (or admin)' };
  }
  const approver = grants.find(
    (g) => g.scope.kind === 'env-type' && g.scope.id === target.envType && g.role === 'approver',
  );
  if (approver) return { allowed: true, reason: `allowed by ${describeGrant(approver)}` };
  return {
    allowed: false,
    reason:
      `deployment.approve on a ${target.envType} environment needs approver on environment type ` +
      `${target.envType} (or admin on the organisation)`,
  };
}

/**
 * A token's narrower scope, written `app:<app>:<role>` or `org:<role>`; null when the text is not one. The token
 * then acts with the intersection of its user's grants and this one. `env-type:<type>:<deployer|approver>` is
 * parsed too, for tokens stored before such scopes were refused (they reach no app): read as what it says, a
 * stored scope never widens to none.
 */
export function parseTokenScope(text: string): AccessGrant | null {
  const parts = text.split(':');
  if (parts[0] === 'org' && parts.length === 2 && isRole(parts[1]!) && roleScopeKind(parts[1]!) === 'org') {
    return { role: parts[1]!, scope: { kind: 'org' }, via: `token scope ${text}` };
  }
  const [kind, id, role] = parts;
  if (parts.length !== 3 || !id || !isDnsLabel(id) || !role || !isRole(role)) return null;
  if (kind === 'app' && roleScopeKind(role) === 'app') {
    return { role, scope: { kind: 'app', id }, via: `token scope ${text}` };
  }
  if (kind === 'env-type' && roleScopeKind(role) === 'env-type') {
    return { role, scope: { kind: 'env-type', id }, via: `token scope ${text}` };
  }
  return null;
}

/**
 * Whether a scope grants no more than `outer` does: org admin covers everything; otherwise the same kind
 * and place, and (for app roles) a role whose permissions are a subset of the outer role's.
 */
export function scopeWithin(inner: AccessGrant, outer: AccessGrant): boolean {
  if (outer.scope.kind === 'org' && outer.role === 'admin') return true;
  if (inner.scope.kind !== outer.scope.kind) return false;
  if (inner.scope.kind !== 'org' && outer.scope.kind !== 'org' && inner.scope.id !== outer.scope.id) {
    return false;
  }
  if (inner.scope.kind !== 'app') return inner.role === outer.role;
  const outerPermissions = APP_ROLE_PERMISSIONS[outer.role as AppRole] ?? [];
  return (APP_ROLE_PERMISSIONS[inner.role as AppRole] ?? []).every((p) => outerPermissions.includes(p));
}

/** Whether the grants hold `scope` (some grant covers it), so a token may be limited to it. */
export function holdsScope(grants: readonly AccessGrant[], scope: AccessGrant): boolean {
  return grants.some((grant) => scopeWithin(scope, grant));
}

/**
 * Whether a token acts as an org admin: its user holds the admin role on the organisation and the token is not
 * scoped to less. What only org admins may do that no permission names (overriding a denying policy) is
 * decided by this, in the server and, to offer it, in the portal.
 */
export function actsAsOrgAdmin(grants: readonly AccessGrant[], tokenScope: AccessGrant | null): boolean {
  const admin = (grant: AccessGrant) => grant.scope.kind === 'org' && grant.role === 'admin';
  return grants.some(admin) && (tokenScope === null || admin(tokenScope));
}

/** How token scopes are written, for messages. */
export const TOKEN_SCOPE_FORMAT = 'app:<app>:<owner|developer|viewer> or org:<role>';

/**
 * Decides for a token: its user's grants decide, and a scoped token must also be allowed by its scope alone
 * (so a scope can narrow a user's access, never widen it).
 */
export function decideForToken(
  grants: readonly AccessGrant[],
  tokenScope: AccessGrant | null,
  permission: Permission,
  target: AccessTarget = {},
): AccessDecision {
  const byUser = decide(grants, permission, target);
  if (!byUser.allowed || !tokenScope) return byUser;
  // The scope alone, plus the user's deployer grants when the scope is an app role (a scope names one role):
  // deployer adds reach into restricted environments to what the app role may do, never an action of its own.
  // Approver grants are not added: approving is no app role's, so an app-scoped token never approves.
  const scoped = decide(
    tokenScope.scope.kind === 'app'
      ? [tokenScope, ...grants.filter((g) => g.role === 'deployer')]
      : [tokenScope],
    permission,
    target,
  );
  return scoped.allowed
    ? { allowed: true, reason: `${byUser.reason}, within the token's scope` }
    : { allowed: false, reason: `the token is limited to ${describeGrant(tokenScope)}: ${scoped.reason}` };
}
